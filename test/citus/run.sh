#!/usr/bin/env bash
# mailstatus on Citus: a coordinator and two workers on throwaway clusters (Unix sockets in
# WORKDIR), README's recipe and check.sql run on them, output compared with expected.out.
# Needs Citus built and installed for the same PostgreSQL (README, "Scale-out on Citus");
# run as the server's user, with PG_CONFIG set. Leaves nothing running.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${1:?usage: run.sh WORKDIR}
bindir=$("${PG_CONFIG:-pg_config}" --bindir)
ports=(5701 5702 5703)
mkdir -p "$work"
stop_all() {
  for port in "${ports[@]}"; do
    [ -f "$work/node$port/postmaster.pid" ] && "$bindir/pg_ctl" -D "$work/node$port" -m immediate stop >/dev/null 2>&1 || true
  done
}
trap stop_all EXIT
for port in "${ports[@]}"; do
  "$bindir/initdb" -D "$work/node$port" -A trust -U postgres --no-sync >/dev/null
  "$bindir/pg_ctl" -D "$work/node$port" -l "$work/node$port.log" -w \
    -o "-c listen_addresses='' -k $work -p $port -c fsync=off -c shared_preload_libraries=citus -c max_prepared_transactions=20" start >/dev/null
  psql -X -q -h "$work" -p "$port" -U postgres -d postgres -c 'CREATE EXTENSION citus'
done
psql -X -q -h "$work" -p "${ports[0]}" -U postgres -d postgres \
  -c "SELECT citus_set_coordinator_host('$work', ${ports[0]})" \
  -c "SELECT citus_add_node('$work', ${ports[1]})" -c "SELECT citus_add_node('$work', ${ports[2]})" >/dev/null
psql -X -h "$work" -p "${ports[0]}" -U postgres -d postgres -a < "$here/check.sql" > "$work/check.out" 2>&1 || true
diff -u "$here/expected.out" "$work/check.out"
