-- Suppressions, derived by event time: what the CRM checks before sending.
SET search_path = mailstatus, public;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
\i test/sql/include/helpers.psql
CALL pg_temp.empty_state();

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
SELECT s.cause, s.event_key, e.reason, e.event FROM suppression s JOIN event e ON event_key(e) = s.event_key
 WHERE s.email = 'dropped@example.com';

-- Ties keep the address unmailed: a bounce and a delivery at the same second leave the bounce
-- holding, whichever arrives first ...
SELECT stored FROM ingest_sendgrid_event('[{"email":"tie1@example.com","timestamp":1700000300,"event":"delivered","sg_event_id":"t1"}]');
SELECT stored FROM ingest_sendgrid_event('[{"email":"tie1@example.com","timestamp":1700000300,"event":"bounce","type":"bounce","reason":"550","sg_event_id":"t2"}]');
SELECT stored FROM ingest_sendgrid_event('[{"email":"tie2@example.com","timestamp":1700000300,"event":"bounce","type":"blocked","reason":"554","sg_event_id":"t3"}]');
SELECT stored FROM ingest_sendgrid_event('[{"email":"tie2@example.com","timestamp":1700000300,"event":"delivered","sg_event_id":"t4"}]');
-- ... and a group unsubscribe and a resubscribe at the same second leave the group unsubscribed.
SELECT stored FROM ingest_sendgrid_event('[{"email":"tie3@example.com","timestamp":1700000300,"event":"group_resubscribe","asm_group_id":9,"sg_event_id":"t5"},
  {"email":"tie3@example.com","timestamp":1700000300,"event":"group_unsubscribe","asm_group_id":9,"sg_event_id":"t6"}]');
-- One second later, the delivery and the resubscribe win.
SELECT stored FROM ingest_sendgrid_event('[{"email":"tie4@example.com","timestamp":1700000300,"event":"bounce","type":"bounce","sg_event_id":"t7"},
  {"email":"tie4@example.com","timestamp":1700000301,"event":"delivered","sg_event_id":"t8"},
  {"email":"tie5@example.com","timestamp":1700000300,"event":"group_unsubscribe","asm_group_id":9,"sg_event_id":"t9"},
  {"email":"tie5@example.com","timestamp":1700000301,"event":"group_resubscribe","asm_group_id":9,"sg_event_id":"t10"}]');
SELECT e AS email, is_suppressed(e, 9)
  FROM (VALUES ('tie1@example.com'), ('tie2@example.com'), ('tie3@example.com'), ('tie4@example.com'), ('tie5@example.com')) v(e);

-- The owner lifts a suppression as it stands (say, the customer asked to be mailed again) ...
SELECT lift_suppression('Spam@Example.com') AS lifted, lift_suppression('group@example.com', 8) AS lifted_group,
       lift_suppression('never-seen@example.com') AS lifted_unknown;
SELECT is_suppressed('spam@example.com') AS spam, is_suppressed('group@example.com', 8) AS group_8,
       is_suppressed('group@example.com', 7) AS group_7;
-- ... a re-posted old batch does not bring it back ...
SELECT stored, duplicates FROM ingest_sendgrid_event('[{"email":"spam@example.com","timestamp":1700000100,"event":"spamreport","sg_event_id":"s4"},
  {"email":"spam@example.com","timestamp":1700000090,"event":"spamreport","sg_event_id":"s4-earlier"}]');
SELECT is_suppressed('spam@example.com') AS spam;
-- ... a later spam report does.
SELECT stored FROM ingest_sendgrid_event('[{"email":"spam@example.com","timestamp":1700000400,"event":"spamreport","sg_event_id":"s12"}]');
SELECT email, cause, suppressed_since FROM suppression WHERE email = 'spam@example.com';

-- Suppressions are state: they stay when the events that made them are gone.
DELETE FROM event;
SELECT email, asm_group_id, cause FROM suppression ORDER BY 1, 2;
