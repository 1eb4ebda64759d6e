-- The update to 0.5.0 keeps the custom args per recipient (issue 19: per message, what
-- forget_recipients left depended on when the message's other recipients arrived). A 0.4.0
-- row goes to the recipients whose kept events or sends carried it, as 0.5.0 stores it; a row
-- no kept event or send explains (retention dropped them) to every recipient of its message,
-- so lookups find what they found before; what only recipients forgotten already had brought
-- goes, as 0.5.0's forget_recipients would have left it.
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS mailstatus CASCADE;
RESET client_min_messages;
CREATE EXTENSION mailstatus VERSION '0.4.0';
SET search_path = mailstatus, public;

-- OCT1: two recipients sent in October with {"job": "J-oct"}, opened in November (no custom
-- args); retention drops October's events.
SELECT stored FROM ingest_sendgrid_event('[
  {"email":"o1@example.com","timestamp":1696204800,"event":"delivered","sg_event_id":"u1","sg_message_id":"OCT1.filter.0","job":"J-oct"},
  {"email":"o2@example.com","timestamp":1696204800,"event":"delivered","sg_event_id":"u2","sg_message_id":"OCT1.filter.0","job":"J-oct"},
  {"email":"o1@example.com","timestamp":1700006400,"event":"open","sg_event_id":"u3","sg_message_id":"OCT1.filter.0"},
  {"email":"o2@example.com","timestamp":1700006400,"event":"open","sg_event_id":"u4","sg_message_id":"OCT1.filter.0"}]');
SELECT drop_event_partitions('2023-11-01 00:00+00') >= 0 AS dropped;
-- NOV1: a@ with J-1, then J-2; b@ with J-1 and a later event; c@ recorded sent with J-3.
SELECT stored FROM ingest_sendgrid_event('[
  {"email":"a@example.com","timestamp":1699963200,"event":"delivered","sg_event_id":"u5","sg_message_id":"NOV1.filter.0","job":"J-1"},
  {"email":"a@example.com","timestamp":1699963300,"event":"open","sg_event_id":"u6","sg_message_id":"NOV1.filter.0","job":"J-2"},
  {"email":"b@example.com","timestamp":1699963200,"event":"delivered","sg_event_id":"u7","sg_message_id":"NOV1.filter.0","job":"J-1"},
  {"email":"b@example.com","timestamp":1700438400,"event":"open","sg_event_id":"u8","sg_message_id":"NOV1.filter.0"}]');
SELECT record_send('NOV1', ARRAY['c@example.com'], '{"job": "J-3"}', '2023-11-14 10:00+00');
-- GONE1: g@ with J-g, forgotten; h@ with J-h, kept (0.4.0 kept J-g for the message).
SELECT stored FROM ingest_sendgrid_event('[
  {"email":"g@example.com","timestamp":1698883200,"event":"delivered","sg_event_id":"u9","sg_message_id":"GONE1.filter.0","job":"J-g"},
  {"email":"h@example.com","timestamp":1700438400,"event":"delivered","sg_event_id":"u10","sg_message_id":"GONE1.filter.0","job":"J-h"}]');
SELECT forget_recipients('2023-11-05 00:00+00') AS forgotten;

CREATE FUNCTION pg_temp.lookups() RETURNS TABLE (job text, found text) LANGUAGE sql AS $$
  SELECT j, (SELECT string_agg(f.message_id || ' ' || f.email, ', ' ORDER BY f.message_id, f.email)
               FROM mailstatus.recipient_status_for(jsonb_build_object('job', j)) f)
    FROM unnest(ARRAY['J-oct', 'J-1', 'J-2', 'J-3', 'J-g', 'J-h']) AS j $$;
CREATE TEMP TABLE lookups_before AS SELECT * FROM pg_temp.lookups();
SELECT message_id, custom_args FROM message_custom_args ORDER BY 1, 2::text;

ALTER EXTENSION mailstatus UPDATE TO '0.5.0';
SELECT to_regclass('mailstatus.message_custom_args') AS old_name, to_regclass('mailstatus.recipient_custom_args') AS new_name;
-- Each value with the recipients that carried it; J-oct, which no kept event explains, with
-- both recipients of OCT1; J-g gone with g@.
SELECT message_id, email, custom_args FROM recipient_custom_args ORDER BY 1, 2, 3::text;
SELECT b.job, b.found AS before, a.found AS after
  FROM lookups_before b JOIN pg_temp.lookups() a USING (job) ORDER BY 1;
SELECT * FROM state_differences();
-- Equal to what 0.5.0 stores from the same kept events and sends: every row but J-oct's (whose
-- events are dropped) is one the recomputation gives.
SELECT message_id, email, custom_args FROM recipient_custom_args
EXCEPT SELECT message_id, email, custom_args FROM recomputed_recipient_custom_args
ORDER BY 1, 2;
-- After the update, forget_recipients forgets each recipient's own: a@ (J-1, J-2), c@ (J-3)
-- and OCT1's recipients (J-oct) go; b@ keeps J-1 for NOV1.
SELECT forget_recipients('2023-11-18 00:00+00') AS forgotten;
SELECT job, found FROM pg_temp.lookups() ORDER BY 1;
SELECT message_id, email, custom_args FROM recipient_custom_args ORDER BY 1, 2, 3::text;
SELECT * FROM state_differences();
