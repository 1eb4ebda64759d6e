-- Least privilege: a webhook role that may only call the ingest functions, a reader role
-- that may only read the views, a worker that reads status changes, each able to do its job
-- and nothing more; once signing is configured, nothing unsigned gets in.
SET search_path = mailstatus, public;
\i test/sql/include/helpers.psql
CALL pg_temp.empty_state();

CREATE ROLE regress_webhook LOGIN;
CREATE ROLE regress_reader LOGIN;
CREATE ROLE regress_worker LOGIN;
CREATE ROLE regress_nobody LOGIN;
-- The recipes from the README: the webhook role gets the signed raw-body path, never the
-- jsonb path (which cannot check a signature).
GRANT USAGE ON SCHEMA mailstatus TO regress_webhook, regress_reader, regress_worker;
GRANT EXECUTE ON FUNCTION mailstatus.ingest_sendgrid_webhook(text, text, text),
                          mailstatus.record_send(text, text[], jsonb, timestamptz) TO regress_webhook;
GRANT SELECT ON mailstatus.recipient_status, mailstatus.message_status, mailstatus.status_counts,
                mailstatus.suppression, mailstatus.deliverability_daily TO regress_reader;
GRANT EXECUTE ON FUNCTION mailstatus.recipient_status_for(jsonb), mailstatus.recipient_events(text, text),
                          mailstatus.is_suppressed(text, integer), mailstatus.suppressed_among(text[], integer),
                          mailstatus.deliverability_daily_by(text, timestamptz, timestamptz) TO regress_reader;
GRANT SELECT ON mailstatus.status_change TO regress_worker;

-- The entry points run as the owner with a fixed search_path.
SELECT p.oid::regprocedure, p.prosecdef, p.proconfig, p.proacl IS NOT NULL AS acl_set
  FROM pg_proc p WHERE p.pronamespace = 'mailstatus'::regnamespace AND p.prosecdef ORDER BY p.oid::regprocedure::text;
-- No SECURITY DEFINER function is callable by PUBLIC.
SELECT p.oid::regprocedure AS public_can_call_definer FROM pg_proc p
 WHERE p.pronamespace = 'mailstatus'::regnamespace AND p.prosecdef
   AND has_function_privilege('public', p.oid, 'EXECUTE');

-- The webhook role does its job.
SET ROLE regress_webhook;
SELECT * FROM mailstatus.ingest_sendgrid_webhook('[{"email":"a@example.com","timestamp":1700000000,"event":"delivered","sg_event_id":"r1","sg_message_id":"R1.filter.0","crm_record":"INV-1"}]');
SELECT * FROM mailstatus.ingest_sendgrid_webhook('[{"email":"a@example.com","timestamp":1700000100,"event":"open","sg_event_id":"r2","sg_message_id":"R1.filter.0"}, 7]');
SELECT mailstatus.record_send('R2', ARRAY['b@example.com'], '{"crm_record":"INV-2"}', '2023-11-14 22:00+00');
-- ... and nothing more.
SELECT count(*) FROM mailstatus.event;
SELECT count(*) FROM mailstatus.rejected_event;
SELECT * FROM mailstatus.ingest_sendgrid_event('[]'::jsonb);
SELECT * FROM mailstatus.ingest_sendgrid_event('[]'::text);
SELECT * FROM mailstatus.recipient_status;
SELECT * FROM mailstatus.status_change;
SELECT * FROM mailstatus.recipient;
SELECT * FROM mailstatus.recipient_events('R1', 'a@example.com');
SELECT * FROM mailstatus.suppressed_among(ARRAY['a@example.com']);
DELETE FROM mailstatus.event;
UPDATE mailstatus.event SET event = 'dropped';
INSERT INTO mailstatus.event (occurred_at, content_hash, email, event) VALUES (now(), 1, 'x@example.com', 'spamreport');
INSERT INTO mailstatus.suppression_state (email) VALUES ('victim@example.com');
SELECT mailstatus.merge_events(ARRAY[]::mailstatus.event[]);
SELECT mailstatus.lift_suppression('a@example.com');
SELECT * FROM mailstatus.state_differences();
SELECT public_key FROM mailstatus.webhook_key;
INSERT INTO mailstatus.webhook_key (public_key) VALUES ('MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEDRduy/RZMsiTQ7TlpV9nNsfG/mT7O3WkDi1KzFTodA5vIlukMko6Rxv958e/5UCXQXYCA86E0TaMtksPtRWybA==');
SET mailstatus.signature_tolerance = '7d';
CREATE FUNCTION mailstatus.mail_status_label(integer) RETURNS text LANGUAGE sql AS 'SELECT ''pwned''';
CREATE OR REPLACE FUNCTION mailstatus.normalize_email(text) RETURNS text LANGUAGE sql AS 'SELECT ''pwned''';
CREATE VIEW mailstatus.spy AS SELECT 1;
DROP VIEW mailstatus.recipient_status;
TRUNCATE mailstatus.event;
RESET ROLE;

-- The reader role reads statuses and nothing more.
SET ROLE regress_reader;
SELECT message_id, email, status_label FROM mailstatus.recipient_status ORDER BY 1, 2;
SELECT message_id, recipients, status_label FROM mailstatus.message_status ORDER BY 1;
SELECT message_id, email, status_label FROM mailstatus.recipient_status_for('{"crm_record":"INV-2"}');
SELECT day, sent, delivered FROM mailstatus.deliverability_daily;
SELECT day, value, delivered FROM mailstatus.deliverability_daily_by('crm_record');
SELECT status_label, recipients FROM mailstatus.status_counts ORDER BY status;
SELECT mailstatus.is_suppressed('a@example.com') AS a_suppressed;
SELECT * FROM mailstatus.suppression;
SELECT * FROM mailstatus.suppressed_among(ARRAY['a@example.com', 'b@example.com']);
SELECT occurred_at, source, event, status FROM mailstatus.recipient_events('R1', 'a@example.com');
SELECT mailstatus.lift_suppression('a@example.com');
SELECT mailstatus.track_status(true);
SELECT * FROM mailstatus.event_retention;
SELECT mailstatus.events_kept_since();
-- Partition maintenance is the owner's.
SELECT mailstatus.create_event_partitions();
SELECT mailstatus.drop_event_partitions('2020-01-01');
SELECT count(*) FROM mailstatus.event;
SELECT count(*) FROM mailstatus.send;
SELECT * FROM mailstatus.ingest_sendgrid_event('[]');
SELECT * FROM mailstatus.ingest_sendgrid_webhook('[]');
SELECT mailstatus.record_send('R3', ARRAY['c@example.com']);
RESET ROLE;

-- The worker reads the changes notifications point at (by id: the payload carries nothing else).
SET ROLE regress_worker;
SELECT row_number() OVER (ORDER BY id) AS change, message_id, email, old_status, new_status FROM mailstatus.status_change ORDER BY id;
SELECT * FROM mailstatus.recipient_status;
RESET ROLE;

-- A role with no grant can do none of it, and reads no change.
SET ROLE regress_nobody;
SELECT * FROM mailstatus.ingest_sendgrid_event('[]');
SELECT * FROM mailstatus.recipient_status;
SELECT * FROM mailstatus.recipient_events('R1', 'a@example.com');
SELECT * FROM mailstatus.suppressed_among(ARRAY['a@example.com']);
SELECT * FROM mailstatus.recipient_status_current;
SELECT * FROM mailstatus.deliverability_daily_by(NULL);
SELECT * FROM mailstatus.status_change;
RESET ROLE;

-- Nothing the refused calls tried reached the tables.
SELECT e.event_key, e.email, e.event FROM mailstatus.event e ORDER BY 1;

-- Once the owner configures signing, the unsigned paths refuse even a role granted them
-- (an older recipe granted the jsonb path), and so does an unsigned raw body: a forged spam
-- report cannot suppress a victim.
INSERT INTO mailstatus.webhook_key (public_key, label)
VALUES ('MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEDRduy/RZMsiTQ7TlpV9nNsfG/mT7O3WkDi1KzFTodA5vIlukMko6Rxv958e/5UCXQXYCA86E0TaMtksPtRWybA==', 'regress');
GRANT EXECUTE ON FUNCTION mailstatus.ingest_sendgrid_event(jsonb), mailstatus.ingest_sendgrid_event(text) TO regress_webhook;
SET ROLE regress_webhook;
\set VERBOSITY sqlstate
SELECT * FROM mailstatus.ingest_sendgrid_event('[{"email":"victim@example.com","timestamp":1700000200,"event":"spamreport","sg_event_id":"forged-1"}]'::jsonb);
SELECT * FROM mailstatus.ingest_sendgrid_event('[{"email":"victim@example.com","timestamp":1700000200,"event":"spamreport","sg_event_id":"forged-1"}]'::text);
SELECT * FROM mailstatus.ingest_sendgrid_webhook('[{"email":"victim@example.com","timestamp":1700000200,"event":"spamreport","sg_event_id":"forged-1"}]');
\set VERBOSITY default
RESET ROLE;
-- Every key retired (inactive) is not signing turned off: unsigned bodies are still refused.
UPDATE mailstatus.webhook_key SET active = false;
SET ROLE regress_webhook;
SELECT * FROM mailstatus.ingest_sendgrid_webhook('[{"email":"victim@example.com","timestamp":1700000200,"event":"spamreport","sg_event_id":"forged-1"}]');
RESET ROLE;
SELECT mailstatus.is_suppressed('victim@example.com') AS victim_suppressed;
-- The owner turns signing off by deleting the keys: unsigned bodies are taken again.
DELETE FROM mailstatus.webhook_key;
SET ROLE regress_webhook;
SELECT stored FROM mailstatus.ingest_sendgrid_event('[{"email":"a@example.com","timestamp":1700000300,"event":"click","sg_event_id":"r3","sg_message_id":"R1.filter.0"}]'::jsonb);
RESET ROLE;

REVOKE ALL ON SCHEMA mailstatus FROM regress_webhook, regress_reader, regress_worker;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA mailstatus FROM regress_webhook, regress_reader;
REVOKE ALL ON ALL TABLES IN SCHEMA mailstatus FROM regress_webhook, regress_reader, regress_worker;
DROP ROLE regress_webhook, regress_reader, regress_worker, regress_nobody;
