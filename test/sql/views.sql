-- The views the CRM reads: recipient_status, message_status, record_send, recipient_status_for.
SET search_path = mailstatus, public;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
\i test/sql/include/helpers.psql
CALL pg_temp.empty_state();

-- The CRM sends invoice 42 to two people and quote 7 to one; nothing has come back yet.
SELECT record_send('InvMsg42', ARRAY['Ann@Example.com', 'bob@example.com'], '{"invoice_id": "INV-42"}', '2023-11-14 22:13:00+00');
SELECT record_send('QuoteMsg7', ARRAY['cy@example.com'], '{"quote_id": "Q-7"}', '2023-11-14 22:13:01+00');
-- Recorded twice (a retrying CRM job): nothing new; NULL emails are skipped.
SELECT record_send('InvMsg42', ARRAY['ann@example.com', NULL], '{"invoice_id": "INV-42"}');
SELECT message_id, email, status, status_label, status_at, opens, clicks, custom_args FROM recipient_status ORDER BY 1, 2;
-- Without a time, the send is stamped now.
BEGIN;
SELECT record_send('NowMsg', ARRAY['now@example.com']);
SELECT sent_at = now() AS stamped_now, custom_args FROM send WHERE message_id = 'NowMsg';
ROLLBACK;

-- SendGrid's events arrive, out of order: the open before the delivery.
SELECT * FROM ingest_sendgrid_event($$[
  {"email": "ann@example.com", "timestamp": 1700000300, "event": "open", "sg_event_id": "v1", "sg_message_id": "InvMsg42.filter1.0", "invoice_id": "INV-42"},
  {"email": "ann@example.com", "timestamp": 1700000000, "event": "processed", "sg_event_id": "v2", "sg_message_id": "InvMsg42.filter1.0", "invoice_id": "INV-42"},
  {"email": "ann@example.com", "timestamp": 1700000060, "event": "delivered", "sg_event_id": "v3", "sg_message_id": "InvMsg42.filter1.0", "invoice_id": "INV-42"},
  {"email": "ann@example.com", "timestamp": 1700000500, "event": "open", "sg_event_id": "v4", "sg_message_id": "InvMsg42.filter1.0", "invoice_id": "INV-42"},
  {"email": "ann@example.com", "timestamp": 1700000200, "event": "open", "sg_event_id": "v5", "sg_message_id": "InvMsg42.filter1.0", "sg_machine_open": true, "invoice_id": "INV-42"},
  {"email": "bob@example.com", "timestamp": 1700000010, "event": "processed", "sg_event_id": "v6", "sg_message_id": "InvMsg42.filter1.1", "invoice_id": "INV-42"},
  {"email": "bob@example.com", "timestamp": 1700000020, "event": "deferred", "sg_event_id": "v7", "sg_message_id": "InvMsg42.filter1.1", "response": "451 mailbox busy", "invoice_id": "INV-42"},
  {"email": "cy@example.com", "timestamp": 1700000030, "event": "processed", "sg_event_id": "v8", "sg_message_id": "QuoteMsg7.recvd-abc-1.0", "quote_id": "Q-7"},
  {"email": "cy@example.com", "timestamp": 1700000040, "event": "bounce", "sg_event_id": "v9", "sg_message_id": "QuoteMsg7.recvd-abc-1.0", "type": "bounce", "reason": "550 5.1.1 no such user", "status": "5.1.1", "bounce_classification": "Invalid Address", "quote_id": "Q-7"},
  {"email": "cy@example.com", "timestamp": 1700000050, "event": "dropped", "sg_event_id": "v10", "sg_message_id": "QuoteMsg7.recvd-abc-1.0", "reason": "Bounced Address", "status": "5.0.0", "quote_id": "Q-7"},
  {"email": "cy@example.com", "timestamp": 1700000045, "event": "bounce", "sg_event_id": "v11", "reason": "async bounce, no message id", "status": "5.1.1"}
]$$);

-- The async bounce named no message: it is attributed to cy's latest send in the 72 hours before
-- it, visibly, so the CRM's record shows it; one with no such send stays under message ''.
SELECT e.sg_event_id, e.message_id, e.attributed_message_id FROM event e WHERE e.sg_event_id = 'v11';
SELECT * FROM ingest_sendgrid_event('[{"email": "cy@example.com", "timestamp": 1700400000, "event": "bounce", "sg_event_id": "v11b", "reason": "late async bounce"}]');
SELECT e.sg_event_id, e.message_id, e.attributed_message_id FROM event e WHERE e.sg_event_id = 'v11b';
-- Attribution uses the sends recorded when the bounce arrives (the CRM records a send as it
-- sends); the bounce keeps message_id '' in its dedup key, so a send recorded later for an
-- earlier time does not make the bounce, posted again, a new event.
SELECT record_send('LateRecorded', ARRAY['cy@example.com'], '{}', '2023-11-14 22:14:01+00');
SELECT stored, duplicates FROM ingest_sendgrid_event('[{"email": "cy@example.com", "timestamp": 1700000045, "event": "bounce", "sg_event_id": "v11", "reason": "async bounce, no message id", "status": "5.1.1"}]');
SELECT message_id, email, status, status_label, status_at, first_event_at, last_event_at
  FROM recipient_status ORDER BY 1, 2;
SELECT message_id, email, opens, machine_opens, clicks, reason, smtp_status, bounce_classification, custom_args
  FROM recipient_status ORDER BY 1, 2;
SELECT * FROM message_status ORDER BY message_id;

-- Machine opens raise a recipient to opened only when the setting says so.
SELECT * FROM ingest_sendgrid_event('[{"email": "bob@example.com", "timestamp": 1700000100, "event": "delivered", "sg_event_id": "v12", "sg_message_id": "InvMsg42.filter1.1"},
  {"email": "bob@example.com", "timestamp": 1700000110, "event": "open", "sg_event_id": "v13", "sg_message_id": "InvMsg42.filter1.1", "sg_machine_open": true}]');
SELECT email, status, status_at, opens, machine_opens FROM recipient_status WHERE message_id = 'InvMsg42' ORDER BY email;
SET mailstatus.count_machine_opens = on;
SELECT email, status, status_at, opens, machine_opens FROM recipient_status WHERE message_id = 'InvMsg42' ORDER BY email;
RESET mailstatus.count_machine_opens;
SELECT email, status FROM recipient_status WHERE message_id = 'InvMsg42' ORDER BY email;
-- The setting is a boolean, and the prefix is reserved.
SET mailstatus.count_machine_opens = 'maybe';
SET mailstatus.no_such_setting = on;

-- A click raises Ann to clicked, a spam report above that.
SELECT * FROM ingest_sendgrid_event('[{"email": "ann@example.com", "timestamp": 1700000600, "event": "click", "sg_event_id": "v14", "sg_message_id": "InvMsg42.filter1.0", "url": "https://crm.example/i/42"}]');
SELECT email, status_label, status_at, clicks FROM recipient_status WHERE message_id = 'InvMsg42' AND email = 'ann@example.com';
SELECT * FROM ingest_sendgrid_event('[{"email": "ann@example.com", "timestamp": 1700000700, "event": "spamreport", "sg_event_id": "v15", "sg_message_id": "InvMsg42.filter1.0"}]');
SELECT email, status_label, status_at FROM recipient_status WHERE message_id = 'InvMsg42' AND email = 'ann@example.com';

-- One CRM record's emails by custom arg, and what the plan touches.
SELECT message_id, email, status_label FROM recipient_status_for('{"invoice_id": "INV-42"}');
SELECT message_id, email, status_label FROM recipient_status_for('{"quote_id": "Q-7"}');
SELECT count(*) FROM recipient_status_for('{"quote_id": "nope"}');
-- One message's recipients: read from the recipient state by its primary key, no event read.
CREATE FUNCTION pg_temp.plan(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN RETURN QUERY EXECUTE 'EXPLAIN (COSTS OFF) ' || query; END $$;
SELECT bool_or(p ~ 'Index Scan using recipient_pkey|Bitmap Index Scan on recipient_pkey') AS by_primary_key,
       bool_or(p ~ 'event') AS reads_events, bool_or(p ~ 'Seq Scan') AS scans
  FROM pg_temp.plan($$SELECT * FROM recipient_status WHERE message_id = 'InvMsg42'$$) AS p;
SELECT bool_or(p ~ 'Index Scan using recipient_pkey|Bitmap Index Scan on recipient_pkey') AS by_primary_key,
       bool_or(p ~ 'event') AS reads_events, bool_or(p ~ 'Seq Scan') AS scans
  FROM pg_temp.plan($$SELECT * FROM message_status WHERE message_id = 'InvMsg42'$$) AS p;
-- One address's recipients, by the recipient state's index on email.
SELECT bool_or(p ~ 'recipient_email_idx') AS by_email_index, bool_or(p ~ 'Seq Scan') AS scans
  FROM pg_temp.plan($$SELECT * FROM recipient_status WHERE email = 'ann@example.com'$$) AS p;
-- Emails compare case-insensitively through normalize_email.
SELECT normalize_email('  Ann@Example.COM '), normalize_email('ÄNN@example.com'),
       normalize_email(E'\u00a0bob@example.com\u00a0'), normalize_email(E'bo\u200bb@example.com\ufeff');
SELECT status_label FROM recipient_status WHERE message_id = 'InvMsg42' AND email = normalize_email('ANN@EXAMPLE.COM');

-- An async bounce's custom args and attribution: SendGrid repeats the send's custom args on it
-- but names no message. It counts under the address's latest send within the 72 hours before
-- it (not a later send, not one 72 hours or more before): its custom args become that
-- recipient's latest and are found by recipient_status_for, and nothing of it is kept under
-- message ''. With no send in the window it stays under message ''.
SELECT record_send('Job8', ARRAY['dee@example.com'], '{"job_id": "J-8"}', '2023-11-14 19:00+00');
SELECT record_send('Job9', ARRAY['dee@example.com'], '{"job_id": "J-9"}', '2023-11-14 20:00+00');
SELECT record_send('Job10', ARRAY['dee@example.com'], '{"job_id": "J-10"}', '2023-11-14 23:00+00');
SELECT record_send('Edge71', ARRAY['edge71@example.com'], '{}', '2023-11-11 22:13:21+00');
SELECT record_send('Edge72', ARRAY['edge72@example.com'], '{}', '2023-11-11 22:13:20+00');
SELECT * FROM ingest_sendgrid_event($$[
  {"email": "dee@example.com", "timestamp": 1700000000, "event": "bounce", "sg_event_id": "v20", "reason": "mailbox full", "job_id": "J-9", "attempt_note": "async"},
  {"email": "edge71@example.com", "timestamp": 1700000000, "event": "bounce", "sg_event_id": "v21"},
  {"email": "edge72@example.com", "timestamp": 1700000000, "event": "bounce", "sg_event_id": "v22"}]$$);
SELECT e.sg_event_id, e.message_id, e.attributed_message_id, e.custom_args FROM event e WHERE e.sg_event_id IN ('v20', 'v21', 'v22') ORDER BY 1;
SELECT message_id, email, status, reason, custom_args FROM recipient_status
 WHERE email IN ('dee@example.com', 'edge71@example.com', 'edge72@example.com') ORDER BY 2, 1;
SELECT message_id, custom_args FROM recipient_custom_args WHERE message_id IN ('Job8', 'Job9', 'Job10', '') ORDER BY 1, 2::text;
SELECT message_id, email, status FROM recipient_status_for('{"attempt_note": "async"}');
SELECT count(*) AS differences FROM state_differences();

-- effective_status is one event's status as the views count it: the highest effective status
-- of a recipient's kept events and sends is its recipient_status.status, with machine opens
-- counted and without (a machine open that is not counted is NULL, ignored).
CREATE TEMP VIEW effective_differences AS
SELECT count(*) AS recipients, count(*) FILTER (WHERE r.status IS DISTINCT FROM c.status) AS differing
  FROM recipient_status r
  JOIN (SELECT x.message_id, x.email, mail_status_agg(x.status) AS status
          FROM (SELECT COALESCE(e.attributed_message_id, e.message_id) AS message_id, e.email,
                       effective_status(mail_status_of_event(e.event), COALESCE(e.machine_open, false)) AS status
                  FROM event e
                UNION ALL
                SELECT s.message_id, s.email, 'sent' FROM send s) AS x
         GROUP BY x.message_id, x.email) AS c USING (message_id, email);
SELECT count(*) AS machine_opens_kept FROM event WHERE machine_open;
SET mailstatus.count_machine_opens = on;
SELECT * FROM effective_differences;
RESET mailstatus.count_machine_opens;
SELECT * FROM effective_differences;
