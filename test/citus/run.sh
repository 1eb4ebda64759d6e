#!/usr/bin/env bash
# mailstatus on Citus: a coordinator and two workers on throwaway clusters (Unix sockets in
# WORKDIR), a third worker for the rebalance, and a single server without Citus to compare
# with; README's recipe and check.sql run on them, output compared with expected.out.
# Needs Citus built and installed for the same PostgreSQL (README, "Scale-out on Citus");
# run as the server's user, with PG_CONFIG set. Leaves nothing running.
#   run.sh WORKDIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${1:?usage: run.sh WORKDIR}
mkdir -p "$work"
work=$(cd "$work" && pwd)
bindir=$("${PG_CONFIG:-pg_config}" --bindir)
coordinator=5701
workers=(5702 5703)
new_worker=5704
single=5705
all=("$coordinator" "${workers[@]}" "$new_worker" "$single")

stop_all() {
  for port in "${all[@]}"; do
    if [ -f "$work/node$port/postmaster.pid" ]; then
      "$bindir/pg_ctl" -D "$work/node$port" -m immediate stop >/dev/null 2>&1 || true
    fi
  done
}
trap stop_all EXIT

# Starts a throwaway server on a Unix socket in $work; the Citus nodes with what Citus needs:
# wal_level = logical (shard moves copy with logical replication), prepared transactions
# (multi-shard writes commit in two phases), citus.local_hostname (the rebalancer's
# background workers connect to the coordinator through it), a short
# wal_retrieve_retry_interval (each shard move starts a subscription; the default makes each
# wait 5 s).
start_node() {
  local port=$1; shift
  rm -rf "$work/node$port"
  "$bindir/initdb" -D "$work/node$port" -A trust -U postgres --no-sync >/dev/null
  "$bindir/pg_ctl" -D "$work/node$port" -l "$work/node$port.log" -w \
    -o "-c listen_addresses='' -k $work -p $port -c fsync=off $*" start >/dev/null
}
citus_settings="-c shared_preload_libraries=citus -c wal_level=logical -c max_prepared_transactions=100
  -c citus.local_hostname=$work -c wal_retrieve_retry_interval=100ms"
for port in "$coordinator" "${workers[@]}" "$new_worker"; do
  start_node "$port" $citus_settings
  psql -X -q -h "$work" -p "$port" -U postgres -d postgres -c 'CREATE EXTENSION citus'
done
start_node "$single"
psql -X -q -h "$work" -p "$coordinator" -U postgres -d postgres \
  -c "SELECT citus_set_coordinator_host('$work', $coordinator)" \
  -c "SELECT citus_add_node('$work', ${workers[0]})" -c "SELECT citus_add_node('$work', ${workers[1]})" >/dev/null

psql -X -h "$work" -p "$coordinator" -U postgres -d postgres -a \
  -v single_node="host=$work port=$single dbname=postgres user=postgres" \
  -v coordinator="host=$work port=$coordinator dbname=postgres user=postgres" \
  -v work="$work" -v new_worker_port="$new_worker" -v traffic="$here/traffic.sql" \
  < "$here/check.sql" > "$work/check.out" 2>&1 || true
diff -u "$here/expected.out" "$work/check.out"
