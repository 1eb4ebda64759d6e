-- Input at its edges: values posted in other forms than SendGrid's (numbers as strings,
-- leading zeros, ids posted as numbers) are given back by event_payload as posted; the ends
-- of the surrogate ranges of a \u escape in a raw body; a verification key with bytes after
-- its DER; a misspelt setting of the extension; an address of exactly the longest length.
SET search_path = mailstatus, public;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
TRUNCATE event, rejected_event, send, recipient, suppression_state, group_suppression_state, recipient_custom_args,
         deliverability_day, deliverability_category_day, recipient_count_by_status, status_change, recipient_retention;

-- Each element is given back exactly as posted, whatever the form of its values.
CREATE TEMP TABLE posted AS SELECT e AS element FROM jsonb_array_elements($$[
  {"email":"p@example.com","timestamp":1700000000,"event":"deferred","sg_event_id":"p1","sg_message_id":"P1.filter.0","attempt":"007"},
  {"email":"p@example.com","timestamp":1700000001,"event":"deferred","sg_event_id":"p2","sg_message_id":"P1.filter.0","attempt":7},
  {"email":"p@example.com","timestamp":1700000002,"event":"deferred","sg_event_id":"p3","sg_message_id":"P1.filter.0","attempt":"7"},
  {"email":"p@example.com","timestamp":1700000003,"event":"group_unsubscribe","sg_event_id":"p4","sg_message_id":"P1.filter.0","asm_group_id":"12"},
  {"email":"p@example.com","timestamp":1700000004,"event":"group_resubscribe","sg_event_id":"p5","sg_message_id":"P1.filter.0","asm_group_id":12},
  {"email":"p@example.com","timestamp":1700000005,"event":"delivered","sg_event_id":4096,"sg_message_id":"P1.filter.0","response":250}
]$$) AS e;
SELECT * FROM ingest_sendgrid_event((SELECT jsonb_agg(element) FROM posted));
SELECT e.sg_event_id, e.attempt, e.asm_group_id, e.response, e.residual FROM event e WHERE e.email = 'p@example.com' ORDER BY e.occurred_at;
SELECT p.element FROM posted p WHERE NOT EXISTS (SELECT FROM event e WHERE e.event_payload = p.element);

-- The ends of the surrogate ranges: U+10000 and U+10FFFF are pairs, kept; a low surrogate
-- alone, or after a high one but out of range, refuses the body.
SELECT * FROM ingest_sendgrid_event('[{"email":"s@example.com","timestamp":1700000000,"event":"bounce","sg_event_id":"s1","sg_message_id":"S1.filter.0","reason":"\uD800\uDC00 \uDBFF\uDFFF"}]'::text);
SELECT reason = U&'\+010000 \+10FFFF' AS both_kept FROM event WHERE sg_event_id = 's1';
SELECT * FROM ingest_sendgrid_event('[{"email":"s@example.com","timestamp":1700000000,"event":"bounce","sg_event_id":"s2","sg_message_id":"S1.filter.0","reason":"\uDFFF"}]'::text);
SELECT * FROM ingest_sendgrid_event('[{"email":"s@example.com","timestamp":1700000000,"event":"bounce","sg_event_id":"s3","sg_message_id":"S1.filter.0","reason":"\uDBFF\uE000"}]'::text);

-- A verification key is a DER SubjectPublicKeyInfo and nothing after it.
\set pubkey `cat test/webhook/test-public-key.b64`
SELECT sendgrid_public_key_is_valid(:'pubkey') AS the_key,
       sendgrid_public_key_is_valid(translate(encode(decode(:'pubkey', 'base64') || '\x00'::bytea, 'base64'), E'\n', '')) AS with_a_byte_after;

-- The extension's prefix is reserved: a misspelt setting is an error, not a silent placeholder.
SELECT machine_opens_counted();
SET mailstatus.count_machine_open = on;

-- record_send takes an address of 320 bytes, the longest there is, and refuses one longer.
SELECT record_send('L1', ARRAY[repeat('a', 64) || '@' || repeat('b', 251) || '.com'], '{}', '2023-11-14 10:00+00') AS recorded;
SELECT record_send('L2', ARRAY[repeat('a', 65) || '@' || repeat('b', 251) || '.com'], '{}', '2023-11-14 10:00+00') AS recorded;
SELECT message_id, octet_length(email) FROM send ORDER BY 1;
