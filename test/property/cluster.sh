#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the property harness and the soak: a temp data
# directory, listening only on a Unix socket in that directory, on a free port; stopped and
# removed by cluster_stop (the callers trap it on exit). Sourced, not run:
#   . test/property/cluster.sh; cluster_start /path/to/pg_config; ...; cluster_stop
# As root, the server runs as the unprivileged postgres user.

# Runs a command as the user the server runs as.
cluster_as_server_user() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A TCP port nothing listens on (the socket is a file in the cluster's own directory, but
# the port also names its shared memory: a free one keeps clear of other clusters).
cluster_free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# cluster_start PG_CONFIG [server options...]: exports PGHOST, PGPORT, PGUSER, CLUSTER_DIR.
cluster_start() {
  local pg_config=$1; shift
  CLUSTER_BINDIR=$("$pg_config" --bindir)
  CLUSTER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mailstatus-cluster-XXXXXX")
  [ "$(id -u)" = 0 ] && chown postgres "$CLUSTER_DIR"
  local port; port=$(cluster_free_port)
  cluster_as_server_user "$CLUSTER_BINDIR/initdb" -D "$CLUSTER_DIR/data" -A trust -U postgres --no-sync >/dev/null
  cluster_as_server_user "$CLUSTER_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/server.log" -w \
    -o "-c listen_addresses='' -k $CLUSTER_DIR -p $port -c fsync=off -c max_connections=60 $*" start >/dev/null
  export PGHOST=$CLUSTER_DIR PGPORT=$port PGUSER=postgres CLUSTER_DIR
  unset PGDATABASE
}

# Stops the cluster (immediately: it is thrown away) and removes its directory.
cluster_stop() {
  if [ -n "${CLUSTER_DIR:-}" ] && [ -f "$CLUSTER_DIR/data/postmaster.pid" ]; then
    cluster_as_server_user "$CLUSTER_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  [ -n "${CLUSTER_DIR:-}" ] && [ -z "${KEEP_CLUSTER:-}" ] && rm -rf "$CLUSTER_DIR"
  CLUSTER_DIR=
}
