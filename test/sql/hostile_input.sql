-- Input no one expects: outcome is rejected rows or a clear error, and the server lives on.
SET search_path = mailstatus, public;
SET timezone = 'UTC';
\i test/sql/include/helpers.psql
CALL pg_temp.empty_state();

-- 1 MB strings, in every field that takes text, through both paths.
SELECT * FROM ingest_sendgrid_event(jsonb_build_array(jsonb_build_object(
  'email', repeat('a', 1000000) || '@example.com', 'timestamp', 1700000000, 'event', 'bounce',
  'sg_event_id', 'huge-1', 'sg_message_id', repeat('m', 1000000) || '.filter0', 'reason', repeat('r', 1000000),
  'response', repeat('x', 1000000), 'url', repeat('u', 1000000), repeat('k', 1000), repeat('v', 1000000))));
SELECT * FROM ingest_sendgrid_webhook(jsonb_build_array(jsonb_build_object(
  'email', 'big@example.com', 'timestamp', 1700000000, 'event', repeat('e', 1000000), 'sg_event_id', repeat('i', 1000000)))::text);
-- Values too long for an index entry reject their element only; the others are stored whole.
SELECT * FROM ingest_sendgrid_event(jsonb_build_array(
  jsonb_build_object('email', 'long@example.com', 'timestamp', 1700000000, 'event', 'bounce', 'sg_event_id', 'huge-2',
                     'sg_message_id', repeat('m', 1000000) || '.filter0'),
  jsonb_build_object('email', 'long@example.com', 'timestamp', 1700000000, 'event', 'bounce', 'sg_event_id', 'huge-3',
                     'reason', repeat('r', 1000000), 'response', repeat('x', 1000000), 'url', repeat('u', 1000000),
                     'useragent', repeat('a', 1000000), repeat('k', 1000), repeat('v', 1000000))));
SELECT left(reason, 80) AS reason, pg_column_size(element) > 1000 AS element_kept FROM rejected_event ORDER BY id;
SELECT e.event_key, length(e.reason), length(e.response), length(e.url), length(e.event),
       length(e.event_payload::text) > 5000000 AS payload_kept, length(e.custom_args::text) > 1000000 AS custom_arg_kept
  FROM event e ORDER BY 1;

-- 100 000-element batches: all stored, all rejected, mixed.
SELECT * FROM ingest_sendgrid_event((SELECT jsonb_agg(jsonb_build_object('email', 'm' || g || '@example.com',
  'timestamp', 1700000000 + g, 'event', 'delivered', 'sg_event_id', 'many-' || g)) FROM generate_series(1, 100000) g));
SELECT * FROM ingest_sendgrid_webhook((SELECT '[' || string_agg(g::text, ',') || ']' FROM generate_series(1, 100000) g));
SELECT * FROM ingest_sendgrid_webhook((SELECT '[' || string_agg(CASE WHEN g % 2 = 0 THEN '{}' ELSE
  format('{"email":"w%s@example.com","timestamp":1700000000,"event":"open","sg_event_id":"mixed-%s"}', g, g) END, ',')
  || ']' FROM generate_series(1, 100000) g));

-- Deep nesting inside an event: refused past 64 levels on every path (54000), the jsonb path
-- too, though jsonb itself could hold it; nothing is stored.
SELECT * FROM ingest_sendgrid_event(('[{"email":"deep@example.com","timestamp":1700000000,"event":"open","sg_event_id":"deep-1","crm":'
  || repeat('[', 5000) || '1' || repeat(']', 5000) || '}]')::jsonb);
SELECT * FROM ingest_sendgrid_webhook('[{"email":"deep@example.com","timestamp":1700000000,"event":"open","crm":'
  || repeat('[', 5000) || '1' || repeat(']', 5000) || '}]');
\set VERBOSITY sqlstate
SELECT * FROM ingest_sendgrid_event('[{"email":"deep@example.com","timestamp":1700000000,"event":"open","crm":'
  || repeat('[', 5000) || '1' || repeat(']', 5000) || '}]');
SELECT * FROM ingest_sendgrid_event(('{"email":"deep@example.com","timestamp":1700000000,"event":"open","crm":'
  || repeat('{"a":', 100) || '1' || repeat('}', 100) || '}')::jsonb);
\set VERBOSITY default
SELECT count(*) AS deep_events_stored FROM event WHERE email = 'deep@example.com';

-- Numbers out of range in every numeric field (9700000000000212 is the fuzzer's first finding:
-- milliseconds whose conversion to microseconds overflowed).
CREATE TEMP TABLE out_of_range(body text);
INSERT INTO out_of_range VALUES ($$[
  {"email":"n@example.com","event":"open","timestamp":1e30},
  {"email":"n@example.com","event":"open","timestamp":-1e30},
  {"email":"n@example.com","event":"open","timestamp":0.000001},
  {"email":"n@example.com","event":"open","timestamp":"99999999999999999999"},
  {"email":"n@example.com","event":"open","timestamp":9700000000000212},
  {"email":"n@example.com","event":"open","timestamp":1700000000,"attempt":1e30},
  {"email":"n@example.com","event":"open","timestamp":1700000000,"attempt":-2147483649},
  {"email":"n@example.com","event":"open","timestamp":1700000000,"asm_group_id":2147483648},
  {"email":"n@example.com","event":"open","timestamp":1700000000,"asm_group_id":"-0"}
]$$);
SELECT * FROM ingest_sendgrid_event((SELECT body::jsonb FROM out_of_range));
SELECT reason, element ->> 'timestamp' AS timestamp, element -> 'attempt' AS attempt, element -> 'asm_group_id' AS asm_group_id
  FROM rejected_event WHERE element ->> 'email' = 'n@example.com' ORDER BY reason COLLATE "C";
SELECT e.asm_group_id, e.event_payload -> 'asm_group_id' AS posted FROM event e WHERE e.email = 'n@example.com';
-- The text paths reject the same elements for the same reasons.
CREATE TEMP TABLE out_of_range_rejects AS SELECT element_key, reason FROM rejected_event WHERE element ->> 'email' = 'n@example.com';
DELETE FROM rejected_event WHERE element ->> 'email' = 'n@example.com';
SELECT * FROM ingest_sendgrid_webhook((SELECT body FROM out_of_range));
SELECT count(*) AS rejects_differing FROM (
  SELECT element_key, reason FROM rejected_event WHERE element ->> 'email' = 'n@example.com'
  EXCEPT SELECT * FROM out_of_range_rejects) d;
DELETE FROM rejected_event WHERE element ->> 'email' = 'n@example.com';
SELECT * FROM ingest_sendgrid_event((SELECT body FROM out_of_range));
SELECT count(*) AS rejects_differing FROM (
  SELECT element_key, reason FROM rejected_event WHERE element ->> 'email' = 'n@example.com'
  EXCEPT SELECT * FROM out_of_range_rejects) d;

-- A reject reason quotes at most 64 bytes of the value (cut on a character boundary, "..."
-- appended): a 10 MB timestamp or attempt makes a short reason.
SELECT * FROM ingest_sendgrid_event(jsonb_build_array(
  jsonb_build_object('email', 'q@example.com', 'event', 'open', 'timestamp', repeat('9', 10000000)),
  jsonb_build_object('email', 'q@example.com', 'event', 'open', 'timestamp', 1700000000, 'attempt', repeat('é', 5000000)),
  jsonb_build_object('email', 'q@example.com', 'event', 'open', 'timestamp', 'x' || repeat('é', 5000000))));
SELECT octet_length(reason) AS bytes, reason FROM rejected_event WHERE element ->> 'email' = 'q@example.com' ORDER BY reason COLLATE "C";

-- Whatever a body holds, an error quotes at most 64 bytes of it: message, detail and hint
-- stay short, on the text paths (an element with an integer beyond 64 bits goes to
-- PostgreSQL's JSON parser, whose own messages would quote a whole bad token).
CREATE TEMP TABLE long_bad_body (label text, body text);
INSERT INTO long_bad_body VALUES
  ('bad token', '[{"email":"a@example.com","a":' || repeat('x', 10000000) || '}]'),
  ('bad token after a wide integer', '[{"crm_id":123456789012345678901234567890,"a":' || repeat('x', 10000000) || '}]'),
  ('bad token in a wide-integer element', '[{"a":' || repeat('x', 10000000) || ',"crm_id":123456789012345678901234567890}]'),
  ('NaN-like word', '[{"a":NaN' || repeat('N', 10000000) || '}]'),
  ('long scalar body', '"' || repeat('x', 10000000) || '"'),
  ('long bare word body', repeat('x', 10000000));
SELECT label, pg_temp.error_of(format('SELECT * FROM mailstatus.ingest_sendgrid_webhook(%L)', body)) AS webhook,
       pg_temp.error_of(format('SELECT * FROM mailstatus.ingest_sendgrid_event(%L::text)', body)) AS text
  FROM long_bad_body ORDER BY label COLLATE "C";

-- Where numeric's range ends, the text paths agree with numeric itself: an element whose
-- number numeric refuses is rejected alone (never an error for the whole body, whose other
-- element is stored), one whose number numeric takes is not rejected (stored, or a duplicate
-- of an equal number stored before).
CREATE FUNCTION pg_temp.numeric_takes(n text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  PERFORM n::numeric;
  RETURN true;
EXCEPTION WHEN numeric_value_out_of_range OR invalid_text_representation THEN
  RETURN false;
END $$;
CREATE FUNCTION pg_temp.raw_verdict(n text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  counts record;
BEGIN
  SELECT * INTO counts FROM mailstatus.ingest_sendgrid_webhook(
    format('[{"email":"edge@example.com","event":"open","timestamp":1700000000,"n":%s},{"email":"edge@example.com","event":"open","timestamp":1700000000,"sg_event_id":"edge-ok"}]', n));
  RETURN CASE WHEN counts.rejected = 1 THEN 'rejected' WHEN counts.rejected = 0 THEN 'stored' ELSE 'what?' END;
EXCEPTION WHEN OTHERS THEN
  RETURN 'error ' || SQLSTATE;
END $$;
TRUNCATE event, rejected_event;
CREATE TEMP TABLE edge_number (label text, n text);
INSERT INTO edge_number (n) VALUES ('1e131071'), ('1e131072'), ('9.9999e131071'), ('0.1e131072'), ('100e131070'),
  ('-1e131072'), ('1e-16383'), ('1e-16384'), ('1.5e-16383'), ('0.0001e-16379'), ('0e999999999'),
  ('0e-999999999'), ('0e-16384'), ('0.0e-16383'), ('1e1073741823'), ('1e2147483648'), ('0e2147483648'),
  ('123456789012345678901234567890e-16350'), ('1e99999999999999999999'), ('-3e-99999999999999999999');
INSERT INTO edge_number VALUES ('1 and 131071 zeros', '1' || repeat('0', 131071)), ('1 and 131072 zeros', '1' || repeat('0', 131072)),
  ('0. 16382 zeros 1', '0.' || repeat('0', 16382) || '1'), ('0. 16383 zeros 1', '0.' || repeat('0', 16383) || '1'),
  ('0. and 16384 zeros', '0.' || repeat('0', 16384));
SELECT coalesce(label, n) AS number, pg_temp.numeric_takes(n) AS numeric_takes, pg_temp.raw_verdict(n) AS element
  FROM edge_number ORDER BY coalesce(label, n) COLLATE "C";
SELECT count(*) AS rejected, count(*) FILTER (WHERE reason = 'the element holds a number outside the range of PostgreSQL''s numeric type') AS for_the_range
  FROM rejected_event;
SELECT count(*) AS stored FROM event WHERE sg_event_id = 'edge-ok';

-- Duplicate keys in one object: the last one wins, on both paths.
SELECT * FROM ingest_sendgrid_webhook('[{"email":"first@example.com","email":"last@example.com","event":"open","event":"click","timestamp":1700000000,"sg_event_id":"dupkey-1","sg_event_id":"dupkey-2"}]');
SELECT e.event_key, e.email, e.event FROM event e WHERE e.sg_event_id LIKE 'dupkey%';

-- null everywhere, on the jsonb path and on both text paths: the same rejects.
TRUNCATE rejected_event;
CREATE TEMP TABLE nulls(body text);
INSERT INTO nulls VALUES ($$[{"email":null,"timestamp":null,"event":null,"sg_event_id":null,"sg_message_id":null,
  "category":null,"reason":null,"status":null,"response":null,"attempt":null,"type":null,"url":null,"useragent":null,
  "ip":null,"sg_machine_open":null,"asm_group_id":null,"custom":null}, null, [null], {"":null}]$$);
SELECT * FROM ingest_sendgrid_event((SELECT body::jsonb FROM nulls));
SELECT reason, element FROM rejected_event ORDER BY reason COLLATE "C", element::text COLLATE "C";
CREATE TEMP TABLE null_rejects AS SELECT element_key, reason FROM rejected_event;
TRUNCATE rejected_event;
SELECT * FROM ingest_sendgrid_webhook((SELECT body FROM nulls));
SELECT count(*) AS rejects_differing FROM (SELECT element_key, reason FROM rejected_event EXCEPT SELECT * FROM null_rejects) d;
TRUNCATE rejected_event;
SELECT * FROM ingest_sendgrid_event((SELECT body FROM nulls));
SELECT count(*) AS rejects_differing FROM (SELECT element_key, reason FROM rejected_event EXCEPT SELECT * FROM null_rejects) d;
-- A required field that is null, missing or empty (or only white space, ASCII or Unicode)
-- rejects its element; an optional one that is null is kept as posted.
SELECT * FROM ingest_sendgrid_event($$[
  {"email":"", "event":"open", "timestamp":1700000000},
  {"email":" \u00a0\u200b\u3000 ", "event":"open", "timestamp":1700000000},
  {"email":"o@example.com", "event":" ", "timestamp":1700000000},
  {"email":"o@example.com", "event":"open"},
  {"email":"o@example.com", "event":"open", "timestamp":1700000000, "sg_event_id":"opt-null", "reason":null, "category":null}
]$$::jsonb);
SELECT reason FROM rejected_event WHERE element ->> 'email' IS DISTINCT FROM NULL AND reason NOT LIKE 'element is%' ORDER BY reason COLLATE "C";
SELECT e.reason, e.category, e.residual, e.event_payload FROM event e WHERE e.sg_event_id = 'opt-null';

-- Addresses as people paste them: Unicode spaces trimmed (no-break, the U+2000 block,
-- narrow no-break, medium mathematical, ideographic, ogham, line and paragraph separators,
-- next line), invisible characters removed wherever they are (zero-width space and joiners,
-- word joiner, byte order mark, soft hyphen), ASCII letters lowercased (other letters kept);
-- a space between other characters is kept.
SELECT label, normalize_email(address) AS normalized, octet_length(normalize_email(address)) AS bytes
  FROM (VALUES ('no-break spaces around', E'\u00a0Ann@Example.COM\u00a0'),
               ('em and ideographic spaces', E'\u2003ann@example.com\u3000'),
               ('U+2000 to U+200A', E'\u2000\u2001\u2002\u2004\u2005\u2006\u2007\u2008\u2009\u200aann@example.com'),
               ('narrow, medium, ogham, separators, next line', E'\u202f\u205f\u1680\u2028\u2029\u0085ann@example.com\t\n '),
               ('zero-width space, soft hyphen inside', E'ann\u200b@exam\u00adple.com'),
               ('byte order mark first', E'\ufeffann@example.com'),
               ('word joiner, zero-width joiners', E'ann\u2060@example.com\u200c\u200d'),
               ('non-ASCII capital kept', 'ANN@ÉXAMPLE.COM'),
               ('inner space kept', 'ann @example.com'),
               ('inner no-break space kept', E'ann\u00a0@example.com'),
               ('only blanks', E'\u00a0\u200b\u3000 ')) AS a(label, address)
 ORDER BY label COLLATE "C";
-- Ingest stores the normalized address, keeps the posted one in residual, and gives the
-- event back as posted; the same address written with other blanks is the same recipient.
TRUNCATE event, rejected_event;
SELECT * FROM ingest_sendgrid_event(jsonb_build_array(
  jsonb_build_object('email', E'\u00a0Ann@Example.COM\u200b', 'event', 'processed', 'timestamp', 1700000000, 'sg_event_id', 'u-1', 'sg_message_id', 'U1.filter0'),
  jsonb_build_object('email', E'\ufeffann@example.com\u3000', 'event', 'delivered', 'timestamp', 1700000100, 'sg_event_id', 'u-2', 'sg_message_id', 'U1.filter0'),
  jsonb_build_object('email', 'ann@example.com', 'event', 'open', 'timestamp', 1700000200, 'sg_event_id', 'u-3', 'sg_message_id', 'U1.filter0')));
SELECT e.sg_event_id, e.email, e.residual IS NOT NULL AS posted_form_kept,
       e.event_payload ->> 'email' = e.residual ->> 'email' AS given_back_as_posted
  FROM event e ORDER BY 1;
SELECT message_id, email, status FROM recipient_status WHERE message_id = 'U1';

-- Invalid UTF-8 cannot reach the raw-body path: text is validated on the way in.
SELECT convert_from('\x5b22ff225d'::bytea, 'UTF8');

-- A category longer than a counter row's index entry holds (issue 19, defect 5: 3,200 bytes
-- failed the whole batch with "index row size ... exceeds"): its element is rejected alone,
-- with the reason, as a string, in an array, or as a number whose text is that long; up to
-- 1,024 bytes are stored (SendGrid's categories have at most 255 characters, 1,020 bytes in
-- any encoding).
TRUNCATE event, rejected_event, recipient, deliverability_category_day;
SELECT * FROM ingest_sendgrid_event(jsonb_build_array(
  jsonb_build_object('email', 'c@example.com', 'event', 'delivered', 'timestamp', 1700000000, 'sg_event_id', 'cat-ok', 'sg_message_id', 'C1.filter0', 'category', 'invoice'),
  jsonb_build_object('email', 'c@example.com', 'event', 'open', 'timestamp', 1700000100, 'sg_event_id', 'cat-1024', 'sg_message_id', 'C1.filter0', 'category', repeat('é', 512)),
  jsonb_build_object('email', 'c@example.com', 'event', 'open', 'timestamp', 1700000200, 'sg_event_id', 'cat-3200', 'sg_message_id', 'C1.filter0', 'category', repeat('c', 3200)),
  jsonb_build_object('email', 'c@example.com', 'event', 'open', 'timestamp', 1700000300, 'sg_event_id', 'cat-1025', 'sg_message_id', 'C1.filter0', 'category', jsonb_build_array('ok', repeat('c', 1025))),
  jsonb_build_object('email', 'c@example.com', 'event', 'open', 'timestamp', 1700000400, 'sg_event_id', 'cat-number', 'sg_message_id', 'C1.filter0', 'category', '1e3000'::jsonb)));
SELECT element ->> 'sg_event_id' AS sg_event_id, reason FROM rejected_event ORDER BY 1;
SELECT day, octet_length(category) AS category_bytes, sent, delivered, unique_human_opens FROM deliverability_category_day ORDER BY 2;

-- Many categories on one event (issue 19, defect 6: the counters' work grew with the square
-- of their number, and could not be cancelled: 80,000 took 80 seconds). 80,000 categories are
-- stored and counted under each, well within the guard below (quadratic work exceeds it many
-- times over); a bigger body is cancelled by statement_timeout, not run to its end.
CREATE TEMP TABLE many_categories AS
SELECT jsonb_build_object('email', 'm@example.com', 'event', 'delivered', 'timestamp', 1700000000, 'sg_event_id', 'cat-80000',
                          'sg_message_id', 'C2.filter0', 'category', (SELECT jsonb_agg('category ' || g) FROM generate_series(1, 80000) g)) AS body;
SET statement_timeout = '60s';
SELECT * FROM ingest_sendgrid_event((SELECT body FROM many_categories));
SELECT count(*) AS categories_counted, sum(delivered) AS delivered FROM deliverability_category_day WHERE category LIKE 'category %';
SELECT cardinality(categories) AS categories FROM recipient WHERE email = 'm@example.com';
UPDATE many_categories SET body = jsonb_set(jsonb_set(body, '{sg_event_id}', '"cat-400000"'), '{category}',
                                            (SELECT jsonb_agg('category ' || g) FROM generate_series(1, 400000) g));
SET statement_timeout = '1s';
\set VERBOSITY terse
SELECT * FROM ingest_sendgrid_event((SELECT body FROM many_categories));
\set VERBOSITY default
RESET statement_timeout;
SELECT count(*) AS stored_by_the_cancelled_call FROM event WHERE sg_event_id = 'cat-400000';

-- The server is still here.
SELECT count(*) > 0 AS alive FROM event;
