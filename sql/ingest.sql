-- ingest_sendgrid_event(jsonb): batches and single events, idempotence, what lands in each column.
SET search_path = mailstatus, public;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

-- A webhook batch as SendGrid posts it: several recipients of one X-Message-Id, every event kind,
-- category as string and as array, the CRM's custom args as extra keys, unknown keys.
SELECT * FROM ingest_sendgrid_event($$[
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
]$$);

SELECT event_key, message_id, email, event, status, occurred_at, attempt, asm_group_id, category, machine_open
  FROM event ORDER BY event_key;
SELECT event_key, reason, smtp_status, response, bounce_type, bounce_classification, url, useragent, ip
  FROM event ORDER BY event_key;
SELECT event_key, custom_args FROM event ORDER BY event_key;
-- received_at is the ingest transaction's time.
BEGIN;
SELECT stored FROM ingest_sendgrid_event('{"email": "now@example.com", "timestamp": 1700000000, "event": "open", "sg_event_id": "ev-now"}');
SELECT received_at = now() AS stamped_now FROM event WHERE event_key = 'ev-now';
ROLLBACK;
-- The payload is the event exactly as received, unknown keys included.
SELECT payload FROM event WHERE event_key = 'ev-ann-4';
SELECT payload -> 'crm_record' AS crm_record, payload ->> 'smtp-id' AS smtp_id FROM event WHERE event_key = 'ev-ann-1';

-- Idempotent: the same batch again stores nothing new.
SELECT count(*) AS before FROM event \gset
SELECT * FROM ingest_sendgrid_event((SELECT jsonb_agg(payload) FROM event));
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

-- Without sg_event_id (some unsubscribe events) the key is a hash of the content:
-- the same event again is a duplicate, a different one is not, and key order does not matter.
SELECT * FROM ingest_sendgrid_event('[{"email": "hal@example.com", "timestamp": 1700003000, "event": "unsubscribe"}]');
SELECT * FROM ingest_sendgrid_event('[{"event": "unsubscribe", "timestamp": 1700003000, "email": "hal@example.com"}]');
SELECT * FROM ingest_sendgrid_event('[{"email": "hal@example.com", "timestamp": 1700003001, "event": "unsubscribe"}]');
SELECT * FROM ingest_sendgrid_event('[{"email": "hal@example.com", "timestamp": 1700003000, "event": "unsubscribe", "sg_event_id": ""}]');
SELECT left(event_key, 7) AS key_kind, length(event_key), sg_event_id, occurred_at
  FROM event WHERE email = 'hal@example.com' ORDER BY occurred_at, sg_event_id NULLS FIRST;

-- An empty batch stores nothing.
SELECT * FROM ingest_sendgrid_event('[]');

-- Machine opens are stored as opens, flagged.
SELECT * FROM ingest_sendgrid_event('[{"email": "ivy@example.com", "timestamp": 1700004000, "event": "open",
  "sg_event_id": "ev-ivy-1", "sg_message_id": "IvyMsg.filter1.0", "sg_machine_open": true},
  {"email": "ivy@example.com", "timestamp": 1700004001, "event": "open",
  "sg_event_id": "ev-ivy-2", "sg_message_id": "IvyMsg.filter1.0", "sg_machine_open": "false"}]');
SELECT event_key, status, machine_open FROM event WHERE email = 'ivy@example.com' ORDER BY event_key;

-- Event names in any case, email with spaces and capitals.
SELECT * FROM ingest_sendgrid_event('[{"email": "  Jo.Smith@Example.COM ", "timestamp": 1700005000, "event": "Processed",
  "sg_event_id": "ev-jo-1", "sg_message_id": "JoMsg.filter1.0"}]');
SELECT email, event, status FROM event WHERE event_key = 'ev-jo-1';

-- A large batch goes in as one call, in more than one chunk.
SELECT * FROM ingest_sendgrid_event((
  SELECT jsonb_agg(jsonb_build_object('email', 'bulk' || g || '@example.com', 'timestamp', 1700010000 + g,
         'event', 'delivered', 'sg_event_id', 'bulk-' || g, 'sg_message_id', 'Bulk' || (g / 3) || '.filter1.0'))
    FROM generate_series(1, 25000) g));
SELECT count(*) FROM event WHERE event_key LIKE 'bulk-%';
