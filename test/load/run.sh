#!/usr/bin/env bash
# Load test: CLIENTS concurrent webhook posters for SECONDS, on the server in PGHOST/PGPORT.
# Reports posts/s and events/s, fails on any failed or aborted transaction, and checks that
# the events stored are exactly the distinct events of the batches posted.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
clients=${1:-8}
seconds=${2:-15}
db=mailstatus_load
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
psql -X -q -d "$db" -f "$here/setup.sql"
out=$(pgbench -n -d "$db" -c "$clients" -j 2 -T "$seconds" -f "$here/post.pgbench" --failures-detailed 2>&1) || { echo "$out"; exit 1; }
echo "$out" | grep -E 'number of (transactions actually processed|failed transactions)|tps'
if echo "$out" | grep -Eqi 'aborted|error'; then echo "$out"; exit 1; fi
failed=$(echo "$out" | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p')
[ "${failed:-0}" = 0 ] || { echo "$out"; exit 1; }
psql -X -d "$db" -v ON_ERROR_STOP=1 -At -F ' ' <<'SQL' | {
WITH posted AS (SELECT DISTINCT batch_no FROM load_posted),
     sent AS (SELECT count(*) AS posts FROM load_posted),
     expected AS (SELECT count(DISTINCT e ->> 'sg_event_id') AS events
                    FROM load_batch JOIN posted USING (batch_no), jsonb_array_elements(body::jsonb) e)
SELECT (SELECT posts FROM sent), (SELECT events FROM expected), (SELECT count(*) FROM mailstatus.event),
       (SELECT count(*) - count(DISTINCT event_key) FROM mailstatus.event);
SQL
  read -r posts expected stored duplicated
  echo "posts: $posts ($clients clients, ${seconds}s, $(( posts * 1000 / seconds )) events/s posted); distinct events sent: $expected; stored: $stored; stored twice: $duplicated"
  [ "$expected" = "$stored" ] && [ "$duplicated" = 0 ]
}
psql -X -q -d postgres -c "DROP DATABASE $db"
