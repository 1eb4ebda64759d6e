-- Every upgrade script, from the oldest version to the newest: events and statuses stored
-- under 0.1.0 survive ALTER EXTENSION ... UPDATE to 0.2.0 and then to 0.3.0 (whose event
-- table is partitioned and whose message id is never NULL), with the privileges granted on
-- what the update remakes, and status tracking left on; the new version's functions work on
-- the old data.
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
-- Fingerprints of the data, with 0.3.0's '' for "no message id" (NULL before).
CREATE FUNCTION pg_temp.fingerprint() RETURNS TABLE (events text, statuses text, messages text, rejects bigint)
LANGUAGE sql AS $$
  SELECT (SELECT md5(string_agg(concat_ws('|', e.event_key, e.sg_event_id, e.sg_message_id, COALESCE(e.message_id, ''), e.email,
                                          e.event, e.status, e.occurred_at, e.received_at, e.reason, e.custom_args, e.payload),
                                '/' ORDER BY e.event_key)) FROM mailstatus.event e),
         (SELECT md5(string_agg(concat_ws('|', COALESCE(r.message_id, ''), r.email, r.status, r.status_at, r.opens, r.clicks,
                                          r.reason, r.custom_args),
                                '/' ORDER BY COALESCE(r.message_id, ''), r.email)) FROM mailstatus.recipient_status r),
         (SELECT md5(string_agg(m::text, '/' ORDER BY m.message_id)) FROM mailstatus.message_status m),
         (SELECT count(*) FROM mailstatus.rejected_event) $$;
CREATE TEMP TABLE fingerprint_at AS SELECT '0.1.0'::text AS version, f.* FROM pg_temp.fingerprint() f;
-- Whether the data now is the data fingerprinted at a version.
CREATE FUNCTION pg_temp.survived(since text)
RETURNS TABLE (events_survived boolean, statuses_survived boolean, messages_survived boolean, rejects_survived boolean)
LANGUAGE sql AS $$
  SELECT f.events = o.events, f.statuses = o.statuses, f.messages = o.messages, f.rejects = o.rejects
    FROM pg_temp.fingerprint() f, fingerprint_at o WHERE o.version = since $$;

ALTER EXTENSION mailstatus UPDATE TO '0.2.0';
SELECT extversion FROM pg_extension WHERE extname = 'mailstatus';
SELECT * FROM pg_temp.survived('0.1.0');
-- 0.2.0 works on 0.1.0's data: re-posting through the raw-body path adds nothing.
SELECT * FROM mailstatus.ingest_sendgrid_webhook('[{"email":"ann@example.com","timestamp":1700000100,"event":"click","sg_event_id":"u2","sg_message_id":"U1.filter.0","crm_record":"U-1"}]');
-- A CRM at 0.2.0: status tracking on, a reader role with its grants.
SELECT mailstatus.track_status(true) AS tracked;
CREATE ROLE upgrade_reader;
GRANT USAGE ON SCHEMA mailstatus TO upgrade_reader;
GRANT SELECT ON mailstatus.recipient_status, mailstatus.message_status, mailstatus.event, mailstatus.deliverability_daily TO upgrade_reader;
GRANT EXECUTE ON FUNCTION mailstatus.recipient_status_for(jsonb), mailstatus.is_suppressed(text, integer),
                          mailstatus.record_send(text, text[], jsonb, timestamptz) TO upgrade_reader;
INSERT INTO fingerprint_at SELECT '0.2.0', f.* FROM pg_temp.fingerprint() f;

ALTER EXTENSION mailstatus UPDATE TO '0.3.0';
SELECT extversion FROM pg_extension WHERE extname = 'mailstatus';
SELECT * FROM pg_temp.survived('0.2.0');
-- The events are in the default partition, which belongs to the user, not to the extension.
SELECT tableoid::regclass AS partition, count(*) FROM mailstatus.event GROUP BY 1;
SELECT count(*) AS extension_members FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass AND objid = 'mailstatus.event_default'::regclass;
SELECT count(*) AS null_message_ids FROM mailstatus.event WHERE message_id IS NULL;
-- Tracking is still on, its table equal to the view; the grants were given back.
SELECT tgrelid::regclass, tgenabled FROM pg_trigger WHERE tgname = 'recipient_status_changed' ORDER BY tgrelid::regclass::text;
SELECT (SELECT count(*) FROM (SELECT * FROM mailstatus.recipient_status EXCEPT SELECT * FROM mailstatus.recipient_status_current) a)
     + (SELECT count(*) FROM (SELECT * FROM mailstatus.recipient_status_current EXCEPT SELECT * FROM mailstatus.recipient_status) b) AS differences;
SELECT has_table_privilege('upgrade_reader', 'mailstatus.recipient_status', 'SELECT') AS recipient_status,
       has_table_privilege('upgrade_reader', 'mailstatus.message_status', 'SELECT') AS message_status,
       has_table_privilege('upgrade_reader', 'mailstatus.event', 'SELECT') AS event,
       has_table_privilege('upgrade_reader', 'mailstatus.suppression', 'SELECT') AS suppression_never_granted,
       has_table_privilege('upgrade_reader', 'mailstatus.deliverability_daily', 'SELECT') AS deliverability_daily,
       has_function_privilege('upgrade_reader', 'mailstatus.deliverability_daily_by(text, timestamptz, timestamptz)', 'EXECUTE') AS deliverability_daily_by,
       has_function_privilege('upgrade_reader', 'mailstatus.recipient_status_for(jsonb)', 'EXECUTE') AS recipient_status_for,
       has_function_privilege('upgrade_reader', 'mailstatus.is_suppressed(text, integer)', 'EXECUTE') AS is_suppressed,
       has_function_privilege('upgrade_reader', 'mailstatus.record_send(text, text[], jsonb, timestamptz)', 'EXECUTE') AS record_send,
       has_function_privilege('upgrade_reader', 'mailstatus.track_status(boolean)', 'EXECUTE') AS track_status_never_granted;
-- 0.3.0 works on the old data: dedup across the conversion, monthly partitions, reading.
SELECT * FROM mailstatus.ingest_sendgrid_event('[{"email":"ann@example.com","timestamp":1700000100,"event":"click","sg_event_id":"u2","sg_message_id":"U1.filter.0","crm_record":"U-1"},
  {"email":"cy@example.com","timestamp":1700000060,"event":"unsubscribe"}]');
SELECT mailstatus.create_event_partitions(0) > 0 AS made;
SELECT tableoid::regclass AS partition, count(*) FROM mailstatus.event GROUP BY 1;
SET ROLE upgrade_reader;
SELECT message_id, email, status FROM mailstatus.recipient_status_for('{"crm_record":"U-1"}');
SELECT message_id, email, status FROM mailstatus.recipient_status ORDER BY 1, 2;
SELECT mailstatus.is_suppressed('CY@example.com');
SELECT day, delivered, bounced FROM mailstatus.deliverability_daily;
RESET ROLE;
-- The entry points of every version are SECURITY DEFINER with a fixed search_path.
SELECT p.oid::regprocedure, p.prosecdef FROM pg_proc p
 WHERE p.pronamespace = 'mailstatus'::regnamespace AND p.prosecdef ORDER BY p.oid::regprocedure::text;
DROP OWNED BY upgrade_reader;
DROP ROLE upgrade_reader;
