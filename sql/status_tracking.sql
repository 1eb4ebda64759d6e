-- recipient_status_current: kept equal to the recipient_status view by the statement triggers,
-- after any sequence of batches, re-posts, permutations and sends; off by default.
SET search_path = mailstatus, public;
TRUNCATE event, rejected_event, send;

-- Off by default: the triggers exist, disabled, and the table stays empty.
SELECT tgname, tgrelid::regclass, tgenabled FROM pg_trigger WHERE tgname = 'recipient_status_changed' ORDER BY tgrelid::regclass::text;
SELECT stored FROM ingest_sendgrid_event('[{"email":"pre@example.com","timestamp":1700000000,"event":"delivered","sg_event_id":"pre-1","sg_message_id":"Pre.filter.0"}]');
SELECT count(*) FROM recipient_status_current;
-- Turning it on fills the table from the view.
SELECT track_status(true) AS filled;
SELECT message_id, email, status FROM recipient_status_current;

CREATE TEMP TABLE fixture AS
SELECT g AS n, jsonb_strip_nulls(jsonb_build_object(
         'email', 'r' || (g % 3) || '@example.com',
         'timestamp', 1700000000 + (g * 37) % 500,
         'event', (ARRAY['processed','deferred','delivered','open','click','bounce','dropped','spamreport','unsubscribe','group_resubscribe'])[1 + (g * 7 + g / 60) % 10],
         'sg_event_id', CASE WHEN g % 17 = 0 THEN NULL ELSE 'evt-' || g END,
         'sg_message_id', CASE WHEN g % 23 = 0 THEN NULL ELSE 'Msg' || (g % 20) || '.filter' || (g % 3) || '.0' END,
         'sg_machine_open', CASE WHEN g % 11 = 0 THEN true END,
         'reason', 'reason ' || g,
         'record_id', 'REC-' || (g % 20))) AS body
  FROM generate_series(1, 300) g;

CREATE FUNCTION pg_temp.differences() RETURNS bigint LANGUAGE sql AS $$
  SELECT (SELECT count(*) FROM (SELECT * FROM mailstatus.recipient_status EXCEPT SELECT * FROM mailstatus.recipient_status_current) a)
       + (SELECT count(*) FROM (SELECT * FROM mailstatus.recipient_status_current EXCEPT SELECT * FROM mailstatus.recipient_status) b) $$;

CREATE FUNCTION pg_temp.post(order_sql text, batch_size int) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  batch jsonb;
  worst bigint := 0;
BEGIN
  FOR batch IN EXECUTE format(
      'SELECT jsonb_agg(body ORDER BY pos) FROM (SELECT body, row_number() OVER (ORDER BY %s) AS pos FROM fixture) o GROUP BY (pos - 1) / %s ORDER BY (pos - 1) / %s',
      order_sql, batch_size, batch_size)
  LOOP
    PERFORM mailstatus.ingest_sendgrid_event(batch);
    worst := greatest(worst, pg_temp.differences());
  END LOOP;
  RETURN worst;
END $$;

-- After every single batch, in several orders and batchings, and with everything re-posted.
SELECT pg_temp.post('md5(n::text)', 7) AS differences_shuffled;
SELECT pg_temp.post('n DESC', 50) AS differences_reposted_reversed;
TRUNCATE event, recipient_status_current;
SELECT pg_temp.post('(body->>''timestamp'')::bigint DESC, n', 1) AS differences_one_by_one;
SELECT count(*) AS recipients FROM recipient_status_current;
-- The CRM's sends count too.
SELECT record_send('New1', ARRAY['new@example.com'], '{"record_id":"REC-NEW"}', '2023-11-14 22:00+00');
SELECT record_send('Msg1', ARRAY['r1@example.com', 'late@example.com'], '{}', '2023-11-14 22:00+00');
SELECT pg_temp.differences() AS differences_after_sends;
SELECT message_id, email, status FROM recipient_status_current WHERE email IN ('new@example.com', 'late@example.com') ORDER BY 1, 2;

-- Turned off: the triggers are disabled and the table emptied.
SELECT track_status(false);
SELECT count(*) FROM recipient_status_current;
SELECT stored FROM ingest_sendgrid_event('[{"email":"post@example.com","timestamp":1700000000,"event":"delivered","sg_event_id":"post-1"}]');
SELECT count(*) FROM recipient_status_current;
SELECT tgname, tgrelid::regclass, tgenabled FROM pg_trigger WHERE tgname = 'recipient_status_changed' ORDER BY tgrelid::regclass::text;
