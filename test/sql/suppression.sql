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

-- Before a send to many, one call: the suppressed addresses of a list, each as given, with
-- the cause and since when, as the suppression view has them (for the group too, when given).
SELECT * FROM suppressed_among(ARRAY['GONE@example.com', 'dropped@example.com', 'SPAM@example.com ', 'fine@example.com',
                                     'never-seen@example.com', 'group@example.com', 'Group@Example.com', NULL,
                                     'dropped@example.com', ''], 7);
SELECT email, asm_group_id, cause FROM suppressed_among(ARRAY['group@example.com', 'unsub@example.com']);
SELECT count(*) AS rows FROM suppressed_among(NULL);
SELECT count(*) AS rows FROM suppressed_among('{}', NULL);
SELECT count(*) AS rows FROM suppressed_among(ARRAY[NULL, NULL]::text[], 7);
-- Any list (property): its rows are the suppression view's rows of the list's addresses, the
-- view's group rows only for the group asked; is_suppressed says the same address by address.
SELECT setseed(0.5);
CREATE TEMP TABLE lists AS
SELECT n, g, ARRAY(SELECT CASE WHEN random() < 0.3 THEN upper(a.email) ELSE a.email END
                     FROM (SELECT email FROM suppression_state UNION ALL SELECT email FROM group_suppression_state
                           UNION ALL SELECT 'nobody' || i || '@example.com' FROM generate_series(1, 5) i) a
                    WHERE random() < 0.5 AND n > 0) AS emails
  FROM generate_series(0, 40) n, (VALUES (NULL::integer), (7), (8), (9)) v(g);
SELECT count(*) AS lists_differing_from_the_view
  FROM lists l
 WHERE EXISTS ((SELECT normalize_email(a.email), a.asm_group_id, a.cause, a.reason, a.event_key, a.suppressed_since
                  FROM suppressed_among(l.emails, l.g) a
                EXCEPT SELECT s.* FROM suppression s
                 WHERE s.email = ANY (ARRAY(SELECT normalize_email(e) FROM unnest(l.emails) e))
                   AND (s.asm_group_id IS NULL OR s.asm_group_id = l.g))
               UNION ALL
               (SELECT s.* FROM suppression s
                 WHERE s.email = ANY (ARRAY(SELECT normalize_email(e) FROM unnest(l.emails) e))
                   AND (s.asm_group_id IS NULL OR s.asm_group_id = l.g)
                EXCEPT SELECT normalize_email(a.email), a.asm_group_id, a.cause, a.reason, a.event_key, a.suppressed_since
                  FROM suppressed_among(l.emails, l.g) a));
SELECT count(*) AS addresses_where_is_suppressed_disagrees
  FROM lists l, unnest(l.emails) e
 WHERE is_suppressed(e, l.g) <> EXISTS (SELECT FROM suppressed_among(ARRAY[e], l.g));
-- A list of 100 000 addresses is one call too.
SELECT count(*) AS suppressed_of_100000
  FROM suppressed_among(ARRAY(SELECT 'many' || i || '@example.com' FROM generate_series(1, 99999) i) || ARRAY['gone@example.com']);

-- Suppressions are state: they stay when the events that made them are gone.
DELETE FROM event;
SELECT email, asm_group_id, cause FROM suppression ORDER BY 1, 2;

-- One index probe per address, never a scan of the table: with 20 000 addresses known, a list
-- of 200 (100 of them bounced) is read by key (the transaction's own scan counts). (A list
-- that is a large part of the table is read in one pass over it: PostgreSQL's choice, cheaper.)
SELECT stored FROM ingest_sendgrid_event((SELECT jsonb_agg(jsonb_build_object('email', 'list' || i || '@example.com',
        'timestamp', 1700000000, 'event', CASE WHEN i % 2 = 0 THEN 'bounce' ELSE 'delivered' END)) FROM generate_series(1, 20000) i));
ANALYZE suppression_state, group_suppression_state;
BEGIN;
SELECT count(*) AS suppressed_of_200
  FROM suppressed_among(ARRAY(SELECT 'list' || (i * 97) || '@example.com' FROM generate_series(1, 200) i));
SELECT seq_scan AS sequential_scans, idx_scan BETWEEN 1 AND 200 AS index_probes_at_most_one_per_address
  FROM pg_stat_xact_user_tables WHERE relid = 'mailstatus.suppression_state'::regclass;
COMMIT;
