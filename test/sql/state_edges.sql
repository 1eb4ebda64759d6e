-- The state at its edges: a recipient whose categories grow in a later post; the old status
-- the change log records under each setting of mailstatus.count_machine_opens, and the time
-- recipient_status shows; an async bounce's attribution (the latest send) and its custom args;
-- forget_recipients' exact cut-off and the recipients without a status it forgets; the day
-- boundaries of deliverability in time zones other than UTC; mail_status_agg read from an index;
-- counts_at_least, the check state_differences makes of a day partly before the kept window.
SET search_path = mailstatus, public;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
TRUNCATE event, rejected_event, send, recipient, suppression_state, group_suppression_state, recipient_custom_args,
         deliverability_day, deliverability_category_day, recipient_count_by_status, status_change, recipient_retention;

-- Categories that grow: the category new to the recipient counts its whole activity (the
-- delivery of the first post too), the one it had only what the post added.
SELECT stored FROM ingest_sendgrid_event('[{"email":"g@example.com","timestamp":1700000000,"event":"delivered","sg_event_id":"g1","sg_message_id":"G1.filter.0","category":"invoice"}]');
SELECT stored FROM ingest_sendgrid_event('[{"email":"g@example.com","timestamp":1700000100,"event":"open","sg_event_id":"g2","sg_message_id":"G1.filter.0","category":["invoice","north"]}]');
SELECT stored FROM ingest_sendgrid_event('[{"email":"g@example.com","timestamp":1700000200,"event":"click","sg_event_id":"g3","sg_message_id":"G1.filter.0","category":"south"}]');
SELECT categories FROM recipient WHERE email = 'g@example.com';
SELECT day, value, delivered, unique_human_opens, clicks FROM deliverability_daily_by('category') ORDER BY 1, 2;
SELECT * FROM state_differences();

-- The change log's old status is the one the session's setting shows: a machine open between
-- a delivery and a click changes nothing while machine opens are not counted...
SELECT stored FROM ingest_sendgrid_event('[{"email":"h@example.com","timestamp":1700000000,"event":"delivered","sg_event_id":"h1","sg_message_id":"H1.filter.0"}]');
SELECT stored FROM ingest_sendgrid_event('[{"email":"h@example.com","timestamp":1700000050,"event":"open","sg_machine_open":true,"sg_event_id":"h2","sg_message_id":"H1.filter.0"}]');
SELECT stored FROM ingest_sendgrid_event('[{"email":"h@example.com","timestamp":1700000100,"event":"click","sg_event_id":"h3","sg_message_id":"H1.filter.0"}]');
-- ... and raises to opened where they are.
SET mailstatus.count_machine_opens = on;
SELECT stored FROM ingest_sendgrid_event('[{"email":"m@example.com","timestamp":1700000000,"event":"delivered","sg_event_id":"m1","sg_message_id":"H1.filter.1"}]');
SELECT stored FROM ingest_sendgrid_event('[{"email":"m@example.com","timestamp":1700000050,"event":"open","sg_machine_open":true,"sg_event_id":"m2","sg_message_id":"H1.filter.1"}]');
SELECT stored FROM ingest_sendgrid_event('[{"email":"m@example.com","timestamp":1700000100,"event":"click","sg_event_id":"m3","sg_message_id":"H1.filter.1"}]');
RESET mailstatus.count_machine_opens;
SELECT email, old_status, new_status, status_at FROM status_change WHERE message_id = 'H1' ORDER BY id;

-- recipient_status: the status and its time as the session's setting counts machine opens.
SELECT stored FROM ingest_sendgrid_event('[{"email":"t@example.com","timestamp":1700000000,"event":"delivered","sg_event_id":"t1","sg_message_id":"T1.filter.0"},
  {"email":"t@example.com","timestamp":1700000500,"event":"open","sg_machine_open":true,"sg_event_id":"t2","sg_message_id":"T1.filter.0"}]');
SELECT status, status_at FROM recipient_status WHERE message_id = 'T1';
SET mailstatus.count_machine_opens = on;
SELECT status, status_at FROM recipient_status WHERE message_id = 'T1';
RESET mailstatus.count_machine_opens;

-- An async bounce naming no message belongs to the address's latest send of the 72 hours
-- before it; its custom args are found with that message.
SELECT record_send('AB1', ARRAY['ab@example.com'], '{"crm_record":"X-1"}', '2023-11-14 10:00+00');
SELECT record_send('AB2', ARRAY['ab@example.com'], '{"crm_record":"X-2"}', '2023-11-14 12:00+00');
SELECT stored FROM ingest_sendgrid_event('[{"email":"ab@example.com","timestamp":1699966800,"event":"bounce","type":"bounce","sg_event_id":"ab1","sg_message_id":"","reason":"550 gone","crm_case":"C-9"}]');
SELECT message_id, attributed_message_id FROM event WHERE sg_event_id = 'ab1';
SELECT message_id, email, status, custom_args FROM recipient_status_for('{"crm_case":"C-9"}');
SELECT message_id, email, status FROM recipient_status_for('{"crm_record":"X-1"}');
SELECT * FROM state_differences();

-- Days are UTC days in every session time zone: since 01:00 UTC on the 15th is the 15th,
-- though it is still the 14th in St. John's.
SET timezone = 'America/St_Johns';
SELECT day, delivered FROM deliverability_daily_by(NULL, '2023-11-15 01:00+00') ORDER BY day;
SELECT day, delivered FROM deliverability_daily_by(NULL, NULL, '2023-11-14 23:00+00') ORDER BY day;
SET timezone = 'Pacific/Kiritimati';
SELECT day, delivered FROM deliverability_daily_by(NULL, '2023-11-14 23:00+00') ORDER BY day;
SET timezone = 'UTC';

-- forget_recipients forgets what is older than its cut-off, not what is at it; a recipient
-- without a status (machine opens only, not counted) leaves the roll-up too; the day of the
-- cut-off, which still counts it, is not compared.
SELECT stored FROM ingest_sendgrid_event('[{"email":"edge@example.com","timestamp":1700000000,"event":"delivered","sg_event_id":"e1","sg_message_id":"E1.filter.0"}]');
SELECT stored FROM ingest_sendgrid_event('[{"email":"nostatus@example.com","timestamp":1699990000,"event":"open","sg_machine_open":true,"sg_event_id":"n1","sg_message_id":"N1.filter.0"}]');
SELECT status, recipients FROM status_counts ORDER BY status;
SELECT forget_recipients('2023-11-14 22:13:20+00') AS forgotten;
SELECT message_id, email FROM recipient ORDER BY 1, 2;
SELECT status, recipients FROM status_counts ORDER BY status;
SELECT * FROM state_differences();

-- mail_status_agg is the highest status however it is planned, from an index too.
CREATE TEMP TABLE statuses (s mail_status);
INSERT INTO statuses VALUES ('sent'), ('bounced'), ('delivered'), (NULL);
CREATE INDEX ON statuses (s);
ANALYZE statuses;
SET enable_seqscan = off;
SELECT mail_status_agg(s) FROM statuses;
RESET enable_seqscan;

-- counts_at_least, which state_differences asks of a day partly before the kept window (its
-- rows as jsonb): every counter stored at least the recomputed one, a counter missing or NULL
-- on either side 0, so a negative stored counter fails even where nothing is recomputed.
SELECT s AS stored, r AS recomputed, counts_at_least(s::jsonb, r::jsonb) AS holds
  FROM (VALUES ('{"day": "2023-11-14", "sent": 3, "clicks": 1}', '{"day": "2023-11-14", "sent": 2, "clicks": 1}'),
               ('{"sent": 3, "clicks": null}', '{"sent": 2, "clicks": 1}'),
               ('{"sent": 3, "clicks": 1}', '{"sent": 2, "clicks": null}'),
               (NULL, '{"sent": 2}'),
               ('{"sent": -1}', NULL),
               ('{"sent": 0}', NULL),
               (NULL, NULL),
               ('{"sent": 9223372036854775807}', '{"sent": 9223372036854775806}')) AS v(s, r);
