#!/usr/bin/env bash
# Load test: CLIENTS concurrent webhook posters for SECONDS, on the server in PGHOST/PGPORT.
# Each post is a random batch (so batches are retried, by one client or by several at once)
# that overlaps its neighbours by half, in another order. Reports posts/s and events/s, and
# fails unless:
#  - no transaction failed or was aborted: no deadlock, no unique violation, no other error
#    (pgbench's own counts, and the database's deadlock and rollback counters);
#  - the events stored are exactly the distinct events of the batches posted, each once;
#  - the state merged at ingest (recipients, suppressions, custom args, the deliverability
#    and status counters) is exactly its recomputation from those events:
#    mailstatus.state_differences() is empty, and it covers every recipient.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
clients=${1:-8}
seconds=${2:-15}
db=mailstatus_load
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
psql -X -q -d "$db" -v ON_ERROR_STOP=1 -f "$here/setup.sql"

# The database's error counters before the run (setup made none, but only the run's count).
db_counters() {
  psql -X -At -F ' ' -d postgres -c "SELECT deadlocks, xact_rollback FROM pg_stat_database WHERE datname = '$db'"
}
read -r deadlocks_before rollbacks_before < <(db_counters)

out=$(pgbench -n -d "$db" -c "$clients" -j 2 -T "$seconds" -f "$here/post.pgbench" --failures-detailed --verbose-errors 2>&1) ||
  { echo "$out"; echo "FAILED: pgbench exited with an error"; exit 1; }
echo "$out" | grep -E 'number of (transactions actually processed|failed transactions|deadlock failures|serialization failures)|tps'
if echo "$out" | grep -Eqi 'aborted|error|deadlock detected|duplicate key'; then
  echo "$out"; echo "FAILED: a client reported an error"; exit 1
fi
failed=$(echo "$out" | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p')
deadlock_failures=$(echo "$out" | sed -n 's/^number of deadlock failures: \([0-9]*\).*/\1/p')
[ -n "$failed" ] && [ -n "$deadlock_failures" ] || { echo "$out"; echo "FAILED: pgbench's failure counts are missing"; exit 1; }
[ "$failed" = 0 ] && [ "$deadlock_failures" = 0 ] ||
  { echo "$out"; echo "FAILED: $failed failed transactions, $deadlock_failures of them deadlocks"; exit 1; }

# The server's side: every session has ended (its statistics flushed), no deadlock was
# detected and no transaction rolled back in the load database.
for _ in $(seq 1 50); do
  [ "$(psql -X -At -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$db'")" = 0 ] && break
  sleep 0.2
done
psql -X -q -d postgres -c 'SELECT pg_stat_force_next_flush()' >/dev/null
read -r deadlocks_after rollbacks_after < <(db_counters)
deadlocks=$(( deadlocks_after - deadlocks_before ))
rollbacks=$(( rollbacks_after - rollbacks_before ))
echo "server: $deadlocks deadlocks detected, $rollbacks transactions rolled back"
[ "$deadlocks" = 0 ] && [ "$rollbacks" = 0 ] || { echo "FAILED: the server saw deadlocks or rollbacks"; exit 1; }

psql -X -d "$db" -v ON_ERROR_STOP=1 -At -F ' ' <<'SQL' | {
WITH posted AS (SELECT DISTINCT batch_no FROM load_posted),
     sent AS (SELECT count(*) AS posts FROM load_posted),
     expected AS (SELECT count(DISTINCT e ->> 'sg_event_id') AS events,
                         count(DISTINCT (split_part(e ->> 'sg_message_id', '.', 1), e ->> 'email')) AS recipients
                    FROM load_batch JOIN posted USING (batch_no), jsonb_array_elements(body::jsonb) e)
SELECT (SELECT posts FROM sent), (SELECT events FROM expected), (SELECT count(*) FROM mailstatus.event),
       (SELECT count(*) - count(DISTINCT mailstatus.event_key(e)) FROM mailstatus.event e),
       (SELECT recipients FROM expected), (SELECT count(*) FROM mailstatus.recipient),
       (SELECT sum(recipients) FROM mailstatus.status_counts),
       (SELECT count(*) FROM mailstatus.state_differences());
SQL
  read -r posts expected stored duplicated recipients_expected recipients counted differences
  echo "posts: $posts ($clients clients, ${seconds}s, $(( posts * 1000 / seconds )) events/s posted); distinct events sent: $expected; stored: $stored; stored twice: $duplicated"
  echo "recipients sent to: $recipients_expected; in the state: $recipients; in status_counts: $counted; state rows differing from their recomputation: $differences"
  [ "$posts" -gt 0 ] && [ "$expected" = "$stored" ] && [ "$duplicated" = 0 ] &&
    [ "$recipients_expected" = "$recipients" ] && [ "$recipients" = "$counted" ] && [ "$differences" = 0 ] ||
    { echo "FAILED: the events or the state are not what was posted"; exit 1; }
}
psql -X -q -d postgres -c "DROP DATABASE $db"
