-- Every upgrade script, from the oldest version to the newest: events and statuses stored
-- under 0.1.0 survive ALTER EXTENSION ... UPDATE, and the new version's functions work on them.
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
DROP EXTENSION mailstatus CASCADE;
CREATE EXTENSION mailstatus VERSION '0.1.0';
SELECT extversion FROM pg_extension WHERE extname = 'mailstatus';
SELECT source, target, path FROM pg_extension_update_paths('mailstatus') WHERE path IS NOT NULL ORDER BY 1, 2;
-- 0.1.0 has no raw-body ingest yet.
SELECT count(*) AS webhook_functions FROM pg_proc WHERE proname = 'ingest_sendgrid_webhook';

SELECT mailstatus.record_send('U1', ARRAY['ann@example.com', 'bob@example.com'], '{"crm_record":"U-1"}', '2023-11-14 22:00+00');
SELECT * FROM mailstatus.ingest_sendgrid_event('[
  {"email":"ann@example.com","timestamp":1700000000,"event":"delivered","sg_event_id":"u1","sg_message_id":"U1.filter.0","crm_record":"U-1"},
  {"email":"ann@example.com","timestamp":1700000100,"event":"click","sg_event_id":"u2","sg_message_id":"U1.filter.0","crm_record":"U-1"},
  {"email":"bob@example.com","timestamp":1700000050,"event":"bounce","sg_event_id":"u3","sg_message_id":"U1.filter.1","reason":"550 gone"},
  {"email":"cy@example.com","timestamp":1700000060,"event":"unsubscribe"},
  "junk"]');
CREATE TEMP TABLE before_update AS
  SELECT (SELECT md5(string_agg(e::text, '|' ORDER BY e.event_key)) FROM mailstatus.event e) AS events,
         (SELECT md5(string_agg(r::text, '|' ORDER BY r.message_id, r.email)) FROM mailstatus.recipient_status r) AS statuses,
         (SELECT md5(string_agg(m::text, '|' ORDER BY m.message_id)) FROM mailstatus.message_status m) AS messages,
         (SELECT count(*) FROM mailstatus.rejected_event) AS rejects;

ALTER EXTENSION mailstatus UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'mailstatus';
SELECT (SELECT md5(string_agg(e::text, '|' ORDER BY e.event_key)) FROM mailstatus.event e) = events AS events_survived,
       (SELECT md5(string_agg(r::text, '|' ORDER BY r.message_id, r.email)) FROM mailstatus.recipient_status r) = statuses AS statuses_survived,
       (SELECT md5(string_agg(m::text, '|' ORDER BY m.message_id)) FROM mailstatus.message_status m) = messages AS messages_survived,
       (SELECT count(*) FROM mailstatus.rejected_event) = rejects AS rejects_survived
  FROM before_update;
-- The new version works on the old data: re-posting through the raw-body path adds nothing.
SELECT * FROM mailstatus.ingest_sendgrid_webhook('[{"email":"ann@example.com","timestamp":1700000100,"event":"click","sg_event_id":"u2","sg_message_id":"U1.filter.0","crm_record":"U-1"}]');
SELECT message_id, email, status FROM mailstatus.recipient_status_for('{"crm_record":"U-1"}');
-- The update made the entry points SECURITY DEFINER (least privilege, 0.2.0).
SELECT p.oid::regprocedure, p.prosecdef FROM pg_proc p
 WHERE p.pronamespace = 'mailstatus'::regnamespace AND p.prosecdef ORDER BY p.oid::regprocedure::text;
