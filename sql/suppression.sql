-- Suppressions, derived by event time: what the CRM checks before sending.
SET search_path = mailstatus, public;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
TRUNCATE event, rejected_event, send;

SELECT * FROM ingest_sendgrid_event($$[
  {"email":"gone@example.com","timestamp":1700000100,"event":"bounce","type":"bounce","reason":"550 5.1.1 no such user","sg_event_id":"s1"},
  {"email":"blocked@example.com","timestamp":1700000100,"event":"bounce","type":"blocked","reason":"550 5.7.1 policy","sg_event_id":"s2"},
  {"email":"dropped@example.com","timestamp":1700000100,"event":"dropped","reason":"Bounced Address","sg_event_id":"s3"},
  {"email":"spam@example.com","timestamp":1700000100,"event":"spamreport","sg_event_id":"s4"},
  {"email":"unsub@example.com","timestamp":1700000100,"event":"unsubscribe"},
  {"email":"group@example.com","timestamp":1700000100,"event":"group_unsubscribe","asm_group_id":7,"sg_event_id":"s5"},
  {"email":"group@example.com","timestamp":1700000100,"event":"group_unsubscribe","asm_group_id":8,"sg_event_id":"s6"},
  {"email":"fine@example.com","timestamp":1700000100,"event":"delivered","sg_event_id":"s7"}
]$$);
SELECT email, asm_group_id, cause, reason, suppressed_since FROM suppression ORDER BY 1, 2;

-- A later delivery lifts a bounce or a block; an earlier one, arriving late, does not.
SELECT stored FROM ingest_sendgrid_event('[{"email":"gone@example.com","timestamp":1700000050,"event":"delivered","sg_event_id":"s8"},
  {"email":"blocked@example.com","timestamp":1700000200,"event":"delivered","sg_event_id":"s9"}]');
-- ... but not a spam report.
SELECT stored FROM ingest_sendgrid_event('[{"email":"spam@example.com","timestamp":1700000200,"event":"delivered","sg_event_id":"s10"}]');
-- A resubscribe lifts its own group only.
SELECT stored FROM ingest_sendgrid_event('[{"email":"group@example.com","timestamp":1700000200,"event":"group_resubscribe","asm_group_id":7,"sg_event_id":"s11"}]');
SELECT email, asm_group_id, cause FROM suppression ORDER BY 1, 2;

-- The CRM's check, case-insensitive.
SELECT e AS email, g AS asm_group_id, is_suppressed(e, g)
  FROM (VALUES ('GONE@example.com', NULL), ('blocked@example.com', NULL), ('dropped@example.com', NULL),
               ('spam@example.com', NULL), ('Unsub@Example.com', 5), ('group@example.com', 7),
               ('group@example.com', 8), ('group@example.com', NULL), ('fine@example.com', NULL),
               ('never-seen@example.com', NULL), (NULL, NULL)) v(e, g);
-- The cause can be traced to the event.
SELECT s.cause, e.payload ->> 'reason' AS reason FROM suppression s JOIN event e USING (event_key) WHERE s.email = 'dropped@example.com';
