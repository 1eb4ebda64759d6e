-- One recipient's timeline, for the person reading the CRM ("when was it opened, which link
-- was clicked, what did the server answer?"): its send and its events in time order, from the
-- raw events while they are kept; a row says where retention dropped older ones; nothing of
-- any other recipient.
SET search_path = mailstatus, public;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
\i test/sql/include/helpers.psql
CALL pg_temp.empty_state();
SELECT record_send('TL1', ARRAY['maria@example.com', 'other@example.com'], '{"crm_record": "INV-7"}', '2023-11-14 22:00+00');
SELECT stored FROM ingest_sendgrid_event($$[
  {"email":"maria@example.com","timestamp":1700000000,"event":"processed","sg_event_id":"t1","sg_message_id":"TL1.filter.0"},
  {"email":"maria@example.com","timestamp":1700000030,"event":"deferred","attempt":"1","response":"421 4.7.0 try again later","sg_event_id":"t2","sg_message_id":"TL1.filter.0"},
  {"email":"maria@example.com","timestamp":1700000600,"event":"delivered","response":"250 2.0.0 OK 1700000600 queued","sg_event_id":"t3","sg_message_id":"TL1.filter.0"},
  {"email":"maria@example.com","timestamp":1700000700,"event":"open","sg_machine_open":true,"useragent":"Mozilla/5.0 (via ggpht.com GoogleImageProxy)","sg_event_id":"t4","sg_message_id":"TL1.filter.0"},
  {"email":"maria@example.com","timestamp":1700003600,"event":"open","sg_machine_open":false,"useragent":"Mozilla/5.0 (iPhone)","sg_event_id":"t5","sg_message_id":"TL1.filter.0"},
  {"email":"maria@example.com","timestamp":1700003660,"event":"click","url":"https://crm.example/pay/INV-7","useragent":"Mozilla/5.0 (iPhone)","sg_event_id":"t6","sg_message_id":"TL1.filter.0"},
  {"email":"other@example.com","timestamp":1700000000,"event":"processed","sg_event_id":"t7","sg_message_id":"TL1.filter.1"},
  {"email":"other@example.com","timestamp":1700003660,"event":"click","url":"https://crm.example/secret-of-other","sg_event_id":"t8","sg_message_id":"TL1.filter.1"}
]$$);
SELECT * FROM recipient_events('TL1', 'maria@example.com');
-- The address as the CRM has it (case, spaces); the status the timeline explains.
SELECT occurred_at, event, status, url FROM recipient_events('TL1', '  MARIA@Example.com ') WHERE event IN ('send', 'click');
SELECT status, status_at FROM recipient_status WHERE message_id = 'TL1' AND email = 'maria@example.com';

-- An async bounce names no message: attributed to the address's send, it is in that
-- recipient's timeline (and in no other); an event of the address that named no message and
-- was not attributed is the timeline of ('', address).
SELECT record_send('TL2', ARRAY['bob@example.com'], '{}', '2023-11-14 22:00+00');
SELECT stored FROM ingest_sendgrid_event($$[
  {"email":"bob@example.com","timestamp":1700003000,"event":"bounce","type":"bounce","status":"5.1.1","reason":"550 5.1.1 user unknown","bounce_classification":"Invalid Address","sg_event_id":"t9","sg_message_id":""},
  {"email":"bob@example.com","timestamp":1600000000,"event":"bounce","type":"blocked","reason":"554 old block","sg_event_id":"t10"}
]$$);
SELECT occurred_at, source, event, status, reason, smtp_status, bounce_type, bounce_classification FROM recipient_events('TL2', 'bob@example.com');
SELECT occurred_at, source, event, reason FROM recipient_events('', 'bob@example.com');

-- Nothing for an unknown recipient, another message's address, NULLs, or huge arguments.
SELECT count(*) AS rows FROM recipient_events('TL1', 'bob@example.com');
SELECT count(*) AS rows FROM recipient_events('NOPE', 'maria@example.com');
SELECT count(*) AS rows FROM recipient_events(NULL, 'maria@example.com');
SELECT count(*) AS rows FROM recipient_events('TL1', NULL);
SELECT count(*) AS rows FROM recipient_events(repeat('x', 1000000), repeat('y', 1000000));
-- No other recipient's data is reachable through it: every row of maria's timeline is hers.
SELECT count(*) AS rows_of_others
  FROM recipient_events('TL1', 'maria@example.com') t
 WHERE t.url LIKE '%secret%' OR NOT EXISTS (
       SELECT FROM event e WHERE e.email = 'maria@example.com' AND e.occurred_at = t.occurred_at
       UNION ALL SELECT FROM send s WHERE s.email = 'maria@example.com' AND s.sent_at = t.occurred_at);

-- Retention drops the month's events; the state keeps the status, and the timeline says
-- plainly that older events are gone (a row of source 'retention', where the kept events start:
-- at the window's start, drop_event_partitions' boundary or the oldest monthly partition).
-- A later event still shows.
SELECT drop_event_partitions('2023-12-01 00:00+00') >= 0 AS dropped;
SELECT stored FROM ingest_sendgrid_event('[{"email":"maria@example.com","timestamp":1702000000,"event":"open","useragent":"Mozilla/5.0 (Mac)","sg_event_id":"t11","sg_message_id":"TL1.filter.0"}]');
SELECT source, event, status, useragent, note FROM recipient_events('TL1', 'maria@example.com');
SELECT status, opens, clicks FROM recipient_status WHERE message_id = 'TL1' AND email = 'maria@example.com';
-- A recipient whose events are all gone: the send (never dropped by retention) and the row.
SELECT source, event, note IS NOT NULL AS says_dropped FROM recipient_events('TL1', 'other@example.com');

-- A forgotten recipient has no timeline.
SELECT forget_recipients('2023-12-01 00:00+00') AS forgotten;
SELECT count(*) AS rows FROM recipient_events('TL2', 'bob@example.com');
TRUNCATE event_retention, recipient_retention;
