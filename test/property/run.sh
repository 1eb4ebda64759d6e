#!/usr/bin/env bash
# The property harness (harness.py) on a throwaway cluster of the PostgreSQL that PG_CONFIG
# names (the machine's by default), where the extension must be installed (make install).
#   test/property/run.sh [harness.py options]     e.g. --seconds 120, or --seed N --examples 8
# make test runs it for a fixed budget (test/run), make soak SECONDS=N for as long as asked.
# Works as root (the server and the harness then run as the postgres user) or as that user.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/cluster.sh"
pg_config=${PG_CONFIG:-pg_config}
command -v "$pg_config" >/dev/null || { echo "no pg_config: set PG_CONFIG" >&2; exit 2; }
trap cluster_stop EXIT
trap 'exit 130' INT TERM HUP
# Deadlocks are failures: detect them soon. Enough connections for every client and oracle.
cluster_start "$pg_config" -c deadlock_timeout=100ms -c log_lock_waits=on
cd "$CLUSTER_DIR" || exit 1
cluster_as_server_user env PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" PYTHONDONTWRITEBYTECODE=1 \
  /usr/bin/python3 "$here/harness.py" "$@"
status=$?
if [ $status -ne 0 ] && grep -q 'deadlock detected' "$CLUSTER_DIR/server.log"; then
  echo "== the server's log of the deadlocks"
  grep -B2 -A8 'deadlock detected' "$CLUSTER_DIR/server.log" | head -80
fi
exit $status
