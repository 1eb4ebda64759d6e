-- mailstatus against the plain-SQL peer and the COPY limit, side by side in one run.
-- psql variables: events (traffic size), reps (runs per measure; the median is reported),
-- rollup_events (events both tables are grown to for the roll-up and one-record measures).
\set ON_ERROR_STOP on
\pset footer off
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS mailstatus;
CREATE EXTENSION IF NOT EXISTS pg_prewarm;
\ir traffic.sql
\ir peer.sql
SELECT bench.generate_traffic(:events);
SELECT (SELECT count(*) FROM bench.traffic) AS events,
       (SELECT count(*) FROM bench.batch) AS posts,
       (SELECT count(*) FILTER (WHERE copy = 2) FROM bench.batch) AS reposted_batches,
       pg_size_pretty((SELECT sum(octet_length(body)) FROM bench.batch)) AS bodies;

CREATE TABLE bench.timing (measure text, rep int, seconds float8);

-- Posts every batch as its own transaction, as a webhook handler would, and times it.
CREATE PROCEDURE bench.post_all(measure text, rep int) LANGUAGE plpgsql AS $$
DECLARE
  b record;
  started timestamptz;
  spent float8 := 0;
BEGIN
  IF measure = 'peer' THEN
    TRUNCATE bench.peer_event;
  ELSE
    TRUNCATE mailstatus.event, mailstatus.rejected_event;
  END IF;
  COMMIT;
  FOR b IN SELECT body FROM bench.batch ORDER BY batch_no, copy LOOP
    started := clock_timestamp();
    CASE measure
      WHEN 'mailstatus jsonb' THEN PERFORM mailstatus.ingest_sendgrid_event(b.body::jsonb);
      WHEN 'mailstatus raw body' THEN PERFORM mailstatus.ingest_sendgrid_webhook(b.body);
      WHEN 'peer' THEN PERFORM bench.peer_ingest(b.body::jsonb);
    END CASE;
    COMMIT;
    spent := spent + extract(epoch FROM clock_timestamp() - started);
  END LOOP;
  INSERT INTO bench.timing VALUES (measure, rep, spent);
  COMMIT;
END $$;

-- COPY of the rows mailstatus stored, already parsed, into a table with the same indexes.
CREATE PROCEDURE bench.copy_all(rep int, path text) LANGUAGE plpgsql AS $$
DECLARE
  started timestamptz;
BEGIN
  TRUNCATE bench.copy_event;
  COMMIT;
  started := clock_timestamp();
  EXECUTE format('COPY bench.copy_event FROM %L WITH (FORMAT binary)', path);
  COMMIT;
  INSERT INTO bench.timing VALUES ('COPY limit', rep, extract(epoch FROM clock_timestamp() - started));
  COMMIT;
END $$;

CREATE FUNCTION bench.median(measure_name text) RETURNS float8 LANGUAGE sql AS $$
  SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) FROM bench.timing WHERE measure = measure_name $$;

\echo == Ingest: every batch posted, each in its own transaction
SELECT current_setting('data_directory') || '/bench-events.bin' AS copy_path \gset
SELECT format('CALL bench.post_all(%L, %s)', m, r) FROM generate_series(1, :reps) r,
       unnest(ARRAY['peer', 'mailstatus jsonb', 'mailstatus raw body']) m ORDER BY r, m \gexec
-- The rows mailstatus stored, already parsed, for COPY.
COPY (SELECT * FROM mailstatus.event) TO :'copy_path' WITH (FORMAT binary);
SELECT format('CALL bench.copy_all(%s, %L)', r, :'copy_path') FROM generate_series(1, :reps) r \gexec

SELECT measure, round(bench.median(measure)::numeric, 3) AS median_seconds,
       round(((SELECT count(*) FROM bench.traffic) / bench.median(measure))::numeric) AS events_per_second,
       count(*) AS runs
  FROM bench.timing GROUP BY measure ORDER BY 2;
SELECT round((bench.median('mailstatus jsonb') / bench.median('peer'))::numeric, 2) AS "jsonb path / peer (target <= 0.55)",
       round((bench.median('mailstatus jsonb') / bench.median('COPY limit'))::numeric, 2) AS "jsonb path / COPY (target <= 1.25)",
       round((bench.median('mailstatus raw body') / bench.median('mailstatus jsonb'))::numeric, 2) AS "raw body / jsonb path (target <= 1.1)";

\echo == Same statuses: mailstatus and the peer, recipient by recipient
SELECT count(*) AS recipients,
       count(*) FILTER (WHERE m.status::text IS DISTINCT FROM p.status::text) AS statuses_differing
  FROM (SELECT message_id, email, mailstatus.mail_status_agg(mailstatus.effective_status(status, machine_open)) AS status
          FROM mailstatus.event GROUP BY 1, 2) m
  FULL JOIN (SELECT message_id, email, max(status) FILTER (WHERE NOT machine_open) AS status
               FROM bench.peer_event GROUP BY 1, 2) p USING (message_id, email);
VACUUM ANALYZE mailstatus.event, bench.peer_event;

\echo == Whole-table roll-up: how many recipients at each status, both tables grown to :rollup_events events
-- (The outer GROUP BY uses the aggregate's result: an unused one would be planned away.)
-- Copies of the stored events under other message ids, so both tables hold the same rows.
CREATE PROCEDURE bench.grow(target bigint) LANGUAGE plpgsql AS $$
DECLARE
  base bigint := (SELECT count(*) FROM mailstatus.event);
  copies int := greatest(0, ceil(target::float8 / base)::int - 1);
  tbl text;
  columns text := 'sg_event_id, sg_message_id, email, event, status, occurred_at, received_at, reason, smtp_status, '
                  'response, bounce_type, bounce_classification, url, useragent, ip, machine_open, attempt, '
                  'asm_group_id, category, custom_args, payload';
BEGIN
  FOR k IN 1..copies LOOP
    FOREACH tbl IN ARRAY ARRAY['mailstatus.event', 'bench.peer_event'] LOOP
      EXECUTE format($q$INSERT INTO %s (event_key, message_id, %s)
                        SELECT event_key || '/%s', message_id || '/%s', %s FROM %s WHERE event_key NOT LIKE '%%/%%'$q$,
                     tbl, columns, k, k, columns, tbl);
    END LOOP;
    COMMIT;
  END LOOP;
END $$;
CALL bench.grow(:rollup_events);
VACUUM ANALYZE mailstatus.event, bench.peer_event;
SELECT (SELECT count(*) FROM mailstatus.event) AS mailstatus_events, (SELECT count(*) FROM bench.peer_event) AS peer_events;
CREATE FUNCTION bench.time_query(query text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE started timestamptz := clock_timestamp();
BEGIN
  EXECUTE query;
  RETURN extract(epoch FROM clock_timestamp() - started);
END $$;
-- Times two queries side by side, alternating, reps times each, into bench.timing.
CREATE PROCEDURE bench.time_pair(measure_a text, query_a text, measure_b text, query_b text, reps int) LANGUAGE sql AS $$
  INSERT INTO bench.timing
  SELECT m.measure, r, bench.time_query(m.query)
    FROM generate_series(1, reps) r, (VALUES (measure_a, query_a), (measure_b, query_b)) m(measure, query) $$;
CALL bench.time_pair(
  'roll-up mail_status_agg', 'SELECT s, count(*) FROM (SELECT message_id, email, mailstatus.mail_status_agg(status) AS s FROM mailstatus.event GROUP BY 1, 2) r GROUP BY s',
  'roll-up peer max(enum)', 'SELECT s, count(*) FROM (SELECT message_id, email, max(status) AS s FROM bench.peer_event GROUP BY 1, 2) r GROUP BY s',
  :reps);
SELECT round(bench.median('roll-up mail_status_agg')::numeric, 3) AS mail_status_agg_seconds,
       round(bench.median('roll-up peer max(enum)')::numeric, 3) AS peer_max_enum_seconds,
       round((bench.median('roll-up mail_status_agg') / bench.median('roll-up peer max(enum)'))::numeric, 2) AS "mail_status_agg / max(enum) (target <= 0.8)";
CREATE FUNCTION bench.plan_lines(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN RETURN QUERY EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || query; END $$;
SELECT line AS "roll-up plan (parallel workers)" FROM bench.plan_lines(
  'SELECT s, count(*) FROM (SELECT message_id, email, mailstatus.mail_status_agg(status) AS s FROM mailstatus.event GROUP BY 1, 2) r GROUP BY s') line
 WHERE line ~ 'Workers|Partial|Gather';

\echo == Deliverability per day over the grown tables: deliverability_daily against the plain-SQL way
-- The peer counts distinct recipients per day with count(DISTINCT ...), as a CRM developer
-- would write it; both must give the same figures.
CREATE VIEW bench.peer_deliverability AS
SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day,
       count(DISTINCT (message_id, email)) FILTER (WHERE event = 'processed') AS sent,
       count(DISTINCT (message_id, email)) FILTER (WHERE event = 'delivered') AS delivered,
       count(DISTINCT (message_id, email)) FILTER (WHERE event = 'bounce' AND bounce_type IS DISTINCT FROM 'blocked') AS bounced,
       count(DISTINCT (message_id, email)) FILTER (WHERE event = 'bounce' AND bounce_type = 'blocked') AS blocked,
       count(DISTINCT (message_id, email)) FILTER (WHERE event = 'dropped') AS dropped,
       count(DISTINCT (message_id, email)) FILTER (WHERE event = 'deferred') AS deferred,
       count(DISTINCT (message_id, email)) FILTER (WHERE event = 'spamreport') AS spam_reports,
       count(DISTINCT (message_id, email)) FILTER (WHERE event = 'open' AND NOT machine_open) AS unique_human_opens,
       count(*) FILTER (WHERE event = 'open' AND machine_open) AS machine_opens,
       count(*) FILTER (WHERE event = 'click') AS clicks
  FROM bench.peer_event GROUP BY 1;
CALL bench.time_pair('deliverability mailstatus', 'SELECT * FROM mailstatus.deliverability_daily',
                     'deliverability peer', 'SELECT * FROM bench.peer_deliverability', :reps);
SELECT round(bench.median('deliverability mailstatus')::numeric, 3) AS deliverability_daily_seconds,
       round(bench.median('deliverability peer')::numeric, 3) AS peer_count_distinct_seconds,
       round((bench.median('deliverability mailstatus') / bench.median('deliverability peer'))::numeric, 2) AS "deliverability_daily / peer",
       (SELECT count(*) FROM (SELECT day, sent, delivered, bounced, blocked, dropped, deferred, spam_reports,
                                     unique_human_opens, machine_opens, clicks FROM mailstatus.deliverability_daily
                              EXCEPT SELECT * FROM bench.peer_deliverability) d) AS days_differing;

\echo == One CRM record: buffers touched
SELECT (SELECT message_id FROM mailstatus.event WHERE message_id <> '' ORDER BY event_key LIMIT 1) AS one_message \gset
SELECT (SELECT jsonb_build_object('crm_record', custom_args -> 'crm_record') FROM mailstatus.event WHERE message_id = :'one_message' LIMIT 1) AS one_record \gset
CREATE FUNCTION bench.buffers(query text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE plan json;
BEGIN
  EXECUTE 'EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ' || query INTO plan;
  RETURN (plan -> 0 -> 'Plan' ->> 'Shared Hit Blocks')::bigint + (plan -> 0 -> 'Plan' ->> 'Shared Read Blocks')::bigint;
END $$;
SELECT bench.buffers(format('SELECT * FROM mailstatus.recipient_status WHERE message_id = %L', :'one_message')) AS "buffers: one message (target <= ~20)",
       bench.buffers(format('SELECT * FROM mailstatus.recipient_status_for(%L)', :'one_record')) AS "buffers: one record by custom arg",
       (SELECT count(*) FROM mailstatus.event) AS events_stored;

\echo == Memory: one 50k-event body, and 10k repeated calls (20-event bodies, both paths)
SELECT pg_prewarm('bench.traffic') >= 0 AS prewarmed;
CREATE FUNCTION bench.proc_status_kb(field text) RETURNS bigint LANGUAGE sql AS $$
  SELECT (regexp_match(pg_read_file('/proc/self/status'), field || ':\s+(\d+)'))[1]::bigint $$;
SELECT '[' || string_agg(event::text, ',') || ']' AS big_body FROM (SELECT event FROM bench.traffic ORDER BY n LIMIT 50000) t \gset
TRUNCATE mailstatus.event;
SELECT bench.proc_status_kb('VmHWM') AS hwm_before \gset
SELECT stored FROM mailstatus.ingest_sendgrid_webhook(:'big_body');
SELECT round(octet_length(:'big_body') / 1048576.0, 1) AS body_mb,
       round((bench.proc_status_kb('VmHWM') - :hwm_before) / 1024.0, 1) AS peak_growth_mb,
       round((bench.proc_status_kb('VmHWM') - :hwm_before) * 1024.0 / octet_length(:'big_body'), 1) AS "peak growth / body size";
SELECT '[' || string_agg(event::text, ',') || ']' AS small_body FROM (SELECT event FROM bench.traffic ORDER BY n LIMIT 20) t \gset
SELECT bench.proc_status_kb('RssAnon') AS anon_before \gset
CREATE PROCEDURE bench.repeat_calls(body text, calls int) LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1..calls LOOP
    PERFORM mailstatus.ingest_sendgrid_webhook(body);
    PERFORM mailstatus.ingest_sendgrid_event(body::jsonb);
  END LOOP;
END $$;
CALL bench.repeat_calls(:'small_body', 100);
SELECT bench.proc_status_kb('RssAnon') AS anon_before \gset
CALL bench.repeat_calls(:'small_body', 5000);
SELECT bench.proc_status_kb('RssAnon') - :anon_before AS "private memory growth after 10k more calls (kB)";
