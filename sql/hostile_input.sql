-- Input no one expects: outcome is rejected rows or a clear error, and the server lives on.
SET search_path = mailstatus, public;
SET timezone = 'UTC';
TRUNCATE event, rejected_event, send;

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
SELECT event_key, length(reason), length(response), length(url), length(event), length(payload::text) > 5000000 AS payload_kept
  FROM event ORDER BY event_key;

-- 100 000-element batches: all stored, all rejected, mixed.
SELECT * FROM ingest_sendgrid_event((SELECT jsonb_agg(jsonb_build_object('email', 'm' || g || '@example.com',
  'timestamp', 1700000000 + g, 'event', 'delivered', 'sg_event_id', 'many-' || g)) FROM generate_series(1, 100000) g));
SELECT * FROM ingest_sendgrid_webhook((SELECT '[' || string_agg(g::text, ',') || ']' FROM generate_series(1, 100000) g));
SELECT * FROM ingest_sendgrid_webhook((SELECT '[' || string_agg(CASE WHEN g % 2 = 0 THEN '{}' ELSE
  format('{"email":"w%s@example.com","timestamp":1700000000,"event":"open","sg_event_id":"mixed-%s"}', g, g) END, ',')
  || ']' FROM generate_series(1, 100000) g));

-- Deep nesting inside an event: jsonb keeps it (in payload and custom args), json-c refuses past 64.
SELECT * FROM ingest_sendgrid_event(('[{"email":"deep@example.com","timestamp":1700000000,"event":"open","sg_event_id":"deep-1","crm":'
  || repeat('[', 5000) || '1' || repeat(']', 5000) || '}]')::jsonb);
SELECT jsonb_path_query_first(custom_args, 'strict $.crm') IS NOT NULL AS deep_custom_arg_kept FROM event WHERE event_key = 'deep-1';
SELECT * FROM ingest_sendgrid_webhook('[{"email":"deep@example.com","timestamp":1700000000,"event":"open","crm":'
  || repeat('[', 5000) || '1' || repeat(']', 5000) || '}]');

-- Numbers out of range in every numeric field (9700000000000212 is the fuzzer's first finding:
-- milliseconds whose conversion to microseconds overflowed).
SELECT * FROM ingest_sendgrid_event($$[
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
SELECT reason FROM rejected_event WHERE element ->> 'email' = 'n@example.com' ORDER BY id;
SELECT asm_group_id FROM event WHERE email = 'n@example.com';

-- Duplicate keys in one object: the last one wins, on both paths.
SELECT * FROM ingest_sendgrid_webhook('[{"email":"first@example.com","email":"last@example.com","event":"open","event":"click","timestamp":1700000000,"sg_event_id":"dupkey-1","sg_event_id":"dupkey-2"}]');
SELECT event_key, email, event FROM event WHERE event_key LIKE 'dupkey%';

-- null everywhere.
SELECT * FROM ingest_sendgrid_event($$[{"email":null,"timestamp":null,"event":null,"sg_event_id":null,"sg_message_id":null,
  "category":null,"reason":null,"status":null,"response":null,"attempt":null,"type":null,"url":null,"useragent":null,
  "ip":null,"sg_machine_open":null,"asm_group_id":null,"custom":null}, null, [null], {"":null}]$$);
SELECT reason, element FROM rejected_event WHERE element::text LIKE '%null%' ORDER BY id;

-- Invalid UTF-8 cannot reach the raw-body path: text is validated on the way in.
SELECT convert_from('\x5b22ff225d'::bytea, 'UTF8');

-- The server is still here.
SELECT count(*) > 0 AS alive FROM event;
