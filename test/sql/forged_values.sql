-- Every C function treats its arguments as untrusted: a state value handed in may be forged
-- (here the owner forges them with binary-coercible casts, as corruption on disk would) and
-- each function that decodes one checks what it decodes before using it: 22023 with what is
-- wrong, never a crash, never a silent change of another value. Each forged value is tried on
-- every function that reads one. (Arrays and rows cannot be cast binary-coercibly: a text[],
-- a recipient[] or an event handed in has the elements and columns of its type.)
SET search_path = mailstatus, public;
SET timezone = 'UTC';
\set VERBOSITY default
\i test/sql/include/helpers.psql
CREATE CAST (int2 AS mailstatus.mail_status) WITHOUT FUNCTION;
CREATE CAST (bytea AS mailstatus.timed_value) WITHOUT FUNCTION;
CREATE CAST (bytea AS mailstatus.activity) WITHOUT FUNCTION;
CREATE CAST (mailstatus.timed_value AS bytea) WITHOUT FUNCTION;
CREATE CAST (mailstatus.activity AS bytea) WITHOUT FUNCTION;

-- mail_status: an int2 from 1 to 9. Forged: 0, 10, -1, 32767.
CREATE TEMP TABLE forged_status (v int2);
INSERT INTO forged_status VALUES (0), (10), (-1), (32767);
SELECT v, f, pg_temp.outcome(format(s, v)) AS outcome
  FROM forged_status,
       (VALUES ('mail_status_out', 'SELECT mailstatus.mail_status_out((%s)::int2::mailstatus.mail_status)::text'),
               ('mail_status_send', 'SELECT mailstatus.mail_status_send((%s)::int2::mailstatus.mail_status)::text'),
               ('mail_status_label', 'SELECT mailstatus.mail_status_label((%s)::int2::mailstatus.mail_status)'),
               ('effective_status', 'SELECT (mailstatus.effective_status((%s)::int2::mailstatus.mail_status, false) IS NULL)::text'),
               ('reached_at_transfn', 'SELECT mailstatus.status_reached_transfn(0, (%s)::int2::mailstatus.mail_status, now())::text'),
               ('mail_status_reached_at', 'SELECT mailstatus.mail_status_reached_at((%s)::int2::mailstatus.mail_status, now())::text')) AS t(f, s)
 ORDER BY v, f;
-- The valid ones still work.
SELECT mail_status_label(1::int2::mail_status), mail_status_label(9::int2::mail_status);

-- A reached state: 0, or a status from 1 to 9 in bits 59-62 over a valid time. Forged: a
-- status of 10 and 15, a negative value, a time before PostgreSQL's first timestamp.
CREATE TEMP TABLE forged_state (label text, v bigint);
INSERT INTO forged_state VALUES ('status 10', 10::bigint << 59), ('status 15', (15::bigint << 59) | 12345),
  ('negative', -1), ('status 0 with a time', 4242), ('time out of range', (3::bigint << 59) | ((1::bigint << 59) - 1));
SELECT label, f, pg_temp.outcome(format(s, v)) AS outcome
  FROM forged_state,
       (VALUES ('reached_status', 'SELECT mailstatus.status_reached_status(%s)::text'),
               ('reached_at_final', 'SELECT mailstatus.mail_status_reached_at_final(%s)::text'),
               ('reached_at_transfn', 'SELECT mailstatus.status_reached_transfn(%s, ''sent'', now())::text')) AS t(f, s)
 ORDER BY label, f;
-- The valid ones: 0 (no rows), and what the aggregate makes.
SELECT status_reached_status(0) IS NULL AS no_status, mail_status_reached_at_final(0) IS NULL AS no_time,
       status_reached_status(status_reached_state('dropped', '2023-11-14 22:13:20+00')) AS status,
       mail_status_reached_at_final(status_reached_state('dropped', '2023-11-14 22:13:20+00')) AS at;

-- timed_value: a kind byte ('t' or 'j'), an int8 time, then the value. Forged: too short, an
-- unknown kind, a time out of range, text that is not UTF-8, and jsonb bytes that are not a
-- jsonb (offsets past the end, an unknown entry type, a key that is not a string). What only
-- compares values (the merge, by time and bytes) or reads their time takes a value whose
-- text or jsonb is forged; what reads the text or jsonb refuses it.
-- (A valid jsonb value's bytes, cut or changed, make the forged ones.)
CREATE TEMP TABLE valid_jsonb AS SELECT '{"at": "2000-01-01 00:00:00+00", "jsonb": {"a": [1, "b", null, true]}}'::timed_value::bytea AS v;
CREATE TEMP TABLE forged_timed (label text, v bytea);
INSERT INTO forged_timed SELECT l, f FROM valid_jsonb, LATERAL (VALUES
  ('too short', '\x74000000'::bytea),
  ('unknown kind', '\x78' || int8send(0) || 'abc'::bytea),
  ('time out of range', '\x74' || '\xf0ffffffffffff7f'::bytea || 'abc'::bytea),
  ('text not UTF-8', '\x74' || int8send(0) || '\xc3'::bytea),
  ('jsonb cut short', substr(v, 1, length(v) - 1)),
  ('jsonb without its data', substr(v, 1, 9 + 12)),
  ('jsonb entry of unknown type', overlay(v placing '\x70'::bytea from 9 + 4 + 4 + 4)),
  ('jsonb key not a string', overlay(v placing '\x40'::bytea from 9 + 4 + 4)),
  ('jsonb empty', '\x6a' || int8send(0))) AS t(l, f);
SELECT label, f, pg_temp.outcome(format(s, quote_literal(v::text))) AS outcome
  FROM forged_timed,
       (VALUES ('timed_value_out', 'SELECT mailstatus.timed_value_out(%s::bytea::mailstatus.timed_value)::text'),
               ('timed_value_send', 'SELECT mailstatus.timed_value_send(%s::bytea::mailstatus.timed_value)::text'),
               ('timed_value_text', 'SELECT mailstatus.timed_value_text(%s::bytea::mailstatus.timed_value)'),
               ('timed_value_jsonb', 'SELECT mailstatus.timed_value_jsonb(%s::bytea::mailstatus.timed_value)::text'),
               ('timed_value_at', 'SELECT mailstatus.timed_value_at(%s::bytea::mailstatus.timed_value)::text'),
               ('timed_value_merge', 'SELECT mailstatus.timed_value_merge(%s::bytea::mailstatus.timed_value, ''{"at": "2023-11-14 00:00+00", "text": "x"}'')::text'),
               ('timed_value_add_text', 'SELECT mailstatus.timed_value_add_text(%s::bytea::mailstatus.timed_value, ''x'', ''2023-11-14 00:00+00'')::text'),
               ('suppression_holding', 'SELECT mailstatus.suppression_holding(%s::bytea::mailstatus.timed_value, NULL, NULL, NULL)::text')) AS t(f, s)
 ORDER BY label, f;
-- Valid bytes read back.
SELECT ('\x74' || int8send(0) || 'abc'::bytea)::timed_value AS text_value, v::timed_value AS jsonb_value FROM valid_jsonb;

-- activity: 12-byte days, sorted and distinct. Forged: a size that is not a multiple of 12,
-- days out of order, a day twice.
-- (Made from a valid activity's bytes: two days, swapped, repeated.)
CREATE TEMP TABLE valid_activity AS
SELECT '[{"day": "2023-11-14", "events": ["processed"], "machine_opens": 0, "clicks": 0},
         {"day": "2023-11-15", "events": ["delivered"], "machine_opens": 1, "clicks": 2}]'::activity::bytea AS v;
CREATE TEMP TABLE forged_activity (label text, v bytea);
INSERT INTO forged_activity SELECT l, f FROM valid_activity, LATERAL (VALUES
  ('13 bytes', substr(v, 1, 13)),
  ('days out of order', substr(v, 13, 12) || substr(v, 1, 12)),
  ('a day twice', substr(v, 1, 12) || substr(v, 1, 12))) AS t(l, f);
SELECT label, f, pg_temp.outcome(format(s, quote_literal(v::text))) AS outcome
  FROM forged_activity,
       (VALUES ('activity_out', 'SELECT mailstatus.activity_out(%s::bytea::mailstatus.activity)::text'),
               ('activity_merge', 'SELECT mailstatus.activity_merge(%1$s::bytea::mailstatus.activity, %1$s::bytea::mailstatus.activity)::text'),
               ('activity_added', 'SELECT mailstatus.activity_added(''[]'', %s::bytea::mailstatus.activity)::text'),
               ('activity_subtract', 'SELECT mailstatus.activity_subtract(%s::bytea::mailstatus.activity, ''[]'')::text'),
               ('activity_days', 'SELECT count(*)::text FROM mailstatus.activity_days(%s::bytea::mailstatus.activity)'),
               ('activity_add', 'SELECT mailstatus.activity_add(%s::bytea::mailstatus.activity, ''open'', NULL, false, now())::text')) AS t(f, s)
 ORDER BY label, f;
-- Valid bytes read back.
SELECT v::activity AS two_days FROM valid_activity;

-- Category sets: any text[] is one (NULLs skipped, sorted and made distinct when it is not).
-- Out of order, repeated, with NULLs: still sets.
SELECT category_set_merge('{c,a,c}', '{b,NULL,a}') AS merged, category_set_added('{c,a,NULL}', '{b,a,b}') AS added,
       category_set_add('{z,y}', '["x","y"]') AS add;

-- The counters' input, recipient_merge_counts(merged recipient[], inserted boolean[]): a
-- forged reached state (issue 19, defect 2: a status of 10 or more wrote outside the array
-- of counts, a crash; smaller forged values changed other counters), a forged status before,
-- a NULL row or flag, rows that do not match their flags.
CREATE FUNCTION pg_temp.merged(reached bigint, status_before int2 DEFAULT NULL, activity bytea DEFAULT NULL,
                               categories text[] DEFAULT NULL) RETURNS mailstatus.recipient LANGUAGE sql AS $$
  SELECT ROW('M', 'a@example.com', reached, reached, '2023-11-14 00:00+00', '2023-11-14 00:00+00', 0, 0, 0, NULL, NULL, NULL, NULL,
             categories, activity::mailstatus.activity, status_before::mailstatus.mail_status,
             status_before::mailstatus.mail_status, NULL, NULL, NULL)::mailstatus.recipient $$;
SELECT label, pg_temp.outcome(s) AS outcome
  FROM (VALUES
    ('reached status 10', 'SELECT mailstatus.recipient_merge_counts(ARRAY[pg_temp.merged(10::bigint << 59)], ARRAY[true])::text'),
    ('reached status 15', 'SELECT mailstatus.recipient_merge_counts(ARRAY[pg_temp.merged((15::bigint << 59) | 1)], ARRAY[false])::text'),
    ('reached negative', 'SELECT mailstatus.recipient_merge_counts(ARRAY[pg_temp.merged(-1)], ARRAY[true])::text'),
    ('reached NULL', 'SELECT mailstatus.recipient_merge_counts(ARRAY[pg_temp.merged(NULL)], ARRAY[true])::text'),
    ('status before 10', 'SELECT mailstatus.recipient_merge_counts(ARRAY[pg_temp.merged(1::bigint << 59, 10::int2)], ARRAY[false])::text'),
    ('status before 0', 'SELECT mailstatus.recipient_merge_counts(ARRAY[pg_temp.merged(1::bigint << 59, 0::int2)], ARRAY[false])::text'),
    ('activity out of order', 'SELECT mailstatus.recipient_merge_counts(ARRAY[pg_temp.merged(1::bigint << 59, NULL, (SELECT v FROM forged_activity WHERE label = ''days out of order''))], ARRAY[true])::text'),
    ('NULL row', 'SELECT mailstatus.recipient_merge_counts(ARRAY[NULL]::mailstatus.recipient[], ARRAY[true])::text'),
    ('NULL flag', 'SELECT mailstatus.recipient_merge_counts(ARRAY[pg_temp.merged(1::bigint << 59)], ARRAY[NULL]::boolean[])::text'),
    ('two rows, one flag', 'SELECT mailstatus.recipient_merge_counts(ARRAY[pg_temp.merged(1::bigint << 59), pg_temp.merged(2::bigint << 59)], ARRAY[true])::text')
  ) AS t(label, s)
 ORDER BY label;
-- A valid merge: a new recipient, sent on a day, under its category.
SELECT (c).days, (c).category_days, (c).statuses
  FROM (SELECT recipient_merge_counts(ARRAY[pg_temp.merged(status_reached_state('sent', '2023-11-14 00:00+00'), NULL,
          (SELECT v FROM valid_activity), '{invoice}')], ARRAY[true]) AS c) r;

-- Event rows handed to event_payload and event_key with a NULL message_id (the table never
-- holds one; sg_message_id and smtp-id are put back together around it).
SELECT f, pg_temp.outcome(format(s, 'ROW(''2023-11-14 22:13:20+00'', 1, now(), NULL, NULL, NULL, NULL, NULL, ''a@example.com'', ''open'', NULL, ''.filter0'', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)::mailstatus.event')) AS outcome
  FROM (VALUES ('event_payload', 'SELECT mailstatus.event_payload(%s)::text'), ('event_key', 'SELECT mailstatus.event_key(%s)')) AS t(f, s)
 ORDER BY f;
-- map_sendgrid_event with a received_at that has no day after it.
SELECT pg_temp.outcome('SELECT (mailstatus.map_sendgrid_event(''{"email":"a@example.com","timestamp":1700000000,"event":"open"}'', ''infinity'')).reject_reason') AS infinite_received_at;

DROP CAST (int2 AS mailstatus.mail_status);
DROP CAST (bytea AS mailstatus.timed_value);
DROP CAST (bytea AS mailstatus.activity);
DROP CAST (mailstatus.timed_value AS bytea);
DROP CAST (mailstatus.activity AS bytea);
