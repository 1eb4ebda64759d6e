-- The views do not depend on arrival order: permutations and re-posts of the same events,
-- split into batches differently, give identical views.
SET search_path = mailstatus, public;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
TRUNCATE event, rejected_event, send;

-- 300 events over 20 messages, 3 recipients each, every kind of event, some without sg_event_id.
CREATE TEMP TABLE fixture AS
SELECT g AS n,
       jsonb_strip_nulls(jsonb_build_object(
         'email', 'r' || (g % 3) || '@example.com',
         'timestamp', 1700000000 + (g * 37) % 500,
         'event', (ARRAY['processed','deferred','delivered','open','click','bounce','dropped','spamreport','unsubscribe','group_resubscribe'])[1 + (g * 7 + g / 60) % 10],
         'sg_event_id', CASE WHEN g % 17 = 0 THEN NULL ELSE 'evt-' || g END,
         'sg_message_id', 'Msg' || (g % 20) || '.filter' || (g % 3) || '.0',
         'sg_machine_open', CASE WHEN g % 11 = 0 THEN true END,
         'reason', 'reason ' || g,
         'record_id', 'REC-' || (g % 20))) AS body
  FROM generate_series(1, 300) g;

CREATE TEMP TABLE snapshot (run text, recipients text, messages text);

CREATE FUNCTION pg_temp.ingest_in_order(run text, order_sql text, batch_size int) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  batch jsonb;
BEGIN
  TRUNCATE mailstatus.event;
  FOR batch IN EXECUTE format(
      'SELECT jsonb_agg(body ORDER BY pos) FROM (SELECT body, row_number() OVER (ORDER BY %s) AS pos FROM fixture) o GROUP BY (pos - 1) / %s ORDER BY (pos - 1) / %s',
      order_sql, batch_size, batch_size)
  LOOP
    PERFORM mailstatus.ingest_sendgrid_event(batch);
  END LOOP;
  INSERT INTO snapshot
  SELECT run,
         (SELECT md5(string_agg(r::text, '|' ORDER BY r.message_id, r.email)) FROM mailstatus.recipient_status r),
         (SELECT md5(string_agg(m::text, '|' ORDER BY m.message_id)) FROM mailstatus.message_status m);
END $$;

SELECT setseed(0.42);
SELECT pg_temp.ingest_in_order('posted order', 'n', 100);
SELECT pg_temp.ingest_in_order('reversed', 'n DESC', 100);
SELECT pg_temp.ingest_in_order('one batch, by time descending', '(body->>''timestamp'')::bigint DESC, n', 1000);
SELECT pg_temp.ingest_in_order('shuffled, small batches', 'md5(n::text)', 7);
SELECT pg_temp.ingest_in_order('shuffled again', 'md5(n::text || ''x'')', 33);
SELECT pg_temp.ingest_in_order('one event per call', 'md5(n::text || ''y'')', 1);

-- Every run gave the same views.
SELECT count(DISTINCT recipients) AS distinct_recipient_views, count(DISTINCT messages) AS distinct_message_views,
       count(*) AS runs FROM snapshot;

-- Re-posting everything, twice, in yet another order, changes nothing.
SELECT sum(stored) AS stored, sum(duplicates) AS duplicates
  FROM (SELECT (ingest_sendgrid_event(jsonb_agg(body ORDER BY md5(n::text || 'z')))).* FROM fixture
        UNION ALL
        SELECT (ingest_sendgrid_event(jsonb_agg(body ORDER BY n))).* FROM fixture) r;
SELECT (SELECT md5(string_agg(r::text, '|' ORDER BY r.message_id, r.email)) FROM recipient_status r)
       = (SELECT recipients FROM snapshot LIMIT 1) AS unchanged_after_reposts;

-- Sanity: the fixture really has several statuses, events without sg_event_id, and machine opens.
SELECT status, count(*) FROM recipient_status GROUP BY status ORDER BY status;
SELECT count(*) FILTER (WHERE sg_event_id IS NULL) AS hashed_keys,
       count(*) FILTER (WHERE machine_open) AS machine_opens, count(*) AS events FROM event;
