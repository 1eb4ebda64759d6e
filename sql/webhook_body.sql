-- The raw-body path (json-c) stores exactly what the jsonb path stores, and every odd body
-- has a clear outcome.
SET search_path = mailstatus, public;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
TRUNCATE event, rejected_event, send;

-- A body with everything that could tell the two parsers apart: key order, white space and
-- \r\n, duplicate keys, escapes and non-ASCII, numbers of every shape, nulls, nesting,
-- elements without sg_event_id (content-hash keys) and bad elements.
CREATE TEMP TABLE raw(body text);
INSERT INTO raw VALUES (replace($$[
{"sg_event_id":"b-1","event":"processed","timestamp":1700000000,"email":"Ann@Example.com","sg_message_id":"B1.filter.0","invoice_id":"INV-1","amount":12.50,"qty":3,"ratio":1.0E+2,"huge":1e400,"neg":-0.0,"big":18446744073709551615,"small":-9223372036854775808,"note":"caf\u00e9 \ud83d\ude00 \"quoted\" \\ back\/slash","nested":{"a":[1,{"b":null}],"c":true}},
{"event":"unsubscribe","email":"hal@example.com","timestamp":"1700000100"},
{"email":"hal@example.com","timestamp":"1700000100","event":"unsubscribe"},
{"email":"x@example.com","email":"dup@example.com","event":"open","timestamp":1700000200,"sg_event_id":"b-2","sg_machine_open":false},
{"email":"c@example.com","event":"bounce","timestamp":1700000300000,"sg_event_id":"b-3","category":["a","b"],"type":"blocked","attempt":"2","asm_group_id":null},
42, "text", null, [1,2], {}, {"email":"d@example.com","event":"open","timestamp":true},
{"email":"e@example.com","event":"open","timestamp":1700000400,"sg_event_id":"b-4","category":"one"}
]
$$, E'\n', E'\r\n'));
-- It has SendGrid's \r\n framing.
SELECT (SELECT body FROM raw) LIKE E'%},\r\n{%' AS crlf_framed;
SELECT * FROM ingest_sendgrid_webhook((SELECT body FROM raw));
CREATE TEMP TABLE via_json_c AS
  SELECT event_key, sg_event_id, sg_message_id, message_id, email, event, status, occurred_at, reason,
         smtp_status, response, bounce_type, bounce_classification, url, useragent, ip, machine_open,
         attempt, asm_group_id, category, custom_args, payload FROM event;
CREATE TEMP TABLE rejects_json_c AS SELECT element_key, reason, element FROM rejected_event;
TRUNCATE event, rejected_event;
SELECT * FROM ingest_sendgrid_event((SELECT body::jsonb FROM raw));
CREATE TEMP TABLE via_jsonb AS
  SELECT event_key, sg_event_id, sg_message_id, message_id, email, event, status, occurred_at, reason,
         smtp_status, response, bounce_type, bounce_classification, url, useragent, ip, machine_open,
         attempt, asm_group_id, category, custom_args, payload FROM event;
-- Same rows, same dedup keys, same rejects, to the byte.
SELECT (SELECT count(*) FROM via_json_c) AS events,
       (SELECT count(*) FROM (SELECT * FROM via_json_c EXCEPT SELECT * FROM via_jsonb) d) AS only_json_c,
       (SELECT count(*) FROM (SELECT * FROM via_jsonb EXCEPT SELECT * FROM via_json_c) d) AS only_jsonb,
       (SELECT count(*) FROM (SELECT element_key, reason, element::text FROM rejects_json_c
                              EXCEPT SELECT element_key, reason, element::text FROM rejected_event) d) AS rejects_differing,
       (SELECT count(*) FROM rejected_event) AS rejects;
SELECT payload FROM via_json_c WHERE event_key = 'b-1';
SELECT event_key, email, occurred_at, category FROM via_json_c ORDER BY event_key;

-- Integers beyond 64 bits, which json-c would saturate, keep every digit.
SELECT * FROM ingest_sendgrid_webhook('[{"email":"big@example.com","event":"open","timestamp":1700000500,"sg_event_id":"b-5","crm_id":123456789012345678901234567890,"neg":-9223372036854775809}]');
SELECT custom_args FROM event WHERE event_key = 'b-5';

-- One event object as the body.
SELECT * FROM ingest_sendgrid_webhook('{"email":"one@example.com","event":"delivered","timestamp":1700000600,"sg_event_id":"b-6"}');

-- Bodies that cannot be stored: each a clear error, with where it went wrong.
SELECT * FROM ingest_sendgrid_webhook('hello');
SELECT * FROM ingest_sendgrid_webhook(E'[\r\n{"email":"a@example.com"},\r\n{"email" "b"}\r\n]');
SELECT * FROM ingest_sendgrid_webhook('[{"email":"a@example.com","event":"open","timestamp":1700000000},]');
SELECT * FROM ingest_sendgrid_webhook('[{"a":1}] trailing');
SELECT * FROM ingest_sendgrid_webhook('[{"a":1}][{"b":2}]');
SELECT * FROM ingest_sendgrid_webhook($$[{'single': 'quotes'}]$$);
SELECT * FROM ingest_sendgrid_webhook('[{"a":1} /* comment */]');
SELECT * FROM ingest_sendgrid_webhook('[{"a":NaN}]');
SELECT * FROM ingest_sendgrid_webhook('[{"a":-Infinity}]');
SELECT * FROM ingest_sendgrid_webhook('[{"a":01}]');
-- What json-c takes but JSON (and PostgreSQL) does not: raw control characters in strings,
-- numbers such as -01, 1. and 1e (found by the differential fuzz test).
SELECT * FROM ingest_sendgrid_webhook(E'[{"email":"a@example.com","reason":"line\nbreak"}]');
SELECT * FROM ingest_sendgrid_webhook('[{"a":-01}]');
SELECT * FROM ingest_sendgrid_webhook('[{"a":1.}]');
SELECT * FROM ingest_sendgrid_webhook('[{"a":1e}]');
SELECT * FROM ingest_sendgrid_webhook('[{"a":1.5e+}]');
-- Truncated, or empty.
SELECT * FROM ingest_sendgrid_webhook('[{"email":"a@example.com","event":"open","timest');
SELECT * FROM ingest_sendgrid_webhook('');
SELECT * FROM ingest_sendgrid_webhook('   ');
-- A scalar body: 22023, as on the jsonb path.
SELECT * FROM ingest_sendgrid_webhook('42');
-- NUL and unpaired surrogates: refused as PostgreSQL's JSON parser refuses them.
SELECT * FROM ingest_sendgrid_webhook('[{"email":"a\u0000b@example.com"}]');
SELECT * FROM ingest_sendgrid_webhook('[{"note":"\\u0000 is fine when the backslash is escaped","email":"n@example.com","event":"open","timestamp":1700000700,"sg_event_id":"b-7"}]');
SELECT * FROM ingest_sendgrid_webhook('[{"note":"\ud800 alone"}]');
SELECT * FROM ingest_sendgrid_webhook('[{"note":"\udc00 first"}]');
-- Nested absurdly deep.
SELECT * FROM ingest_sendgrid_webhook(repeat('[', 65) || repeat(']', 65));
SELECT * FROM ingest_sendgrid_webhook(repeat('[', 64) || repeat(']', 64));
\set VERBOSITY sqlstate
SELECT * FROM ingest_sendgrid_webhook('hello');
SELECT * FROM ingest_sendgrid_webhook(repeat('[', 100000) || repeat(']', 100000));
SELECT * FROM ingest_sendgrid_webhook('[{"email":"a\u0000b@example.com"}]');
\set VERBOSITY default
-- NULL body.
SELECT * FROM ingest_sendgrid_webhook(NULL);

-- A big body (20 000 events, about 4 MB) goes in whole.
SELECT * FROM ingest_sendgrid_webhook((
  SELECT '[' || string_agg(format('{"email":"bulk%s@example.com","timestamp":%s,"event":"delivered","sg_event_id":"raw-bulk-%s","sg_message_id":"RawBulk%s.filter0001.0","response":"250 OK %s"}',
                                  g, 1700010000 + g, g, g / 4, repeat('x', 100)), E',\r\n') || ']'
    FROM generate_series(1, 20000) g));
SELECT count(*) FROM event WHERE event_key LIKE 'raw-bulk-%';
