#!/usr/bin/env bash
# Ingest and reads on Citus (a coordinator and two workers) against a single server, side by
# side in one run on this machine, for the same webhook bodies; prints ratios, never
# absolute times. Not part of the pass/fail check (test/citus/run.sh is).
#   measure.sh WORKDIR [EVENTS] [EVENTS_PER_BODY] [READS]
# Defaults: 100000 events of bench/traffic.sql (realistic SendGrid traffic, ~2% of the
# bodies posted twice) in bodies of 500, posted one by one as the webhook handler does
# (ingest_sendgrid_webhook, one transaction each); then READS calls of is_suppressed(email)
# and of message_status for one message (pgbench, one client, random keys of the traffic).
# Citus is measured three times, from empty tables each time: 32 shards (citus.shard_count's
# default) with citus.max_cached_conns_per_worker at its default (1), then at 32; and 8 shards
# with 32 cached connections. The two sides take turns (ingest in ten slices of the bodies,
# reads in five rounds, the median kept), so that other load on the machine weighs on both
# alike. Run as the server's user, with PG_CONFIG set. Every server shares this machine's
# cores, so the ratio is Citus' overhead, not its scale-out.
# Needs pgbench and bc.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
work=${1:?usage: measure.sh WORKDIR [EVENTS] [EVENTS_PER_BODY] [READS]}
events=${2:-100000}
per_body=${3:-500}
reads=${4:-2000}
mkdir -p "$work"
work=$(cd "$work" && pwd)
bindir=$("${PG_CONFIG:-pg_config}" --bindir)
coordinator=5801
workers=(5802 5803)
single=5805
all=("$coordinator" "${workers[@]}" "$single")
# citus.max_cached_conns_per_worker:citus.shard_count
configs=(1:32 32:32 32:8)

stop_all() {
  for port in "${all[@]}"; do
    if [ -f "$work/node$port/postmaster.pid" ]; then
      "$bindir/pg_ctl" -D "$work/node$port" -m immediate stop >/dev/null 2>&1 || true
    fi
  done
}
trap stop_all EXIT

common="-c fsync=off -c shared_buffers=256MB -c max_wal_size=4GB -c checkpoint_timeout=30min"
start_node() {
  local port=$1; shift
  rm -rf "$work/node$port"
  "$bindir/initdb" -D "$work/node$port" -A trust -U postgres --no-sync >/dev/null
  "$bindir/pg_ctl" -D "$work/node$port" -l "$work/node$port.log" -w \
    -o "-c listen_addresses='' -k $work -p $port $common $*" start >/dev/null
}
on() { local port=$1; shift; psql -X -q -v ON_ERROR_STOP=1 -h "$work" -p "$port" -U postgres -d postgres "$@"; }

for port in "$coordinator" "${workers[@]}"; do
  start_node "$port" -c shared_preload_libraries=citus -c wal_level=logical -c max_prepared_transactions=100
  on "$port" -c 'CREATE EXTENSION citus'
done
start_node "$single"
on "$coordinator" -c "SELECT citus_set_coordinator_host('$work', $coordinator)" \
  -c "SELECT citus_add_node('$work', ${workers[0]})" -c "SELECT citus_add_node('$work', ${workers[1]})" >/dev/null

# The same traffic on both servers (bench/traffic.sql is deterministic), in bodies of
# $per_body events, from 2023-11-14 on.
for port in "$coordinator" "$single"; do
  on "$port" >/dev/null <<SQL
SET citus.enable_ddl_propagation = off;
SET client_min_messages = warning;
\i $src/bench/traffic.sql
SELECT bench.generate_traffic($events, 1, 7, 1700000000);
CREATE TABLE bench.body AS
SELECT (n - 1) / $per_body * 2 AS body_no, E'[\r\n' || string_agg(event::text, E',\r\n' ORDER BY n) || E'\r\n]\r\n' AS body
  FROM bench.traffic GROUP BY (n - 1) / $per_body;
-- As SendGrid retries: ~2% of the bodies posted again, right after.
INSERT INTO bench.body SELECT body_no + 1, body FROM bench.body WHERE bench.rnd(body_no, 7) < 0.02;
ALTER TABLE bench.body ADD COLUMN slice integer;
UPDATE bench.body b SET slice = s.slice FROM (SELECT body_no, ntile(10) OVER (ORDER BY body_no) AS slice FROM bench.body) s
 WHERE s.body_no = b.body_no;
SQL
done
bodies=$(on "$single" -At -c 'SELECT count(*) FROM bench.body')
posted=$(on "$single" -At -c 'SELECT count(*) FROM bench.traffic')

# A fresh extension; on the coordinator, README's recipe with $2 shards. Monthly partitions first.
setup() {
  local port=$1 shards=${2:-32}
  on "$port" >/dev/null <<'SQL'
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS mailstatus CASCADE;
CREATE EXTENSION mailstatus;
SELECT * FROM mailstatus.ingest_sendgrid_event('[{"email":"seed@example.com","timestamp":1700000000,"event":"processed","sg_event_id":"seed-1","sg_message_id":"Seed1.filter.0"},
  {"email":"seed@example.com","timestamp":1702000000,"event":"processed","sg_event_id":"seed-2","sg_message_id":"Seed2.filter.0"}]');
SELECT mailstatus.create_event_partitions(0);
SQL
  if [ "$port" = "$coordinator" ]; then
    on "$port" >/dev/null <<SQL
SET client_min_messages = warning;
SET citus.shard_count = $shards;
SELECT CASE l.placement
         WHEN 'distributed' THEN create_distributed_table(l.table_name, l.distribution_column,
                                                          colocate_with => COALESCE(l.colocate_with::text, 'default'))::text
         WHEN 'reference' THEN create_reference_table(l.table_name)::text END
  FROM mailstatus.citus_layout l ORDER BY l.step;
SELECT truncate_local_data_after_distributing_table(p.relid)
  FROM mailstatus.citus_layout l, pg_partition_tree(l.table_name) p
 WHERE l.placement <> 'coordinator' AND p.isleaf;
SQL
  fi
}

# Seconds to post the bodies of a slice, one statement (and transaction) each, from one session.
ingest() {
  local port=$1 slice=$2 start end
  start=$(date +%s.%N)
  on "$port" -At >/dev/null <<SQL
SELECT format('SELECT * FROM mailstatus.ingest_sendgrid_webhook(%L)', body) FROM bench.body WHERE slice = $slice ORDER BY body_no
\\gexec
SQL
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}

# Average latency (ms) of a pgbench script over $reads transactions, one client.
latency() {
  local port=$1 script=$2
  pgbench_out=$("$bindir/pgbench" -n -h "$work" -p "$port" -U postgres -t "$reads" -c 1 -f "$script" postgres 2>&1)
  echo "$pgbench_out" | sed -n 's/^latency average = \([0-9.]*\) ms$/\1/p'
}

recipients=$(on "$single" -At -c "SELECT greatest(1, ($events / 3.3)::int)")
cat > "$work/is_suppressed.sql" <<SQL
\set r random(1, $recipients)
SELECT mailstatus.is_suppressed('customer' || :r || '@example' || (:r % 97) || '.com');
SQL
cat > "$work/message_status.sql" <<SQL
\set m random(0, $recipients / 2)
SELECT * FROM mailstatus.message_status WHERE message_id = 'Msg' || md5('1:' || :m)::uuid;
SQL

# Checks that both servers hold the same statuses after an ingest.
same_state() {
  local digest="SELECT md5(string_agg(r::text, E'\n' ORDER BY r::text COLLATE \"C\")) FROM mailstatus.recipient_status r"
  [ "$(on "$coordinator" -At -c "$digest")" = "$(on "$single" -At -c "$digest")" ] && echo yes || echo NO
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

printf '\n%s events of bench/traffic.sql (%s bodies of %s, ingest_sendgrid_webhook, one transaction each);\n' \
  "$posted" "$bodies" "$per_body"
printf 'reads: %s pgbench transactions a round, one client, median of 5 rounds.\n' "$reads"
printf 'Citus %s, 2 workers and the coordinator on one machine with %s cores (load average %s).\n\n' \
  "$(on "$coordinator" -At -c "SELECT extversion FROM pg_extension WHERE extname = 'citus'")" "$(nproc)" \
  "$(cut -d' ' -f1 /proc/loadavg)"
printf '%-44s %8s %14s %15s %5s\n' 'Citus / single server' 'ingest' 'is_suppressed' 'message_status' 'same'
for config in "${configs[@]}"; do
  conns=${config%:*} shards=${config#*:}
  setup "$single"
  setup "$coordinator" "$shards"
  single_ingest=0 citus_ingest=0
  for slice in $(seq 1 10); do
    single_ingest=$(echo "$single_ingest + $(ingest "$single" "$slice")" | bc -l)
    citus_ingest=$(echo "$citus_ingest + $(PGOPTIONS="-c citus.max_cached_conns_per_worker=$conns" ingest "$coordinator" "$slice")" | bc -l)
  done
  on "$single" -c 'VACUUM ANALYZE' >/dev/null
  on "$coordinator" -c 'VACUUM ANALYZE' >/dev/null
  suppressed_ratios=() message_ratios=()
  for round in 1 2 3 4 5; do
    for script in is_suppressed message_status; do
      single_latency=$(latency "$single" "$work/$script.sql")
      citus_latency=$(PGOPTIONS="-c citus.max_cached_conns_per_worker=$conns" latency "$coordinator" "$work/$script.sql")
      ratio=$(echo "$citus_latency / $single_latency" | bc -l)
      if [ "$script" = is_suppressed ]; then suppressed_ratios+=("$ratio"); else message_ratios+=("$ratio"); fi
    done
  done
  printf '%-44s %7.1fx %13.1fx %14.1fx %5s\n' "max_cached_conns_per_worker=$conns, $shards shards" \
    "$(echo "$citus_ingest / $single_ingest" | bc -l)" \
    "$(printf '%s\n' "${suppressed_ratios[@]}" | median)" \
    "$(printf '%s\n' "${message_ratios[@]}" | median)" "$(same_state)"
done
