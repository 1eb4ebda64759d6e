-- ingest_sendgrid_event(jsonb): batches and single events, idempotence, what lands in each column,
-- and the event as posted rebuilt from the compact row.
SET search_path = mailstatus, public;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

-- A webhook batch as SendGrid posts it: several recipients of one X-Message-Id, every event kind,
-- category as string and as array, the CRM's custom args as extra keys, unknown keys.
CREATE TEMP TABLE posted AS SELECT $$[
  {"email": "Ann@Example.com", "timestamp": 1700000000, "event": "processed", "sg_event_id": "ev-ann-1",
   "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0", "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
   "category": "invoice", "invoice_id": "INV-42", "crm_record": {"type": "invoice", "id": 42}},
  {"email": "ann@example.com", "timestamp": 1700000060, "event": "delivered", "sg_event_id": "ev-ann-2",
   "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0", "response": "250 OK", "tls": 1,
   "ip": "168.1.1.1", "category": ["invoice", "billing"], "invoice_id": "INV-42"},
  {"email": "ann@example.com", "timestamp": 1700000300, "event": "open", "sg_event_id": "ev-ann-3",
   "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0", "useragent": "Mozilla/5.0",
   "sg_machine_open": false, "invoice_id": "INV-42"},
  {"email": "ann@example.com", "timestamp": 1700000400, "event": "click", "sg_event_id": "ev-ann-4",
   "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0", "url": "https://crm.example/pay/42",
   "url_offset": {"index": 0, "type": "html"}, "invoice_id": "INV-42"},
  {"email": "bob@example.com", "timestamp": 1700000010, "event": "deferred", "sg_event_id": "ev-bob-1",
   "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.1", "response": "451 try later",
   "attempt": "3", "invoice_id": "INV-42"},
  {"email": "bob@example.com", "timestamp": 1700000900, "event": "bounce", "sg_event_id": "ev-bob-2",
   "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.1", "type": "blocked",
   "reason": "550 5.7.1 blocked by policy", "status": "5.7.1", "bounce_classification": "Reputation",
   "invoice_id": "INV-42"},
  {"email": "cy@example.com", "timestamp": 1700000020, "event": "dropped", "sg_event_id": "ev-cy-1",
   "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.2", "reason": "Bounced Address",
   "status": "5.0.0", "invoice_id": "INV-42"},
  {"email": "dee@example.com", "timestamp": 1700000030, "event": "spamreport", "sg_event_id": "ev-dee-1",
   "sg_message_id": "56WoYBdESN6RyEn_7bJRKA.recvd-5b6594c664-csn64-1-65A9F4D1-A.0", "quote_id": "Q-7"},
  {"email": "dee@example.com", "timestamp": 1700000040, "event": "group_unsubscribe", "sg_event_id": "ev-dee-2",
   "sg_message_id": "56WoYBdESN6RyEn_7bJRKA.recvd-5b6594c664-csn64-1-65A9F4D1-A.0", "asm_group_id": 12, "quote_id": "Q-7"},
  {"email": "dee@example.com", "timestamp": 1700000050, "event": "group_resubscribe", "sg_event_id": "ev-dee-3",
   "sg_message_id": "56WoYBdESN6RyEn_7bJRKA.recvd-5b6594c664-csn64-1-65A9F4D1-A.0", "asm_group_id": "12", "quote_id": "Q-7"},
  {"email": "eve@example.com", "timestamp": 1700000070, "event": "amp_view", "sg_event_id": "ev-eve-1",
   "sg_message_id": "56WoYBdESN6RyEn_7bJRKA.recvd-5b6594c664-csn64-1-65A9F4D1-A.1", "quote_id": "Q-7"}
]$$::jsonb AS body;
SELECT * FROM ingest_sendgrid_event((SELECT body FROM posted));

SELECT e.event_key, e.message_id, e.email, e.event, mail_status_of_event(e.event) AS status, e.occurred_at,
       e.attempt, e.asm_group_id, e.category, e.machine_open
  FROM event e ORDER BY 1;
SELECT e.event_key, e.reason, e.smtp_status, e.response, e.bounce_type, e.bounce_classification, e.url, e.useragent, e.ip
  FROM event e ORDER BY 1;
-- Each field once: the CRM's keys in custom_args; sg_message_id as what follows message_id;
-- smtp-id as its host; SendGrid's keys without a column (tls, url_offset) and the posted form
-- of a field its column normalized (an address with capitals, asm_group_id as a string) in
-- residual.
SELECT e.event_key, e.custom_args, e.sg_message_suffix, e.smtp_host, e.residual FROM event e ORDER BY 1;
-- The event exactly as posted, from every stored row.
SELECT count(*) AS posted, count(*) FILTER (WHERE EXISTS (SELECT FROM event e WHERE e.event_payload = p.element)) AS rebuilt
  FROM posted, jsonb_array_elements(posted.body) AS p(element);
SELECT e.event_payload FROM event e WHERE e.sg_event_id = 'ev-ann-4';
-- The dedup hash is the posted event's: rebuilt rows hash the same.
SELECT count(*) FILTER (WHERE e.content_hash <> content_hash(e.event_payload)) AS hashed_differently FROM event e;
-- received_at is the ingest transaction's time.
BEGIN;
SELECT stored FROM ingest_sendgrid_event('{"email": "now@example.com", "timestamp": 1700000000, "event": "open", "sg_event_id": "ev-now"}');
SELECT received_at = now() AS stamped_now FROM event WHERE sg_event_id = 'ev-now';
ROLLBACK;

-- Idempotent: the same batch again stores nothing new.
SELECT count(*) AS before FROM event \gset
SELECT * FROM ingest_sendgrid_event((SELECT jsonb_agg(e.event_payload) FROM event e));
SELECT count(*) = :before AS unchanged FROM event;

-- One event object (not an array) is accepted too; posted twice it is stored once.
SELECT * FROM ingest_sendgrid_event('{"email": "fay@example.com", "timestamp": 1700001000, "event": "delivered",
  "sg_event_id": "ev-fay-1", "sg_message_id": "FayMsg.filter1.0"}');
SELECT * FROM ingest_sendgrid_event('{"email": "fay@example.com", "timestamp": 1700001000, "event": "delivered",
  "sg_event_id": "ev-fay-1", "sg_message_id": "FayMsg.filter1.0"}');

-- The same event twice inside one batch: stored once.
SELECT * FROM ingest_sendgrid_event('[
  {"email": "gus@example.com", "timestamp": 1700002000, "event": "processed", "sg_event_id": "ev-gus-1", "sg_message_id": "GusMsg.filter1.0"},
  {"email": "gus@example.com", "timestamp": 1700002000, "event": "processed", "sg_event_id": "ev-gus-1", "sg_message_id": "GusMsg.filter1.0"}]');

-- What tells events apart is their content: the same event again is a duplicate (key order
-- and white space do not matter), a different one is not, with or without sg_event_id.
SELECT * FROM ingest_sendgrid_event('[{"email": "hal@example.com", "timestamp": 1700003000, "event": "unsubscribe"}]');
SELECT * FROM ingest_sendgrid_event('[{"event": "unsubscribe", "timestamp": 1700003000, "email": "hal@example.com"}]');
SELECT * FROM ingest_sendgrid_event('[{"email": "hal@example.com", "timestamp": 1700003001, "event": "unsubscribe"}]');
SELECT * FROM ingest_sendgrid_event('[{"email": "hal@example.com", "timestamp": 1700003000, "event": "unsubscribe", "sg_event_id": ""}]');
SELECT left(e.event_key, 7) AS key_kind, length(e.event_key), e.sg_event_id, e.occurred_at
  FROM event e WHERE e.email = 'hal@example.com' ORDER BY e.occurred_at, e.sg_event_id NULLS FIRST;
-- Two different events sharing one sg_event_id (SendGrid's documentation examples do: a bounce
-- and a blocked bounce) are both kept, in either order; each again is a duplicate.
SELECT * FROM ingest_sendgrid_event('[{"email": "ida@example.com", "timestamp": 1700003500, "event": "bounce", "type": "bounce",
  "sg_event_id": "sg_event_id", "sg_message_id": "IdaMsg.filter1.0", "reason": "500 unknown recipient"}]');
SELECT * FROM ingest_sendgrid_event('[{"email": "ida@example.com", "timestamp": 1700003500, "event": "bounce", "type": "blocked",
  "sg_event_id": "sg_event_id", "sg_message_id": "IdaMsg.filter1.0", "reason": "500 unknown recipient"}]');
SELECT * FROM ingest_sendgrid_event('[{"email": "ida@example.com", "timestamp": 1700003500, "event": "bounce", "type": "blocked",
  "sg_event_id": "sg_event_id", "sg_message_id": "IdaMsg.filter1.0", "reason": "500 unknown recipient"},
  {"email": "ida@example.com", "timestamp": 1700003500, "event": "bounce", "type": "bounce",
  "sg_event_id": "sg_event_id", "sg_message_id": "IdaMsg.filter1.0", "reason": "500 unknown recipient"}]');
SELECT e.event_key, e.bounce_type FROM event e WHERE e.email = 'ida@example.com' ORDER BY 2;

-- An empty batch stores nothing.
SELECT * FROM ingest_sendgrid_event('[]');

-- Machine opens are stored as opens, flagged; the flag posted as a string is kept as posted.
SELECT * FROM ingest_sendgrid_event('[{"email": "ivy@example.com", "timestamp": 1700004000, "event": "open",
  "sg_event_id": "ev-ivy-1", "sg_message_id": "IvyMsg.filter1.0", "sg_machine_open": true},
  {"email": "ivy@example.com", "timestamp": 1700004001, "event": "open",
  "sg_event_id": "ev-ivy-2", "sg_message_id": "IvyMsg.filter1.0", "sg_machine_open": "false"}]');
SELECT e.event_key, mail_status_of_event(e.event) AS status, e.machine_open, e.residual
  FROM event e WHERE e.email = 'ivy@example.com' ORDER BY 1;

-- Event names in any case, email with spaces and capitals: normalized in their columns,
-- the posted forms kept.
SELECT * FROM ingest_sendgrid_event('[{"email": "  Jo.Smith@Example.COM ", "timestamp": 1700005000, "event": "Processed",
  "sg_event_id": "ev-jo-1", "sg_message_id": "JoMsg.filter1.0"}]');
SELECT e.email, e.event, mail_status_of_event(e.event) AS status, e.residual, e.event_payload
  FROM event e WHERE e.sg_event_id = 'ev-jo-1';

-- Every field SendGrid documents is SendGrid's, not a custom arg: only the CRM's own keys are.
SELECT * FROM ingest_sendgrid_event('[{"email": "kai@example.com", "timestamp": 1700006000, "event": "processed",
  "sg_event_id": "ev-kai-1", "sg_message_id": "KaiMsg.filter1.0", "template_hash": "abc", "template_id": "d-1",
  "template_version_id": "v1", "sg_template_id": "d-1", "sg_template_name": "Invoice", "marketing_campaign_id": 7,
  "singlesend_id": "s1", "mc_stats": "singlesend", "phase_id": "send", "send_at": 0, "pool": {"name": "p", "id": 1},
  "cert_err": false, "tls": 1, "sg_content_type": "html", "post_type": "event", "newsletter": {"newsletter_id": "1"},
  "crm_record": "KAI-1"}]');
SELECT e.custom_args, jsonb_object_keys(e.residual) AS sendgrid_keys FROM event e WHERE e.sg_event_id = 'ev-kai-1' ORDER BY 2;

-- A large batch goes in as one call, in more than one chunk.
SELECT * FROM ingest_sendgrid_event((
  SELECT jsonb_agg(jsonb_build_object('email', 'bulk' || g || '@example.com', 'timestamp', 1700010000 + g,
         'event', 'delivered', 'sg_event_id', 'bulk-' || g, 'sg_message_id', 'Bulk' || (g / 3) || '.filter1.0'))
    FROM generate_series(1, 25000) g));
SELECT count(*) FROM event WHERE sg_event_id LIKE 'bulk-%';
SELECT count(*) AS recipients FROM recipient WHERE message_id LIKE 'Bulk%';
-- The state is what a recomputation over the events gives.
SELECT * FROM state_differences();

-- Values posted in forms other than their column's (numbers as strings, strings as numbers,
-- leading zeros, ids posted as numbers, upper case, a fraction of zero): each column holds the
-- value normalized, and event_payload gives the event back exactly as posted.
CREATE TEMP TABLE odd_forms (label text, element jsonb);
INSERT INTO odd_forms VALUES
  ('asm_group_id as a string with leading zeros', '{"email":"f1@example.com","timestamp":1700000000,"event":"open","sg_event_id":"of-1","asm_group_id":"007"}'),
  ('asm_group_id negative', '{"email":"f1@example.com","timestamp":1700000000,"event":"open","sg_event_id":"of-2","asm_group_id":-5}'),
  ('attempt as a number', '{"email":"f1@example.com","timestamp":1700000000,"event":"deferred","sg_event_id":"of-3","attempt":2}'),
  ('attempt with a leading zero', '{"email":"f1@example.com","timestamp":1700000000,"event":"deferred","sg_event_id":"of-4","attempt":"02"}'),
  ('sg_event_id as a number', '{"email":"f1@example.com","timestamp":1700000000,"event":"open","sg_event_id":12345}'),
  ('sg_message_id as a number', '{"email":"f1@example.com","timestamp":1700000000,"event":"open","sg_event_id":"of-6","sg_message_id":42}'),
  ('status and ip as numbers', '{"email":"f1@example.com","timestamp":1700000000,"event":"bounce","sg_event_id":"of-7","status":550,"ip":127}'),
  ('timestamp with a fraction of zero', '{"email":"f1@example.com","timestamp":1700000000.0,"event":"open","sg_event_id":"of-8"}'),
  ('timestamp as a string with a leading zero', '{"email":"f1@example.com","timestamp":"01700000000","event":"open","sg_event_id":"of-9"}'),
  ('sg_machine_open in capitals', '{"email":"f1@example.com","timestamp":1700000000,"event":"open","sg_event_id":"of-10","sg_machine_open":"TRUE"}'),
  ('event and email in capitals', '{"email":"F1@Example.COM","timestamp":1700000000,"event":"OPEN","sg_event_id":"of-11"}'),
  ('category as a number', '{"email":"f1@example.com","timestamp":1700000000,"event":"open","sg_event_id":"of-12","category":2023}');
SELECT * FROM ingest_sendgrid_event((SELECT jsonb_agg(element ORDER BY label) FROM odd_forms));
SELECT o.label, e.message_id, e.asm_group_id, e.attempt, e.sg_event_id, e.smtp_status, e.ip, e.occurred_at, e.machine_open,
       e.email, e.event, e.category, e.event_payload = o.element AS given_back_as_posted
  FROM odd_forms o JOIN event e ON e.content_hash = content_hash(o.element)
 ORDER BY o.label;
