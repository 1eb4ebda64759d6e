-- Bad input: every element that cannot be stored lands in rejected_event with the reason,
-- the rest of the batch is stored; a body that is neither object nor array is an error.
SET search_path = mailstatus, public;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
\i test/sql/include/helpers.psql
CALL pg_temp.empty_state();

SELECT * FROM ingest_sendgrid_event($$[
  {"email": "ok@example.com", "timestamp": 1700000000, "event": "delivered", "sg_event_id": "ok-1", "sg_message_id": "Ok.filter1.0"},
  42,
  "a string",
  null,
  true,
  [1, 2],
  {},
  {"timestamp": 1700000000, "event": "delivered"},
  {"email": null, "timestamp": 1700000000, "event": "delivered"},
  {"email": 7, "timestamp": 1700000000, "event": "delivered"},
  {"email": "   ", "timestamp": 1700000000, "event": "delivered"},
  {"email": "a@example.com", "timestamp": 1700000000},
  {"email": "a@example.com", "timestamp": 1700000000, "event": ["open"]},
  {"email": "a@example.com", "timestamp": 1700000000, "event": ""},
  {"email": "a@example.com", "event": "open"},
  {"email": "a@example.com", "timestamp": "yesterday", "event": "open"},
  {"email": "a@example.com", "timestamp": {"s": 1}, "event": "open"},
  {"email": "a@example.com", "timestamp": -5, "event": "open"},
  {"email": "a@example.com", "timestamp": 12, "event": "open"},
  {"email": "a@example.com", "timestamp": 99999999999, "event": "open"},
  {"email": "a@example.com", "timestamp": 1e300, "event": "open"},
  {"email": "a@example.com", "timestamp": "1700000000.", "event": "open"},
  {"email": "a@example.com", "timestamp": 1700000000, "event": "open", "attempt": "three"},
  {"email": "a@example.com", "timestamp": 1700000000, "event": "open", "attempt": 1.5},
  {"email": "a@example.com", "timestamp": 1700000000, "event": "open", "attempt": 99999999999},
  {"email": "a@example.com", "timestamp": 1700000000, "event": "open", "asm_group_id": true},
  {"email": "a@example.com", "timestamp": 1700000000, "event": "open", "sg_machine_open": "yes"},
  {"email": "a@example.com", "timestamp": 1700000000, "event": "open", "sg_machine_open": 1},
  {"email": "a@example.com", "timestamp": 1700000000, "event": "open", "category": {"a": 1}},
  {"email": "a@example.com", "timestamp": 1700000000, "event": "open", "category": ["ok", ["nested"]]},
  {"email": "a@example.com", "timestamp": 1700000000, "event": "open", "reason": {"code": 550}},
  {"email": "a@example.com", "timestamp": 1700000000, "event": "open", "sg_event_id": ["x"]},
  {"email": "a@example.com", "timestamp": 1700000000, "event": "open", "sg_message_id": {"id": "x"}},
  {"email": "\u00a0\u200b ", "timestamp": 1700000000, "event": "open"},
  {"email": "a@example.com", "timestamp": 1700000000, "event": "open", "x": 1e1000000},
  {"email": "ok@example.com", "timestamp": 1700000001, "event": "open", "sg_event_id": "ok-2", "sg_message_id": "Ok.filter1.0"}
]$$);

-- The reasons (an element holding a number no jsonb holds is kept as its text).
SELECT reason, element FROM rejected_event ORDER BY reason, element::text;
-- Written in key order, like events: concurrent batches sharing bad elements never deadlock.
SELECT bool_and(ordered) AS written_in_key_order
  FROM (SELECT element_key >= lag(element_key, 1, '') OVER (ORDER BY id) AS ordered FROM rejected_event) o;
-- Posted again (a SendGrid retry), the bad elements are counted again but kept once.
SELECT * FROM ingest_sendgrid_event((SELECT jsonb_agg(element ORDER BY id) FROM rejected_event WHERE jsonb_typeof(element) <> 'string'));
SELECT count(*) AS rejected_rows, count(DISTINCT element_key) AS distinct_elements FROM rejected_event;
-- The good elements around them were stored.
SELECT e.event_key, e.email, e.event FROM event e ORDER BY 1;
-- Rejects are stamped with the transaction's time.
BEGIN;
SELECT rejected FROM ingest_sendgrid_event('[1]');
SELECT received_at = now() AS stamped_now FROM rejected_event ORDER BY id DESC LIMIT 1;
ROLLBACK;

-- Nulls for optional fields leave their columns NULL, and numbers and booleans in a string
-- field become its text; both are kept as posted.
SELECT * FROM ingest_sendgrid_event($$[{"email": "n@example.com", "timestamp": 1700000000, "event": "bounce",
  "sg_event_id": "null-1", "sg_message_id": null, "reason": null, "status": 550, "attempt": null, "category": null,
  "sg_machine_open": null, "type": true, "ip": null, "url": null, "useragent": null, "response": null,
  "bounce_classification": null, "asm_group_id": null}]$$);
SELECT e.message_id, e.reason, e.smtp_status, e.attempt, e.category, e.machine_open, e.bounce_type, e.residual, e.event_payload
  FROM event e WHERE e.sg_event_id = 'null-1';

-- Too long to be what SendGrid sends: an address over 320 bytes, an id over 256; the reason
-- quotes no more than a short prefix of a long value.
SELECT * FROM ingest_sendgrid_event(jsonb_build_array(
  jsonb_build_object('email', repeat('a', 321) || '@example.com', 'timestamp', 1700000000, 'event', 'open'),
  jsonb_build_object('email', 'a@example.com', 'timestamp', 1700000000, 'event', 'open', 'sg_event_id', repeat('i', 257)),
  jsonb_build_object('email', 'a@example.com', 'timestamp', 1700000000, 'event', 'open', 'sg_message_id', repeat('m', 257) || '.filter0'),
  jsonb_build_object('email', 'a@example.com', 'timestamp', repeat('9', 100000), 'event', 'open')));
SELECT reason FROM (SELECT reason FROM rejected_event ORDER BY id DESC LIMIT 4) r ORDER BY 1;

-- record_send takes the limits ingest takes (one definition, in C): an address or a message
-- id at the limit is accepted by both, one byte over it rejected by both.
SELECT mailstatus.email_max_bytes() AS email_max_bytes, mailstatus.sendgrid_id_max_bytes() AS sendgrid_id_max_bytes;
SELECT over AS bytes_over_the_limit,
       (SELECT rejected FROM ingest_sendgrid_event(jsonb_build_object(
          'email', repeat('e', email_max_bytes() - 12 + over) || '@example.com', 'timestamp', 1700000000,
          'event', 'open', 'sg_event_id', 'limit-address-' || over))) = 1 AS ingest_rejects_the_address,
       (SELECT rejected FROM ingest_sendgrid_event(jsonb_build_object(
          'email', 'limit@example.com', 'timestamp', 1700000000, 'event', 'open',
          'sg_event_id', 'limit-message-' || over,
          'sg_message_id', repeat('m', sendgrid_id_max_bytes() + over) || '.filter0'))) = 1 AS ingest_rejects_the_message_id,
       record_send('LimitMsg' || over, ARRAY[repeat('s', email_max_bytes() - 12 + over) || '@example.com'],
                   '{}', '2023-11-14 22:13:00+00') = 0 AS record_send_rejects_the_address,
       pg_temp.outcome(format('SELECT mailstatus.record_send(%L, ARRAY[''limit@example.com''], ''{}'', ''2023-11-14 22:13:00+00'')',
                              repeat('m', sendgrid_id_max_bytes() + over))) AS record_send_of_the_message_id
  FROM (VALUES (0), (1)) AS v(over) ORDER BY over;

-- A body that is neither an object nor an array: 22023.
SELECT * FROM ingest_sendgrid_event('42');
SELECT * FROM ingest_sendgrid_event('"text"');
SELECT * FROM ingest_sendgrid_event('null');
\set VERBOSITY sqlstate
SELECT * FROM ingest_sendgrid_event('true');
\set VERBOSITY default
-- SQL NULL in, nothing out (STRICT).
SELECT * FROM ingest_sendgrid_event(NULL);
