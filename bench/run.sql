-- mailstatus against the plain-SQL peer and against COPY, side by side in one run; every
-- figure is a ratio of two measures taken here, never an absolute time.
-- psql variables: events (traffic size), reps (runs per measure; the median is reported),
-- scale_events (events the database is grown to for the reads at scale; 0 skips them).
\set ON_ERROR_STOP on
\pset footer off
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS mailstatus;
CREATE EXTENSION IF NOT EXISTS dblink;
\ir traffic.sql
\ir peer.sql
SELECT bench.generate_traffic(:events);
SELECT (SELECT count(*) FROM bench.traffic) AS events,
       (SELECT count(*) FROM bench.batch) AS posts,
       (SELECT count(*) FILTER (WHERE copy = 2) FROM bench.batch) AS reposted_batches,
       pg_size_pretty((SELECT sum(octet_length(body)) FROM bench.batch)) AS bodies,
       (SELECT round(avg(octet_length(event::text))) FROM bench.traffic) AS bytes_per_posted_event;

CREATE TABLE bench.timing (measure text, rep int, seconds float8);
CREATE FUNCTION bench.median(measure_name text) RETURNS float8 LANGUAGE sql AS $$
  SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) FROM bench.timing WHERE measure = measure_name $$;
CREATE FUNCTION bench.ratio(a text, b text) RETURNS numeric LANGUAGE sql AS $$
  SELECT round((bench.median(a) / NULLIF(bench.median(b), 0))::numeric, 2) $$;

-- Empties what a measure fills.
CREATE PROCEDURE bench.empty_mailstatus() LANGUAGE sql AS $$
  TRUNCATE mailstatus.event, mailstatus.rejected_event, mailstatus.send, mailstatus.recipient, mailstatus.suppression_state,
           mailstatus.group_suppression_state, mailstatus.recipient_custom_args, mailstatus.deliverability_day,
           mailstatus.deliverability_category_day, mailstatus.recipient_count_by_status, mailstatus.status_change,
           mailstatus.landed_event, mailstatus.landed_reject, mailstatus.landing_flush $$;

-- The merge of the state, switched off and on again for the "events only" measure (the
-- same ingest, the state left as it is): the ratio of the two is what the state costs.
-- (merge_events merges a direct post's events, merge_flushing_events a landing flush's.)
SELECT pg_get_functiondef('mailstatus.merge_events(mailstatus.event[])'::regprocedure) AS merge_events_definition,
       pg_get_functiondef('mailstatus.merge_flushing_events()'::regprocedure) AS merge_flushing_events_definition \gset
CREATE PROCEDURE bench.merge_state(enabled boolean, definitions text[]) LANGUAGE plpgsql AS $$
DECLARE
  definition text;
BEGIN
  IF enabled THEN
    FOREACH definition IN ARRAY definitions LOOP
      EXECUTE definition;
    END LOOP;
  ELSE
    CREATE OR REPLACE FUNCTION mailstatus.merge_events(events mailstatus.event[]) RETURNS void
      LANGUAGE plpgsql AS 'BEGIN END';
    CREATE OR REPLACE FUNCTION mailstatus.merge_flushing_events() RETURNS void
      LANGUAGE plpgsql AS 'BEGIN END';
  END IF;
END $$;

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
    CALL bench.empty_mailstatus();
  END IF;
  COMMIT;
  FOR b IN SELECT body FROM bench.batch ORDER BY batch_no, copy LOOP
    started := clock_timestamp();
    CASE measure
      WHEN 'mailstatus jsonb', 'mailstatus jsonb, events only' THEN PERFORM mailstatus.ingest_sendgrid_event(b.body::jsonb);
      WHEN 'mailstatus raw body' THEN PERFORM mailstatus.ingest_sendgrid_webhook(b.body);
      WHEN 'peer' THEN PERFORM bench.peer_ingest(b.body::jsonb);
    END CASE;
    COMMIT;
    spent := spent + extract(epoch FROM clock_timestamp() - started);
  END LOOP;
  -- In landing mode (mailstatus.ingest_mode), what the last posts left landed is flushed,
  -- timed too (in direct mode the flush finds nothing).
  IF measure <> 'peer' THEN
    started := clock_timestamp();
    PERFORM mailstatus.flush();
    COMMIT;
    spent := spent + extract(epoch FROM clock_timestamp() - started);
  END IF;
  INSERT INTO bench.timing VALUES (measure, rep, spent);
  COMMIT;
END $$;

-- COPY of already-parsed rows into a table emptied first: the floor.
CREATE PROCEDURE bench.copy_all(measure text, rep int, target text, path text) LANGUAGE plpgsql AS $$
DECLARE
  started timestamptz;
BEGIN
  EXECUTE format('TRUNCATE %s', target);
  COMMIT;
  started := clock_timestamp();
  EXECUTE format('COPY %s FROM %L WITH (FORMAT binary)', target, path);
  COMMIT;
  INSERT INTO bench.timing VALUES (measure, rep, extract(epoch FROM clock_timestamp() - started));
  COMMIT;
END $$;

\echo == Ingest: every batch posted, each in its own transaction
SELECT current_setting('data_directory') || '/bench-peer.bin' AS peer_rows,
       current_setting('data_directory') || '/bench-events.bin' AS mailstatus_rows \gset
-- Without the merge first (its rows are COPY's), then the three ways, alternating.
CALL bench.merge_state(false, NULL);
SELECT format('CALL bench.post_all(%L, %s)', 'mailstatus jsonb, events only', r) FROM generate_series(1, :reps) r \gexec
CALL bench.merge_state(true, ARRAY[:'merge_events_definition', :'merge_flushing_events_definition']);
COPY (SELECT * FROM mailstatus.event) TO :'mailstatus_rows' WITH (FORMAT binary);
SELECT format('CALL bench.post_all(%L, %s)', m, r) FROM generate_series(1, :reps) r,
       unnest(ARRAY['mailstatus jsonb', 'mailstatus raw body', 'peer']) m ORDER BY r, m \gexec
COPY (SELECT * FROM bench.peer_event) TO :'peer_rows' WITH (FORMAT binary);
-- (The same rows copied back: the state still matches them.)
SELECT format('CALL bench.copy_all(%L, %s, %L, %L)', m, r, t, p) FROM generate_series(1, :reps) r,
       (VALUES ('COPY into the peer''s table', 'bench.peer_event', :'peer_rows'),
               ('COPY into mailstatus.event', 'mailstatus.event', :'mailstatus_rows')) v(m, t, p) ORDER BY r, m \gexec

SELECT measure, round(bench.median(measure)::numeric, 3) AS median_seconds,
       round(((SELECT count(*) FROM bench.traffic) / bench.median(measure))::numeric) AS events_per_second,
       count(*) AS runs
  FROM bench.timing GROUP BY measure ORDER BY 2;
SELECT bench.ratio('mailstatus jsonb', 'peer') AS "ingest, state maintained / peer (target <= 1.0)",
       bench.ratio('mailstatus raw body', 'mailstatus jsonb') AS "raw body / jsonb path (target <= 1.1)",
       bench.ratio('mailstatus jsonb', 'mailstatus jsonb, events only') AS "with the state / without it",
       bench.ratio('mailstatus jsonb, events only', 'COPY into mailstatus.event') AS "events only / COPY of its rows",
       bench.ratio('peer', 'COPY into the peer''s table') AS "peer / COPY of its rows",
       bench.ratio('mailstatus jsonb', 'COPY into the peer''s table') AS "mailstatus / COPY into the peer's table";

\echo == Where the time goes: one ingest of the whole traffic, statement by statement
SELECT current_setting('shared_preload_libraries') ~ 'pg_stat_statements' AS profiling \gset
\if :profiling
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
CALL bench.empty_mailstatus();
SELECT pg_stat_statements_reset() IS NOT NULL AS reset;
SELECT count(*) > 0 AS posted FROM (SELECT mailstatus.ingest_sendgrid_event(body::jsonb) FROM bench.batch ORDER BY batch_no, copy) p;
SELECT round((100 * total_exec_time / sum(total_exec_time) OVER ())::numeric, 1) AS percent,
       calls, left(regexp_replace(query, '\s+', ' ', 'g'), 110) AS statement
  FROM pg_stat_statements
 WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND toplevel IS FALSE
 ORDER BY total_exec_time DESC LIMIT 12;
\else
\echo (pg_stat_statements is not preloaded: no profile)
\endif

\echo == Same answers: mailstatus and the peer, recipient by recipient and day by day
SELECT count(*) AS recipients,
       count(*) FILTER (WHERE m.status::text IS DISTINCT FROM p.status::text) AS statuses_differing
  FROM mailstatus.recipient_status m
  FULL JOIN bench.peer_recipient_status p USING (message_id, email);
SELECT count(*) AS days, count(*) FILTER (WHERE m IS NULL OR p IS NULL) AS days_differing
  FROM (SELECT day, sent, delivered, bounced, blocked, dropped, deferred, spam_reports, unique_human_opens,
               machine_opens, clicks FROM mailstatus.deliverability_daily) m
  FULL JOIN bench.peer_deliverability p USING (day, sent, delivered, bounced, blocked, dropped, deferred, spam_reports,
                                                  unique_human_opens, machine_opens, clicks);
SELECT count(*) AS state_differences FROM mailstatus.state_differences();

\echo == Bytes per event on disk (tables, indexes, TOAST; state amortized over the events)
VACUUM ANALYZE;
CREATE FUNCTION bench.bytes(relation regclass) RETURNS bigint LANGUAGE sql AS $$
  SELECT sum(pg_total_relation_size(t.relid))::bigint
    FROM (SELECT relation AS relid UNION SELECT p.relid FROM pg_partition_tree(relation) p) t $$;
SELECT (SELECT count(*) FROM mailstatus.event) AS mailstatus_events, (SELECT count(*) FROM bench.peer_event) AS peer_events \gset
SELECT t.name AS "table", round(bench.bytes(t.name::regclass)::numeric / :mailstatus_events, 1) AS bytes_per_event
  FROM unnest(ARRAY['mailstatus.event', 'mailstatus.recipient', 'mailstatus.suppression_state', 'mailstatus.group_suppression_state',
                    'mailstatus.recipient_custom_args', 'mailstatus.deliverability_day', 'mailstatus.deliverability_category_day',
                    'mailstatus.recipient_count_by_status', 'mailstatus.status_change', 'mailstatus.rejected_event']) AS t(name)
 ORDER BY 2 DESC;
SELECT round(bench.bytes('bench.peer_event')::numeric / :peer_events, 1) AS peer_bytes_per_event,
       round((SELECT sum(bench.bytes(c.oid)) FROM pg_class c
               WHERE c.relnamespace = 'mailstatus'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition)
             / :mailstatus_events, 1) AS mailstatus_bytes_per_event,
       round(bench.bytes('mailstatus.event')::numeric / :mailstatus_events, 1) AS mailstatus_event_table_bytes_per_event,
       round(((SELECT sum(bench.bytes(c.oid)) FROM pg_class c
                WHERE c.relnamespace = 'mailstatus'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition)
              / :mailstatus_events) / (bench.bytes('bench.peer_event')::numeric / :peer_events), 2) AS "mailstatus / peer, everything counted (target <= 0.6)",
       round((bench.bytes('mailstatus.event')::numeric / :mailstatus_events)
             / (bench.bytes('bench.peer_event')::numeric / :peer_events), 2) AS "event table / peer";

\echo == Memory: peak private memory of the ingesting backend, against the body it was given
-- Another backend (dblink) ingests; this one samples its /proc status until it is done.
CREATE TABLE bench.memory_body (name text PRIMARY KEY, body text, rejects bigint);
INSERT INTO bench.memory_body
SELECT 'events', '[' || string_agg(event::text, ',') || ']', 0
  FROM (SELECT event FROM bench.traffic ORDER BY n LIMIT least(100000, :events)) t;
INSERT INTO bench.memory_body VALUES ('2M {} rejected', '[' || repeat('{},', 1999999) || '{}]', 2000000);
-- A few events and a reject first, so that the caches a backend fills once (plans, catalogs)
-- are not counted.
INSERT INTO bench.memory_body
SELECT 'warm-up', jsonb_agg(jsonb_set(event, '{sg_message_id}', to_jsonb('WarmUp' || n || '.filter0.0')))::text, 0
  FROM (SELECT n, event FROM bench.traffic ORDER BY n LIMIT 20) t;
CREATE FUNCTION bench.peak_private_kb(call text, body text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  pid int;
  baseline bigint;
  peak bigint := 0;
BEGIN
  IF 'memory' = ANY (dblink_get_connections()) THEN
    PERFORM dblink_disconnect('memory');
  END IF;
  PERFORM dblink_connect('memory', format('dbname=%s host=%s port=%s', current_database(),
                                          split_part(current_setting('unix_socket_directories'), ',', 1),
                                          current_setting('port')));
  pid := (SELECT p FROM dblink('memory', 'SELECT pg_backend_pid()') AS t(p int));
  PERFORM * FROM dblink('memory', format(call, 'warm-up')) AS t(n bigint);
  PERFORM * FROM dblink('memory', format('SELECT count(*) FROM mailstatus.ingest_sendgrid_webhook(''[7]'')')) AS t(n bigint);
  baseline := (regexp_match(pg_read_file(format('/proc/%s/status', pid)), 'RssAnon:\s+(\d+)'))[1]::bigint;
  PERFORM dblink_send_query('memory', format(call, body));
  WHILE dblink_is_busy('memory') = 1 LOOP
    peak := greatest(peak, (regexp_match(pg_read_file(format('/proc/%s/status', pid)), 'RssAnon:\s+(\d+)'))[1]::bigint);
    PERFORM pg_sleep(0.001);
  END LOOP;
  PERFORM * FROM dblink_get_result('memory') AS t(n bigint);
  PERFORM dblink_disconnect('memory');
  RETURN greatest(peak - baseline, 0);
END $$;
CALL bench.empty_mailstatus();
SELECT m.name || ', ' || p.path AS measure, octet_length(m.body) / 1024 AS body_kb, k.peak_kb AS peak_growth_kb,
       round(k.peak_kb * 1024.0 / octet_length(m.body), 2) AS "peak / body (target <= 3)",
       CASE WHEN m.rejects > 0 THEN round(k.peak_kb * 1024.0 / m.rejects) END AS "bytes per reject (target <= 200)"
  FROM bench.memory_body m
 CROSS JOIN (VALUES ('raw body', 'mailstatus.ingest_sendgrid_webhook(b.body)'),
                    ('jsonb', 'mailstatus.ingest_sendgrid_event(b.body::jsonb)')) AS p(path, call)
 CROSS JOIN LATERAL (SELECT bench.peak_private_kb(format('SELECT count(*) FROM bench.memory_body b, %s WHERE b.name = %%L', p.call),
                                                  m.name) AS peak_kb) AS k
 WHERE m.name <> 'warm-up'
 ORDER BY m.name, p.path;

\if :{?scale_events}
\else
\set scale_events 0
\endif
SELECT :scale_events > 0 AS reads_at_scale \gset
\if :reads_at_scale
\ir reads.sql
\endif
