-- Least privilege: a webhook role that may only call the ingest functions, a reader role
-- that may only read the views, each able to do its job and nothing more.
SET search_path = mailstatus, public;
TRUNCATE event, rejected_event, send;

CREATE ROLE regress_webhook LOGIN;
CREATE ROLE regress_reader LOGIN;
CREATE ROLE regress_nobody LOGIN;
-- The recipes from the README.
GRANT USAGE ON SCHEMA mailstatus TO regress_webhook, regress_reader;
GRANT EXECUTE ON FUNCTION mailstatus.ingest_sendgrid_webhook(text, text, text),
                          mailstatus.ingest_sendgrid_event(jsonb),
                          mailstatus.record_send(text, text[], jsonb, timestamptz) TO regress_webhook;
GRANT SELECT ON mailstatus.recipient_status, mailstatus.message_status, mailstatus.deliverability_daily TO regress_reader;
GRANT EXECUTE ON FUNCTION mailstatus.recipient_status_for(jsonb),
                          mailstatus.deliverability_daily_by(text, timestamptz, timestamptz) TO regress_reader;

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
SELECT * FROM mailstatus.ingest_sendgrid_event('[{"email":"a@example.com","timestamp":1700000100,"event":"open","sg_event_id":"r2","sg_message_id":"R1.filter.0"}, 7]');
SELECT mailstatus.record_send('R2', ARRAY['b@example.com'], '{"crm_record":"INV-2"}', '2023-11-14 22:00+00');
-- ... and nothing more.
SELECT count(*) FROM mailstatus.event;
SELECT count(*) FROM mailstatus.rejected_event;
SELECT * FROM mailstatus.recipient_status;
DELETE FROM mailstatus.event;
UPDATE mailstatus.event SET status = 'dropped';
INSERT INTO mailstatus.event (event_key, email, event, occurred_at, payload) VALUES ('forged', 'x@example.com', 'delivered', now(), '{}');
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
-- Partition maintenance is the owner's.
SELECT mailstatus.create_event_partitions();
SELECT mailstatus.drop_event_partitions('2020-01-01');
SELECT count(*) FROM mailstatus.event;
SELECT count(*) FROM mailstatus.send;
SELECT * FROM mailstatus.ingest_sendgrid_event('[]');
SELECT * FROM mailstatus.ingest_sendgrid_webhook('[]');
SELECT mailstatus.record_send('R3', ARRAY['c@example.com']);
RESET ROLE;

-- A role with no grant can do none of it.
SET ROLE regress_nobody;
SELECT * FROM mailstatus.ingest_sendgrid_event('[]');
SELECT * FROM mailstatus.recipient_status;
SELECT * FROM mailstatus.deliverability_daily_by(NULL);
RESET ROLE;

-- Nothing the refused calls tried reached the tables.
SELECT event_key, email, status FROM mailstatus.event ORDER BY 1;

REVOKE ALL ON SCHEMA mailstatus FROM regress_webhook, regress_reader;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA mailstatus FROM regress_webhook, regress_reader;
REVOKE ALL ON ALL TABLES IN SCHEMA mailstatus FROM regress_webhook, regress_reader;
DROP ROLE regress_webhook, regress_reader, regress_nobody;
