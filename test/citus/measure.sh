#!/usr/bin/env bash
# The work of ingest on Citus (a coordinator and two workers) against a single server, for
# the same webhook bodies: CPU seconds of every process of each cluster, never wall time
# (every server shares this machine's cores: wall time says nothing about scale-out, work
# does). Prints ratios only. Not part of the pass/fail check (test/citus/run.sh is).
#   measure.sh WORKDIR [EVENTS] [EVENTS_PER_BODY] [BODIES_PER_FLUSH] [READS]
# Defaults: 15000 events of bench/traffic.sql (realistic SendGrid traffic, ~2% of the bodies
# posted twice) in bodies of 500, posted one by one as the webhook handler does
# (ingest_sendgrid_webhook, each its own transaction, one session per server). In landing
# mode a flush runs after every BODIES_PER_FLUSH bodies (10: 5000 events, an interval's worth
# of posts) and after the last; posts never flush by themselves (mailstatus.flush_interval is
# a day), so the count of flushes is the same on every run. The first bodies
# (MEASURE_WARM_BODIES, 4) and, in landing mode, a flush come before the measure, in the same
# session: its caches and its connections to every shard are warm, as a long-lived handler's
# and flusher's are; what a new session's first flush costs is printed apart ("cold flush").
# Then READS calls of is_suppressed(email) and of message_status for one message (pgbench,
# one client, random keys of the traffic), CPU per call.
# A cluster's CPU: its postmaster's own and reaped children's (utime, stime, cutime, cstime in
# /proc/PID/stat) and every live child's, at the start and at the end of the measured part;
# "net" also takes off what the cluster spends idle (measured for MEASURE_IDLE_SECONDS before)
# for as long as the part took: Citus' maintenance daemons run whatever the load. Each
# configuration starts from empty tables; the states are compared after each.
# MEASURE_CONFIGS picks the Citus configurations (mode:shards:cached connections); MEASURE_RUNS
# measures each that many times (each run from empty tables, the single server measured again
# beside it), printing every run and the median and range of the ingest ratios: one run moves
# by ±20% or more on a shared machine.
# Run as the server's user, with PG_CONFIG set. Needs pgbench and bc.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
work=${1:?usage: measure.sh WORKDIR [EVENTS] [EVENTS_PER_BODY] [BODIES_PER_FLUSH] [READS]}
events=${2:-15000}
per_body=${3:-500}
per_flush=${4:-10}
reads=${5:-2000}
warm=${MEASURE_WARM_BODIES:-4}
idle=${MEASURE_IDLE_SECONDS:-15}
runs=${MEASURE_RUNS:-1}
mkdir -p "$work"
work=$(cd "$work" && pwd)
bindir=$("${PG_CONFIG:-pg_config}" --bindir)
coordinator=5801
workers=(5802 5803)
single=5805
all=("$coordinator" "${workers[@]}" "$single")
ticks=$(getconf CLK_TCK)
# Citus configurations measured: ingest mode : citus.shard_count : citus.max_cached_conns_per_worker
configs=(${MEASURE_CONFIGS:-landing:32:32 landing:8:32 direct:32:32})

stop_all() {
  for port in "${all[@]}"; do
    if [ -f "$work/node$port/postmaster.pid" ]; then
      "$bindir/pg_ctl" -D "$work/node$port" -m immediate stop >/dev/null 2>&1 || true
    fi
  done
}
trap stop_all EXIT

# MEASURE_SERVER_OPTIONS adds settings to every server (e.g. "-c autovacuum=off" to leave out
# what autovacuum does meanwhile: on 32 shards it analyzes 32 times as many tables).
common="-c fsync=off -c shared_buffers=256MB -c max_wal_size=4GB -c checkpoint_timeout=30min ${MEASURE_SERVER_OPTIONS:-}"
start_node() {
  local port=$1; shift
  rm -rf "$work/node$port"
  "$bindir/initdb" -D "$work/node$port" -A trust -U postgres --no-sync >/dev/null
  "$bindir/pg_ctl" -D "$work/node$port" -l "$work/node$port.log" -w \
    -o "-c listen_addresses='' -k $work -p $port $common $*" start >/dev/null
}
on() { local port=$1; shift; psql -X -q -v ON_ERROR_STOP=1 -h "$work" -p "$port" -U postgres -d postgres "$@"; }

# CPU ticks spent so far by a server: the postmaster (with its reaped children) and its live
# children. In /proc/PID/stat, after the command (which may hold spaces): the parent's pid is
# the 2nd field, utime the 12th, then stime, cutime, cstime.
cpu_ticks() {
  local pm
  pm=$(head -1 "$work/node$1/postmaster.pid")
  cat /proc/[0-9]*/stat 2>/dev/null | sed 's/^\([0-9]*\) .*) /\1 /' |
    awk -v pm="$pm" '$1 == pm || $3 == pm { total += $13 + $14 + $15 + $16 } END { print total + 0 }'
}
cluster_ticks() { local sum=0 port; for port in "$@"; do sum=$((sum + $(cpu_ticks "$port"))); done; echo "$sum"; }

for port in "$coordinator" "${workers[@]}"; do
  start_node "$port" -c shared_preload_libraries=citus -c wal_level=logical -c max_prepared_transactions=100
  on "$port" -c 'CREATE EXTENSION citus'
done
start_node "$single"
on "$coordinator" -c "SELECT citus_set_coordinator_host('$work', $coordinator)" \
  -c "SELECT citus_add_node('$work', ${workers[0]})" -c "SELECT citus_add_node('$work', ${workers[1]})" >/dev/null

# The same traffic on both servers (bench/traffic.sql is deterministic), in bodies of
# $per_body events, from 2023-11-14 on, in the schema bench (not distributed).
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
ALTER TABLE bench.body ADD COLUMN seq integer;
UPDATE bench.body b SET seq = s.seq
  FROM (SELECT body_no, row_number() OVER (ORDER BY body_no) AS seq FROM bench.body) s
 WHERE s.body_no = b.body_no;
SQL
done
bodies=$(on "$single" -At -c 'SELECT count(*) FROM bench.body')
posted=$(on "$single" -At -c 'SELECT count(*) FROM bench.traffic')

# A fresh extension (in landing mode, a first flush); on the coordinator, the recipe with
# $3 shards. Monthly partitions first.
setup() {
  local port=$1 mode=$2 shards=${3:-32}
  PGOPTIONS="-c mailstatus.ingest_mode=$mode" on "$port" >/dev/null <<'SQL'
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS mailstatus CASCADE;
CREATE EXTENSION mailstatus;
SELECT * FROM mailstatus.ingest_sendgrid_event('[{"email":"seed@example.com","timestamp":1700000000,"event":"processed","sg_event_id":"seed-1","sg_message_id":"Seed1.filter.0"},
  {"email":"seed@example.com","timestamp":1702000000,"event":"processed","sg_event_id":"seed-2","sg_message_id":"Seed2.filter.0"}]');
SELECT * FROM mailstatus.flush();
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
  on "$port" -c 'CHECKPOINT' >/dev/null
}

# Ticks of servers (by port), for psql's \! inside a session: "cluster coordinator time".
cat > "$work/ticks.sh" <<EOF
#!/usr/bin/env bash
total=0 first=
for port in "\$@"; do
  pm=\$(head -1 "$work/node\$port/postmaster.pid")
  t=\$(cat /proc/[0-9]*/stat 2>/dev/null | sed 's/^\\([0-9]*\\) .*) /\\1 /' |
      awk -v pm="\$pm" '\$1 == pm || \$3 == pm { total += \$13 + \$14 + \$15 + \$16 } END { print total + 0 }')
  total=\$((total + t)); first=\${first:-\$t}
done
echo "\$total \$first \$(date +%s.%N)"
EOF
chmod +x "$work/ticks.sh"

# Posts every body, one statement (and transaction) each, from one session (as a webhook
# handler's pooled connection; on Citus its connections to the workers are kept between
# statements); in landing mode a flush after every $per_flush bodies, and after the last.
# The first $warm bodies (and, in landing mode, a flush) come before the measure: the session
# and its connections to every shard warm, as a long-lived handler's and flusher's are (a
# new session's first flush opens every shard: cold_flush measures that apart). Writes the
# ticks at the start and at the end of the measured part to $work/window.
ingest() {
  local mode=$1; shift
  rm -f "$work/window"
  PGOPTIONS="-c mailstatus.ingest_mode=$mode -c mailstatus.flush_interval=86400 -c citus.max_cached_conns_per_worker=${conns:-1}" \
    on "$1" -At >/dev/null <<SQL
SELECT format('SELECT * FROM mailstatus.ingest_sendgrid_webhook(%L)', body)
       || CASE WHEN '$mode' = 'landing' AND seq = $warm THEN '; SELECT * FROM mailstatus.flush()' ELSE '' END
  FROM bench.body WHERE seq <= $warm ORDER BY body_no
\\gexec
\\! $work/ticks.sh $* >> $work/window
SELECT format('SELECT * FROM mailstatus.ingest_sendgrid_webhook(%L)', body)
       || CASE WHEN '$mode' = 'landing' AND ((seq - $warm) % $per_flush = 0 OR seq = $bodies) THEN '; SELECT * FROM mailstatus.flush()' ELSE '' END
  FROM bench.body WHERE seq > $warm ORDER BY body_no
\\gexec
\\! $work/ticks.sh $* >> $work/window
SQL
}

# CPU ticks a server spends idle (Citus' maintenance daemons, the deadlock detector, the
# stats and WAL writers), per second, over $idle seconds: "cluster coordinator".
idle_rate() {
  local a b
  a=$("$work/ticks.sh" "$@"); sleep "$idle"; b=$("$work/ticks.sh" "$@")
  awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); d = y[3] - x[3]; print (y[1] - x[1]) / d, (y[2] - x[2]) / d }'
}

# CPU ticks of a side for posting the measured bodies, and the same less what it spends idle
# for as long as that took (wall time serves only that): "ticks net coordinator_ticks
# coordinator_net". The single side passes just its port.
measure_ingest() {
  local mode=$1; shift
  local rate krate
  read -r rate krate <<<"$(idle_rate "$@")"
  ingest "$mode" "$@"
  awk -v r="$rate" -v k="$krate" 'NR == 1 { c = $1; f = $2; t = $3 } NR == 2 { d = $3 - t; print $1 - c, $1 - c - r * d, $2 - f, $2 - f - k * d }' "$work/window"
}

# CPU ticks (whole cluster) of a new session's first flush, after one more body landed: what
# opening every shard costs, once per session.
cold_flush() {
  local a b
  PGOPTIONS="-c mailstatus.ingest_mode=landing -c mailstatus.flush_interval=86400" on "$1" -At >/dev/null \
    -c "SELECT * FROM mailstatus.ingest_sendgrid_webhook((SELECT replace(body, '\"sg_event_id\": \"', '\"sg_event_id\": \"cold-') FROM bench.body WHERE seq = 1))"
  a=$("$work/ticks.sh" "$@")
  PGOPTIONS="-c citus.max_cached_conns_per_worker=${conns:-1}" on "$1" -At >/dev/null -c "SELECT * FROM mailstatus.flush()"
  b=$("$work/ticks.sh" "$@")
  awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); print y[1] - x[1] }'
}

# CPU ticks of a pgbench script of $reads calls, one client.
read_ticks() {
  local script=$1; shift
  local before after
  before=$(cluster_ticks "$@")
  "$bindir/pgbench" -n -h "$work" -p "$1" -U postgres -t "$reads" -c 1 -f "$script" postgres >/dev/null 2>&1
  after=$(cluster_ticks "$@")
  echo $((after - before))
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

# Whether both servers hold the same state after an ingest: every status, suppression,
# counter, and no difference from the recomputation.
same_state() {
  local digest="SELECT md5(string_agg(r::text, E'\n' ORDER BY r::text COLLATE \"C\")) FROM (
    SELECT ROW(r.*)::text AS r FROM mailstatus.recipient_status r UNION ALL SELECT ROW(s.*)::text FROM mailstatus.suppression s
    UNION ALL SELECT ROW(d.*)::text FROM mailstatus.deliverability_daily d UNION ALL SELECT ROW(c.*)::text FROM mailstatus.status_counts c
    UNION ALL SELECT ROW(x.*)::text FROM mailstatus.state_differences() x) AS r"
  [ "$(on "$coordinator" -At -c "$digest")" = "$(on "$single" -At -c "$digest")" ] && echo yes || echo NO
}

ratio() { echo "scale=2; ($1) / ($2)" | bc -l | sed 's/^\./0./'; }

measured=$(on "$single" -At -c "SELECT sum(json_array_length(body::json)) FROM bench.body WHERE seq > $warm")
printf '\n%s events of bench/traffic.sql in %s bodies of %s (ingest_sendgrid_webhook, each its own transaction);\n' \
  "$posted" "$bodies" "$per_body"
printf 'measured: the %s events posted after the first %s bodies (and, in landing mode, a flush) warmed the session.\n' \
  "$measured" "$warm"
printf 'landing mode: a flush every %s bodies and at the end. Reads: %s pgbench calls, one client.\n' "$per_flush" "$reads"
printf 'Citus %s, 2 workers and the coordinator on one machine with %s cores (load average %s); server options: %s.\n' \
  "$(on "$coordinator" -At -c "SELECT extversion FROM pg_extension WHERE extname = 'citus'")" "$(nproc)" \
  "$(cut -d' ' -f1 /proc/loadavg)" "${MEASURE_SERVER_OPTIONS:-none}"
printf '%s\n%s\n\n' 'CPU seconds of every process of each cluster, as ratios to the single server (direct mode); "cold flush": a new' \
  "session's first flush (one body), in events' worth of one server's direct ingest."

# One server: landing against direct.
setup "$single" direct
read -r direct_ticks direct_net _ _ <<<"$(measure_ingest direct "$single")"
setup "$single" landing
read -r landing_ticks landing_net _ _ <<<"$(measure_ingest landing "$single")"
printf '%-56s %8s %8s\n' '' 'CPU' 'net'
printf '%-56s %8s %8s\n' 'one server, landing / direct' "$(ratio "$landing_ticks" "$direct_ticks")" "$(ratio "$landing_net" "$direct_net")"
printf '%-56s %8s %8s\n' 'one server, direct, CPU seconds per 1000 events' \
  "$(ratio "$direct_ticks * 1000" "$ticks * $measured")" "$(ratio "$direct_net * 1000" "$ticks * $measured")"

printf '\nCitus / one server in direct mode, CPU per event ("net": less what each cluster spends idle in as long)\n'
printf '%-52s %8s %8s %12s %8s %14s %15s %5s %11s\n' '' 'cluster' 'net' 'coordinator' 'net' 'is_suppressed' 'message_status' 'same' 'cold flush'
# The median of some numbers, and their range: "median (min-max)".
median_range() {
  printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
                                              printf "%.2f (%.2f-%.2f)", m, v[1], v[NR] }'
}

for config in "${configs[@]}"; do
  IFS=: read -r mode shards conns <<<"$config"
  cluster_ratios=() coordinator_ratios=()
  for run in $(seq 1 "$runs"); do
    setup "$single" direct
    setup "$coordinator" "$mode" "$shards"
    read -r s s_net _ _ <<<"$(measure_ingest direct "$single")"
    read -r c c_net k k_net <<<"$(measure_ingest "$mode" "$coordinator" "${workers[@]}")"
    on "$single" -c 'VACUUM ANALYZE' >/dev/null
    on "$coordinator" -c 'VACUUM ANALYZE' >/dev/null
    sup_single=$(read_ticks "$work/is_suppressed.sql" "$single")
    sup_citus=$(PGOPTIONS="-c citus.max_cached_conns_per_worker=$conns" read_ticks "$work/is_suppressed.sql" "$coordinator" "${workers[@]}")
    msg_single=$(read_ticks "$work/message_status.sql" "$single")
    msg_citus=$(PGOPTIONS="-c citus.max_cached_conns_per_worker=$conns" read_ticks "$work/message_status.sql" "$coordinator" "${workers[@]}")
    same=$(same_state)
    # What a new session's first flush costs, in events' worth of one server's direct ingest.
    cold=""
    if [ "$mode" = landing ]; then cold=$(ratio "$(cold_flush "$coordinator" "${workers[@]}") * $measured" "$s"); fi
    cluster_ratios+=("$(ratio "$c" "$s")") coordinator_ratios+=("$(ratio "$k" "$s")")
    label="$mode, $shards shards, $conns cached connections"
    [ "$runs" = 1 ] || label="$label, run $run"
    printf '%-52s %8s %8s %12s %8s %14s %15s %5s %11s\n' "$label" \
      "$(ratio "$c" "$s")" "$(ratio "$c_net" "$s_net")" "$(ratio "$k" "$s")" "$(ratio "$k_net" "$s_net")" \
      "$(ratio "$sup_citus" "$sup_single")" "$(ratio "$msg_citus" "$msg_single")" "$same" "$cold"
  done
  if [ "$runs" -gt 1 ]; then
    printf '%-52s cluster %s, coordinator %s\n' "  median of $runs runs (range)" \
      "$(median_range "${cluster_ratios[@]}")" "$(median_range "${coordinator_ratios[@]}")"
  fi
done
