-- Status-precedence aggregates: mail_status_agg, mail_status_reached_at, latest_value.
SET search_path = mailstatus, public;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
\i test/sql/include/helpers.psql

-- Highest precedence wins, whatever the order; NULLs are ignored; no rows gives NULL.
SELECT mail_status_agg(s) FROM unnest('{delivered,sent,opened,deferred}'::mail_status[]) s;
SELECT mail_status_agg(s) FROM unnest('{opened,deferred,sent,delivered}'::mail_status[]) s;
SELECT mail_status_agg(s) FROM unnest(ARRAY['bounced', NULL, 'clicked']::mail_status[]) s;
SELECT mail_status_agg(s) FROM unnest(ARRAY[NULL, NULL]::mail_status[]) s;
SELECT mail_status_agg(s) FROM unnest('{}'::mail_status[]) s;
SELECT mail_status_agg(s ORDER BY s DESC), mail_status_agg(s ORDER BY s) FROM unnest('{sent,dropped,opened}'::mail_status[]) s;

-- The planner may answer it from a btree index (SORTOP).
CREATE TABLE agg_sample AS SELECT g AS id, (ARRAY['sent','deferred','delivered','opened'])[1 + g % 4]::mail_status AS s
  FROM generate_series(1, 1000) g;
CREATE INDEX ON agg_sample (s);
ANALYZE agg_sample;
CREATE FUNCTION pg_temp.plan_lines(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN RETURN QUERY EXECUTE 'EXPLAIN (COSTS OFF) ' || query; END $$;
-- (The plan's wording differs between PostgreSQL versions: what it does is asserted.)
SELECT bool_or(line ~ 'Index Only Scan Backward using agg_sample_s_idx') AS reads_the_index_backward,
       bool_or(line ~ 'Limit') AS stops_at_the_first_row, bool_or(line ~ 'Seq Scan') AS scans_the_table
  FROM pg_temp.plan_lines('SELECT mail_status_agg(s) FROM agg_sample') AS line;
SELECT mail_status_agg(s) FROM agg_sample;
DROP TABLE agg_sample;

-- When the winning status was first reached: the earliest time of the highest status.
SELECT mail_status_reached_at(s::mail_status, t::timestamptz)
  FROM (VALUES ('sent', '2024-01-01 10:00+00'), ('opened', '2024-01-01 12:00+00'),
               ('opened', '2024-01-01 11:00+00'), ('delivered', '2024-01-01 10:05+00')) v(s, t);
-- Same rows, another order, same answer.
SELECT mail_status_reached_at(s::mail_status, t::timestamptz)
  FROM (VALUES ('opened', '2024-01-01 11:00+00'), ('delivered', '2024-01-01 10:05+00'),
               ('opened', '2024-01-01 12:00+00'), ('sent', '2024-01-01 10:00+00')) v(s, t);
-- Rows with a NULL status or time are ignored; no rows gives NULL.
SELECT mail_status_reached_at(s::mail_status, t::timestamptz)
  FROM (VALUES ('sent', '2024-01-01 10:00+00'), (NULL, '2024-01-02 10:00+00'), ('bounced', NULL)) v(s, t);
SELECT mail_status_reached_at(s, now()) FROM unnest('{}'::mail_status[]) s;
-- Extreme but finite times survive the packing.
SELECT mail_status_reached_at('sent', '4713-01-01 00:00+00 BC'::timestamptz);
SELECT mail_status_reached_at('sent', '11000-01-01 00:00+00'::timestamptz);
-- Infinite or too distant times: 22008.
SELECT mail_status_reached_at('sent', 'infinity'::timestamptz);
SELECT mail_status_reached_at('sent', '-infinity'::timestamptz);
SELECT mail_status_reached_at('sent', '20000-01-01 00:00+00'::timestamptz);

-- latest_value: the value at the latest time; ties go to the larger value.
SELECT latest_value(v, t::timestamptz)
  FROM (VALUES ('first', '2024-01-01 00:00+00'), ('last', '2024-01-03 00:00+00'), ('middle', '2024-01-02 00:00+00')) x(v, t);
SELECT latest_value(v, '2024-01-01 00:00+00'::timestamptz) FROM (VALUES ('a'), ('c'), ('b')) x(v);
SELECT latest_value(v, '2024-01-01 00:00+00'::timestamptz) FROM (VALUES ('ab'), ('abc'), ('a')) x(v);
SELECT latest_value(v, t::timestamptz)
  FROM (VALUES (NULL, '2024-01-05 00:00+00'), ('kept', '2024-01-01 00:00+00'), ('no time', NULL)) x(v, t);
SELECT latest_value(v::text, now()) FROM (SELECT 1 WHERE false) x(v);
SELECT latest_value(v::jsonb, t::timestamptz)
  FROM (VALUES ('{"a": 1}', '2024-01-01 00:00+00'), ('{"b": 2}', '2024-01-02 00:00+00')) x(v, t);
-- In a GROUP BY, per group.
SELECT g, latest_value(v, t::timestamptz)
  FROM (VALUES (1, 'x', '2024-01-01 00:00+00'), (1, 'y', '2024-01-02 00:00+00'), (2, 'z', '2024-01-01 00:00+00')) x(g, v, t)
 GROUP BY g ORDER BY g;

-- latest_timed_value is latest_value's state: the value with its time; latest_value is its
-- final function applied.
SELECT latest_timed_value(v, t::timestamptz)
  FROM (VALUES ('first', '2024-01-01 00:00+00'), ('last', '2024-01-03 00:00+00'), ('middle', '2024-01-02 00:00+00')) x(v, t);
SELECT latest_timed_value(v::jsonb, t::timestamptz)
  FROM (VALUES ('{"a": 1}', '2024-01-01 00:00+00'), ('[1, "x"]', '2024-01-03 00:00+00')) x(v, t);
SELECT timed_value_text(latest_timed_value(v, t::timestamptz)) = latest_value(v, t::timestamptz) AS text_final,
       timed_value_at(latest_timed_value(v, t::timestamptz)) AS at
  FROM (VALUES ('first', '2024-01-01 00:00+00'), ('last', '2024-01-03 12:00+00')) x(v, t);
-- No rows, or only NULLs: no state.
SELECT latest_timed_value(v, now()) IS NULL AS no_rows FROM (SELECT 'x' WHERE false) x(v);
SELECT latest_timed_value(v, t) IS NULL AS only_nulls
  FROM (VALUES (NULL::text, now()), ('x', NULL::timestamptz)) x(v, t);

-- timed_value text I/O: {"at": ..., "text": ...} or {"at": ..., "jsonb": ...}, the time in
-- ISO 8601 with its offset; the output reads back as the same value.
CREATE TABLE timed_sample (id int, v timed_value);
INSERT INTO timed_sample VALUES
  (1, '{"at": "2024-01-01 10:00:00.5+02", "text": "a \"quoted\" \\ back\/slash, é, \u00e9 and\na line break"}'),
  (2, '{"jsonb": {"b": [1, 2.50, null, true], "a": "x"}, "at": "2024-01-01T00:00:00Z"}'),
  (3, '{"at": "2024-01-01 00:00+00", "jsonb": "s"}'),
  (4, '{"at": "2024-01-01 00:00+00", "text": "s"}'),
  (5, '{"at": "2024-01-01 00:00+00", "jsonb": null}'),
  (6, '{"at": "infinity", "text": ""}'),
  (7, NULL);
SELECT id, v FROM timed_sample ORDER BY id;
SELECT count(*) AS read_back_differently FROM timed_sample WHERE v::text::timed_value::text IS DISTINCT FROM v::text;
-- What each holds: the text kind and the jsonb kind of the same string stay apart.
SELECT id, timed_value_at(v) AS at,
       CASE WHEN v::text LIKE '%"text":%' THEN timed_value_text(v) END AS text,
       CASE WHEN v::text LIKE '%"jsonb":%' THEN timed_value_jsonb(v) END AS jsonb
  FROM timed_sample ORDER BY id;
-- The time is an instant: written in another time zone, it reads back the same.
SET timezone = 'Asia/Tokyo';
SELECT v FROM timed_sample WHERE id = 1;
SELECT v::text AS tokyo_text FROM timed_sample WHERE id = 1 \gset
RESET timezone;
SELECT :'tokyo_text'::timed_value::text = v::text AS same_instant FROM timed_sample WHERE id = 1;
-- Reading a time without an offset uses the session's time zone, as timestamptz does.
SET timezone = 'Asia/Tokyo';
SELECT timed_value_at('{"at": "2024-01-01 09:00", "text": "x"}') AT TIME ZONE 'UTC' AS read_in_tokyo;
RESET timezone;
-- Reading it as the other kind: 42804.
SELECT timed_value_text('{"at": "2024-01-01", "jsonb": "s"}');
SELECT timed_value_jsonb('{"at": "2024-01-01", "text": "s"}');
\set VERBOSITY sqlstate
SELECT timed_value_text('{"at": "2024-01-01", "jsonb": "s"}');
\set VERBOSITY default

-- Bad text input: 22P02 (a bad time: 22007, as timestamptz says).
SELECT '{"at": "2024-01-01"}'::timed_value;
SELECT '{"at": "2024-01-01", "text": "a", "jsonb": 1}'::timed_value;
SELECT '{"at": "2024-01-01", "text": 1}'::timed_value;
SELECT '{"at": 1704067200, "text": "a"}'::timed_value;
SELECT '{"at": "2024-01-01", "value": "a"}'::timed_value;
SELECT '[{"at": "2024-01-01", "text": "a"}]'::timed_value;
SELECT '{"at": "the day before", "text": "a"}'::timed_value;
\set VERBOSITY sqlstate
SELECT '{"at": "2024-01-01", "value": "a"}'::timed_value;
SELECT 'not json'::timed_value;
SELECT '{"at": "the day before", "text": "a"}'::timed_value;
\set VERBOSITY default
-- Whatever is wrong with it, an error quotes at most 64 bytes of a 10 MB input: message,
-- detail and hint stay short.
SELECT input, pg_temp.error_of(format('SELECT %L::mailstatus.timed_value', v)) AS error
  FROM (VALUES ('not JSON', repeat('x', 10000000)),
               ('not an object', '[' || repeat('1,', 5000000) || '1]'),
               ('a long bad time', '{"at": "' || repeat('x', 10000000) || '", "text": "a"}'),
               ('a long text', '{"at": "2024-01-01", "text": 1, "pad": "' || repeat('x', 10000000) || '"}')) AS c(input, v);

-- Binary I/O through COPY BINARY (files in this run's data directory) gives back the same values.
SELECT current_setting('data_directory') || '/mailstatus_timed_value.bin' AS timed_path \gset
COPY timed_sample TO :'timed_path' WITH (FORMAT binary);
CREATE TABLE timed_copy (id int, v timed_value);
COPY timed_copy FROM :'timed_path' WITH (FORMAT binary);
SELECT count(*) AS copied, count(*) FILTER (WHERE c.v::text IS NOT DISTINCT FROM s.v::text) AS same
  FROM timed_copy c JOIN timed_sample s USING (id);
-- Bad binary input is refused: an unknown kind (22P03), a jsonb value that is not JSON
-- (22P02), text that is not UTF-8 (22021), a time timestamptz cannot hold (22008); none is
-- stored to fail later, on output or in pg_dump. Each file holds one field of the given
-- bytes: a kind byte ('t' or 'j'), the time (int8), the value (for jsonb, a version byte 1
-- and the JSON text, as jsonb's own binary format).
CREATE TABLE timed_bad (v timed_value);
COPY (SELECT '\x78000000000000000061'::bytea) TO :'timed_path' WITH (FORMAT binary);
COPY timed_bad FROM :'timed_path' WITH (FORMAT binary);
\set VERBOSITY sqlstate
COPY (SELECT '\x6a0002b0d5d4e94000016e6f74206a736f6e'::bytea) TO :'timed_path' WITH (FORMAT binary);
COPY timed_bad FROM :'timed_path' WITH (FORMAT binary);
COPY (SELECT '\x740002b0d5d4e94000fffe'::bytea) TO :'timed_path' WITH (FORMAT binary);
COPY timed_bad FROM :'timed_path' WITH (FORMAT binary);
COPY (SELECT '\x747fffffffffffff0061'::bytea) TO :'timed_path' WITH (FORMAT binary);
COPY timed_bad FROM :'timed_path' WITH (FORMAT binary);
\set VERBOSITY default
SELECT count(*) AS stored_bad FROM timed_bad;

-- timed_value_merge, latest_value's combine: the later state; on a tie, the larger value;
-- whatever the order of its arguments. NULL is no state.
CREATE TABLE timed_pairs AS
SELECT a.id AS a_id, b.id AS b_id, a.v AS a, b.v AS b
  FROM (VALUES (1, '{"at": "2024-01-01 00:00-08", "text": "b"}'::timed_value), (2, '{"at": "2024-01-01 00:00-08", "text": "ab"}'),
               (3, '{"at": "2024-01-01 00:00-08", "text": "b!"}'), (4, '{"at": "2024-01-01 00:00-08", "jsonb": "b"}'),
               (5, '{"at": "2024-01-02 00:00-08", "text": "a"}'), (6, '{"at": "2023-12-31 00:00-08", "jsonb": {"z": 1}}'),
               (7, NULL)) a(id, v),
       (VALUES (1, '{"at": "2024-01-01 00:00-08", "text": "b"}'::timed_value), (2, '{"at": "2024-01-01 00:00-08", "text": "ab"}'),
               (3, '{"at": "2024-01-01 00:00-08", "text": "b!"}'), (4, '{"at": "2024-01-01 00:00-08", "jsonb": "b"}'),
               (5, '{"at": "2024-01-02 00:00-08", "text": "a"}'), (6, '{"at": "2023-12-31 00:00-08", "jsonb": {"z": 1}}'),
               (7, NULL)) b(id, v);
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE timed_value_merge(a, b)::text IS DISTINCT FROM timed_value_merge(b, a)::text) AS order_matters
  FROM timed_pairs;
SELECT a_id, b_id, timed_value_merge(a, b) FROM timed_pairs WHERE a_id < b_id AND a_id IN (1, 5, 7) ORDER BY 1, 2;
-- Merging the states of any split of the rows gives the state of all of them.
CREATE TABLE timed_rows AS
SELECT g, 'value ' || (g * 7) % 13 AS v, '2024-01-01 00:00-08'::timestamptz + ((g * 5) % 11) * interval '1 hour' AS at
  FROM generate_series(1, 200) g;
SELECT count(*) AS splits_differing FROM (
  SELECT k, timed_value_merge(latest_timed_value(v, at) FILTER (WHERE g % k = 0),
                              latest_timed_value(v, at) FILTER (WHERE g % k <> 0))::text AS merged,
         latest_timed_value(v, at)::text AS whole
    FROM timed_rows, generate_series(2, 9) k GROUP BY k) s
 WHERE merged IS DISTINCT FROM whole;
DROP TABLE timed_sample, timed_copy, timed_bad, timed_pairs, timed_rows;

-- status_reached_state: the partial state of mail_status_reached_at (and of
-- mail_status_agg), packed in a bigint; status_reached_status and
-- mail_status_reached_at_final read it; status_reached_combine merges states.
CREATE TABLE reached_rows AS
SELECT g, (ARRAY['sent','deferred','delivered','opened','clicked'])[1 + (g * 7) % 5]::mail_status AS s,
       '2024-01-01 00:00-08'::timestamptz + ((g * 13) % 17) * interval '1 minute' AS at
  FROM generate_series(1, 100) g;
SELECT status_reached_status(status_reached_state(s, at)) AS status,
       mail_status_reached_at_final(status_reached_state(s, at)) AS reached_at,
       mail_status_agg(s) AS agg, mail_status_reached_at(s, at) AS reached_at_agg
  FROM reached_rows;
SELECT count(*) AS splits_differing FROM (
  SELECT k, status_reached_combine(status_reached_state(s, at) FILTER (WHERE g % k = 0),
                                   status_reached_state(s, at) FILTER (WHERE g % k <> 0)) AS merged,
         status_reached_state(s, at) AS whole
    FROM reached_rows, generate_series(2, 9) k GROUP BY k) x
 WHERE merged <> whole;
-- The names of 0.4.0, deprecated (removed in 0.6.0), are the same functions: equal on every
-- prefix of the rows, and on the states at every split.
SELECT count(*) AS prefixes, count(*) FILTER (WHERE old_state = new_state AND old_status = new_status
                                              AND old_step = new_step) AS same
  FROM (SELECT mail_status_reached_state(s, at) OVER w AS old_state, status_reached_state(s, at) OVER w AS new_state,
               mail_status_reached_status(mail_status_reached_state(s, at) OVER w) AS old_status,
               status_reached_status(status_reached_state(s, at) OVER w) AS new_status,
               mail_status_reached_at_transfn(status_reached_state(s, at) OVER w, s, at) AS old_step,
               status_reached_transfn(status_reached_state(s, at) OVER w, s, at) AS new_step
          FROM reached_rows WINDOW w AS (ORDER BY g)) x;
SELECT count(*) AS splits, count(*) FILTER (WHERE mail_status_reached_at_combine(a, b) = status_reached_combine(a, b)) AS same
  FROM (SELECT status_reached_state(s, at) FILTER (WHERE g % k = 0) AS a, status_reached_state(s, at) FILTER (WHERE g % k <> 0) AS b
          FROM reached_rows, generate_series(2, 9) k GROUP BY k) x;
SELECT p.oid::regprocedure AS deprecated, obj_description(p.oid, 'pg_proc') LIKE 'Deprecated (removed in 0.6.0): status_reached_%' AS says_so
  FROM pg_proc p WHERE p.pronamespace = 'mailstatus'::regnamespace
   AND p.proname IN ('mail_status_reached_state', 'mail_status_reached_at_transfn', 'mail_status_reached_at_combine', 'mail_status_reached_status')
 ORDER BY 1::text;
DROP TABLE reached_rows;
-- No rows: the state is 0, which holds no status and no time.
SELECT status_reached_state(s, now()) AS state, status_reached_status(status_reached_state(s, now())) AS status,
       mail_status_reached_at_final(status_reached_state(s, now())) AS at
  FROM unnest('{}'::mail_status[]) s;
-- The status is what mail_status_agg gives, at the earliest time it was reached.
SELECT status_reached_status(status_reached_state(s::mail_status, t::timestamptz)) AS status,
       mail_status_reached_at_final(status_reached_state(s::mail_status, t::timestamptz)) AS at
  FROM (VALUES ('delivered', '2024-01-01 10:05+00'), ('opened', '2024-01-01 12:00+00'),
               ('opened', '2024-01-01 11:00+00'), (NULL, '2024-01-01 13:00+00')) v(s, t);
-- A bigint no state has (a status bit pattern outside sent..dropped) is refused (22023), not
-- turned into a mail_status that cannot be printed.
\set VERBOSITY sqlstate
SELECT status_reached_status(-1);
SELECT status_reached_status(15::bigint << 59);
\set VERBOSITY default
SELECT status_reached_status(9::bigint << 59) AS highest, status_reached_status(1::bigint << 59) AS lowest;

-- category_set: the distinct categories of events' category fields (a string or an array of
-- them; numbers and booleans as their text, nulls and nested arrays skipped), sorted
-- bytewise; NULL when none.
SELECT category_set(c)
  FROM (VALUES ('"b"'::jsonb), ('["a", "b"]'), ('null'), (NULL), ('["c", null, 1, true, ["nested"]]'), ('""'),
               ('"B"'), ('"é"'), ('"e"')) v(c);
SELECT category_set(c) IS NULL AS none FROM (VALUES (NULL::jsonb), ('[]'), ('null'), ('[null]')) v(c);
SELECT category_set(c ORDER BY c DESC) = category_set(c ORDER BY c) AS order_independent
  FROM (VALUES ('"b"'::jsonb), ('["a", "b"]'), ('["c", "a"]'), ('"d"')) v(c);
-- category_set_merge, its combine: the union; NULL is the empty set.
SELECT category_set_merge('{a,c}', '{b,c}') AS union_ab, category_set_merge('{b,c}', '{a,c}') AS union_ba,
       category_set_merge(NULL, '{b}') AS null_first, category_set_merge('{a}', NULL) AS null_second,
       category_set_merge(NULL, NULL) AS both_null, category_set_merge('{}', '{}') AS both_empty;
-- A NULL element is no category: skipped, never a crash.
SELECT category_set_merge(ARRAY[NULL, 'b'], '{a}') AS merged, category_set_added('{a}', ARRAY['b', NULL]) AS added,
       category_set_add(ARRAY[NULL]::text[], '"x"') AS add;
-- category_set_added: what merging partial into stored adds; NULL when nothing.
SELECT category_set_added('{a,c}', '{b,c}') AS adds_b, category_set_added('{a,c}', '{a}') AS adds_nothing,
       category_set_added(NULL, '{b}') AS all_new, category_set_added('{a}', NULL) AS no_partial;

-- activity_state: per UTC day, which deliverability events a recipient had (once a day) and
-- how many machine opens and clicks; event names as ingest stores them (lowercase); events
-- that bear on none, and rows with a NULL event or time, are skipped.
CREATE TABLE activity_rows (event text, bounce_type text, machine_open boolean, at timestamptz);
INSERT INTO activity_rows VALUES
  ('processed', NULL, NULL, '2024-03-01 23:59:59.999999+00'),
  ('processed', NULL, NULL, '2024-03-01 08:00+00'),
  ('delivered', NULL, NULL, '2024-03-02 00:00+00'),
  ('open', NULL, true, '2024-03-02 01:00+00'),
  ('open', NULL, true, '2024-03-02 02:00+00'),
  ('open', NULL, false, '2024-03-02 03:00+00'),
  ('open', NULL, NULL, '2024-03-02 03:30+00'),
  ('click', NULL, NULL, '2024-03-02 04:00+00'),
  ('click', NULL, NULL, '2024-03-02 05:00+00'),
  ('bounce', 'blocked', NULL, '2024-03-03 10:00+00'),
  ('bounce', 'bounce', NULL, '2024-03-03 11:00+00'),
  ('bounce', NULL, NULL, '2024-03-04 10:00+00'),
  ('dropped', NULL, NULL, '2024-03-04 10:00+00'),
  ('deferred', NULL, NULL, '2024-03-04 10:00+00'),
  ('spamreport', NULL, NULL, '2024-03-05 01:00+02'),
  ('unsubscribe', NULL, NULL, '2024-03-05 10:00+00'),
  ('group_unsubscribe', NULL, NULL, '2024-03-06 10:00+00'),
  ('some_future_event', NULL, NULL, '2024-03-06 10:00+00'),
  (NULL, NULL, NULL, '2024-03-06 10:00+00'),
  ('processed', NULL, NULL, NULL);
SELECT activity_state(event, bounce_type, machine_open, at) FROM activity_rows;
SELECT a.* FROM activity_days((SELECT activity_state(event, bounce_type, machine_open, at) FROM activity_rows)) AS a;
-- In any order, the same activity.
SELECT (SELECT activity_state(event, bounce_type, machine_open, at ORDER BY at DESC, event DESC) FROM activity_rows)::text
     = (SELECT activity_state(event, bounce_type, machine_open, at ORDER BY at, event) FROM activity_rows)::text AS order_independent;
-- No event that counts: NULL.
SELECT activity_state(event, NULL, NULL, now()) IS NULL AS none
  FROM (VALUES ('unsubscribe'), ('some_future_event'), (NULL)) v(event);
-- Days before 2000-01-01 (or infinite) are out of range: 22008.
SELECT activity_state('processed', NULL, NULL, '1999-12-31 23:59:59+00');
\set VERBOSITY sqlstate
SELECT activity_state('processed', NULL, NULL, 'infinity');
\set VERBOSITY default

-- activity text I/O: a JSON array of days, read back as the same activity; days are written
-- as ISO dates whatever DateStyle says, so the text means the same day in every session.
SELECT '[{"day": "2024-03-02", "events": ["delivered", "opened_by_human"], "machine_opens": 2, "clicks": 1},
         {"clicks": 0, "machine_opens": 0, "events": ["spam_reported", "processed", "processed"], "day": "2024-03-01"}]'::activity;
SELECT count(*) AS read_back_differently
  FROM (SELECT activity_state(event, bounce_type, machine_open, at) AS a FROM activity_rows) s
 WHERE a::text::activity::text <> a::text;
SET datestyle = 'SQL, DMY';
SELECT '[{"day": "2024-02-01", "events": ["processed"], "machine_opens": 0, "clicks": 0}]'::activity;
RESET datestyle;
-- Bad text input: 22P02, with what is wrong in the detail.
SELECT '{}'::activity;
SELECT '[1]'::activity;
SELECT '[{"day": "2024-03-01", "events": ["Processed"], "machine_opens": 0, "clicks": 0}]'::activity;
SELECT '[{"day": "2024-03-01", "events": "processed", "machine_opens": 0, "clicks": 0}]'::activity;
SELECT '[{"day": "2024-03-01", "events": [], "machine_opens": 0}]'::activity;
SELECT '[{"day": "2024-03-01", "events": [], "machine_opens": -1, "clicks": 0}]'::activity;
SELECT '[{"day": "2024-03-01", "events": [], "machine_opens": 0, "clicks": 4294967296}]'::activity;
SELECT '[{"day": "1999-12-31", "events": ["processed"], "machine_opens": 0, "clicks": 0}]'::activity;
SELECT '[{"day": "the first of March", "events": ["processed"], "machine_opens": 0, "clicks": 0}]'::activity;
SELECT '[{"day": "2024-03-01", "events": ["processed"], "machine_opens": 0, "clicks": 0},
         {"day": "2024-03-01", "events": ["delivered"], "machine_opens": 0, "clicks": 0}]'::activity;
\set VERBOSITY sqlstate
SELECT '[1]'::activity;
-- Counts are whole numbers: 1.5 clicks is not one, nor is a count past numeric's bigint.
SELECT '[{"day": "2024-03-01", "events": [], "machine_opens": 0, "clicks": 1.5}]'::activity;
SELECT '[{"day": "2024-03-01", "events": [], "machine_opens": 1e30, "clicks": 0}]'::activity;
SELECT '[{"day": "2024-03-01", "events": [], "machine_opens": 0, "clicks": 0}, "not a day"]'::activity;
\set VERBOSITY default
SELECT input, pg_temp.error_of(format('SELECT %L::mailstatus.activity', v)) AS error
  FROM (VALUES ('not JSON', repeat('x', 10000000)),
               ('a long bad day', '[{"day": "' || repeat('x', 10000000) || '", "events": [], "machine_opens": 0, "clicks": 0}]'),
               ('a long bad event', '[{"day": "2024-03-01", "events": ["' || repeat('x', 10000000) || '"], "machine_opens": 0, "clicks": 0}]')) AS c(input, v);
-- The empty array is an activity without days.
SELECT '[]'::activity AS empty, (SELECT count(*) FROM activity_days('[]')) AS days;

-- Binary I/O through COPY BINARY gives back the same activity; an activity whose bytes are
-- not whole days (22P03), or whose days are not sorted and distinct (22P03), is refused.
-- Each day is three int4 in network byte order, as every binary format: day << 8 | flags
-- (days since 2000-01-01; processed = 1, delivered = 2, ... opened_by_human = 128), machine
-- opens, clicks.
SELECT current_setting('data_directory') || '/mailstatus_activity.bin' AS activity_path \gset
CREATE TABLE activity_sample AS
SELECT 1 AS id, activity_state(event, bounce_type, machine_open, at) AS a FROM activity_rows
UNION ALL SELECT 2, '[]'::activity UNION ALL SELECT 3, NULL;
COPY activity_sample TO :'activity_path' WITH (FORMAT binary);
CREATE TABLE activity_copy (id int, a activity);
COPY activity_copy FROM :'activity_path' WITH (FORMAT binary);
SELECT id, c.a::text IS NOT DISTINCT FROM s.a::text AS same FROM activity_copy c JOIN activity_sample s USING (id) ORDER BY id;
COPY (SELECT '[{"day": "2000-01-02", "events": ["processed", "delivered"], "machine_opens": 2, "clicks": 258}]'::activity)
  TO :'activity_path' WITH (FORMAT binary);
SELECT encode(substr(pg_read_binary_file(:'activity_path'), 20), 'hex') AS one_day;
CREATE TABLE activity_bad (a activity);
COPY (SELECT '\x0000000100'::bytea) TO :'activity_path' WITH (FORMAT binary);
COPY activity_bad FROM :'activity_path' WITH (FORMAT binary);
COPY (SELECT '\x010101010000000000000000010101010000000000000000'::bytea) TO :'activity_path' WITH (FORMAT binary);
COPY activity_bad FROM :'activity_path' WITH (FORMAT binary);
SELECT count(*) AS stored_bad FROM activity_bad;

-- activity_merge, its combine: per day, the flags of both and the sum of the counts; in
-- either order; NULL is no activity.
CREATE TABLE activity_parts AS
SELECT k, activity_state(event, bounce_type, machine_open, at) FILTER (WHERE hashtext(concat(event, at)) % k = 0) AS a,
       activity_state(event, bounce_type, machine_open, at) FILTER (WHERE hashtext(concat(event, at)) % k <> 0) AS b
  FROM activity_rows, generate_series(2, 6) k GROUP BY k;
SELECT count(*) AS splits,
       count(*) FILTER (WHERE activity_merge(a, b)::text IS DISTINCT FROM activity_merge(b, a)::text) AS order_matters,
       count(*) FILTER (WHERE activity_merge(a, b)::text IS DISTINCT FROM
                              (SELECT activity_state(event, bounce_type, machine_open, at) FROM activity_rows)::text) AS not_the_whole
  FROM activity_parts;
SELECT activity_merge(NULL, '[{"day": "2024-03-01", "events": ["processed"], "machine_opens": 0, "clicks": 0}]') AS null_first,
       activity_merge('[{"day": "2024-03-01", "events": ["processed"], "machine_opens": 0, "clicks": 0}]', NULL) AS null_second,
       activity_merge(NULL, NULL) AS both_null;
-- Two activities without days merge into none (never a crash).
SELECT coalesce(activity_merge('[]', '[]')::text, '[]') AS empty_merge;
-- Counts saturate at 4294967295 rather than wrap or fail a batch.
SELECT activity_merge('[{"day": "2024-03-01", "events": [], "machine_opens": 4294967295, "clicks": 4294967290}]',
                      '[{"day": "2024-03-01", "events": [], "machine_opens": 1, "clicks": 1}]');
-- activity_added: what merging partial into stored adds (the flags stored lacks, all of
-- partial's counts); NULL when nothing. activity_subtract takes it away again: the merged
-- activity without what the merge added is what was stored.
SELECT activity_added('[{"day": "2024-03-01", "events": ["processed"], "machine_opens": 1, "clicks": 0}]',
                      '[{"day": "2024-03-01", "events": ["processed", "delivered"], "machine_opens": 2, "clicks": 0},
                        {"day": "2024-03-02", "events": ["processed"], "machine_opens": 0, "clicks": 0}]') AS added,
       activity_added('[{"day": "2024-03-01", "events": ["processed"], "machine_opens": 0, "clicks": 0}]',
                      '[{"day": "2024-03-01", "events": ["processed"], "machine_opens": 0, "clicks": 0}]') AS adds_nothing,
       activity_added(NULL, '[{"day": "2024-03-01", "events": ["processed"], "machine_opens": 0, "clicks": 0}]') AS all_new,
       activity_added('[{"day": "2024-03-01", "events": ["processed"], "machine_opens": 0, "clicks": 0}]', NULL) AS no_partial;
SELECT count(*) AS splits,
       count(*) FILTER (WHERE activity_subtract(activity_merge(a, b), activity_added(a, b))::text IS DISTINCT FROM a::text) AS not_restored
  FROM activity_parts;
SELECT activity_subtract('[{"day": "2024-03-01", "events": ["processed"], "machine_opens": 0, "clicks": 0}]',
                         '[{"day": "2024-03-01", "events": ["processed"], "machine_opens": 0, "clicks": 0}]') AS nothing_left,
       activity_subtract(NULL, '[{"day": "2024-03-01", "events": ["processed"], "machine_opens": 0, "clicks": 0}]') AS from_null,
       activity_subtract('[{"day": "2024-03-01", "events": ["processed"], "machine_opens": 3, "clicks": 0}]', NULL) AS minus_null;
-- activity_figures: what a recipient counts in the deliverability figures, all on its send
-- day: its first hand-off (processed, or a send) even after another event, else its first
-- event; delivered by a delivery, an open, a click or a spam report; blocked only without a
-- bounce; machine opens and clicks summed over every day. Nothing for no events.
SELECT a.name, f.*
  FROM (VALUES
    ('hand-off after a deferral', '[{"day": "2024-03-01", "events": ["deferred"], "machine_opens": 0, "clicks": 0},
                                    {"day": "2024-03-02", "events": ["processed", "delivered"], "machine_opens": 0, "clicks": 0}]'),
    ('no hand-off', '[{"day": "2024-03-01", "events": ["deferred"], "machine_opens": 0, "clicks": 0},
                      {"day": "2024-03-03", "events": ["delivered"], "machine_opens": 0, "clicks": 2}]'),
    ('spam report only', '[{"day": "2024-03-05", "events": ["spam_reported"], "machine_opens": 0, "clicks": 0}]'),
    ('machine opens only', '[{"day": "2024-03-05", "events": [], "machine_opens": 3, "clicks": 0},
                             {"day": "2024-03-06", "events": [], "machine_opens": 4294967295, "clicks": 0}]'),
    ('blocked and bounced', '[{"day": "2024-03-05", "events": ["processed", "blocked"], "machine_opens": 0, "clicks": 0},
                              {"day": "2024-03-06", "events": ["bounced", "dropped"], "machine_opens": 0, "clicks": 0}]'),
    ('blocked only', '[{"day": "2024-03-05", "events": ["processed", "blocked"], "machine_opens": 0, "clicks": 0}]'),
    ('an empty day first', '[{"day": "2024-03-01", "events": [], "machine_opens": 0, "clicks": 0},
                             {"day": "2024-03-04", "events": ["opened_by_human"], "machine_opens": 0, "clicks": 0}]'),
    ('only empty days', '[{"day": "2024-03-01", "events": [], "machine_opens": 0, "clicks": 0}]'),
    ('none', '[]')) AS a(name, activity)
  LEFT JOIN LATERAL activity_figures(a.activity::activity) AS f ON true
 ORDER BY a.name;
SELECT count(*) AS rows_for_null FROM activity_figures(NULL);
DROP TABLE activity_rows, activity_sample, activity_copy, activity_bad, activity_parts;
