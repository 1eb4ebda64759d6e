-- SendGrid's Signed Event Webhook: ECDSA P-256 / SHA-256 over timestamp || raw body.
-- Vectors made with openssl (test/webhook/): a P-256 key, a body with SendGrid's \r\n framing.
SET search_path = mailstatus, public;
TRUNCATE event, rejected_event, send;
\set cwd `pwd`
\set pubkey `cat test/webhook/test-public-key.b64`
\set otherkey `cat test/webhook/other-public-key.b64`
\set p384key `cat test/webhook/p384-public-key.b64`
\set fixed_sig `cat test/webhook/body-1.sig`
\set fixed_ts `cat test/webhook/body-1.timestamp`
\set body_path :cwd/test/webhook/body-1.json
CREATE TEMP TABLE body AS SELECT pg_read_binary_file(:'body_path') AS bytes;
-- The body really is framed as SendGrid frames it.
SELECT position('\x0d0a'::bytea IN bytes) > 0 AS has_crlf, length(bytes) FROM body;

-- The signature SendGrid would send verifies.
SELECT verify_sendgrid_signature(:'pubkey', bytes, :'fixed_sig', :'fixed_ts') FROM body;
-- One byte changed: false.
SELECT verify_sendgrid_signature(:'pubkey', overlay(bytes PLACING 'X'::bytea FROM 20 FOR 1), :'fixed_sig', :'fixed_ts') FROM body;
-- Line ends normalized (\r\n -> \n), as a framework might do: false.
SELECT verify_sendgrid_signature(:'pubkey', replace(convert_from(bytes, 'UTF8'), E'\r\n', E'\n')::bytea, :'fixed_sig', :'fixed_ts') FROM body;
-- Re-serialized through jsonb: false (jsonb reorders keys and drops white space).
SELECT verify_sendgrid_signature(:'pubkey', convert_to(convert_from(bytes, 'UTF8')::jsonb::text, 'UTF8'), :'fixed_sig', :'fixed_ts') FROM body;
-- Another timestamp: false.
SELECT verify_sendgrid_signature(:'pubkey', bytes, :'fixed_sig', '1764460801') FROM body;
-- Another key: false.
SELECT verify_sendgrid_signature(:'otherkey', bytes, :'fixed_sig', :'fixed_ts') FROM body;
-- Base64 with a line break (keys pasted from a terminal) is fine.
SELECT verify_sendgrid_signature(substr(:'pubkey', 1, 40) || E'\n' || substr(:'pubkey', 41), bytes, :'fixed_sig', :'fixed_ts') FROM body;

-- Malformed inputs are errors, never crashes.
SELECT verify_sendgrid_signature('not base64!', bytes, :'fixed_sig', :'fixed_ts') FROM body;
SELECT verify_sendgrid_signature('aGVsbG8gd29ybGQ=', bytes, :'fixed_sig', :'fixed_ts') FROM body;
SELECT verify_sendgrid_signature(:'p384key', bytes, :'fixed_sig', :'fixed_ts') FROM body;
SELECT verify_sendgrid_signature(:'pubkey', bytes, 'not base64!', :'fixed_ts') FROM body;
SELECT verify_sendgrid_signature(:'pubkey', bytes, 'aGVsbG8gd29ybGQ=', :'fixed_ts') FROM body;
SELECT verify_sendgrid_signature(:'pubkey', bytes, '', :'fixed_ts') FROM body;
SELECT verify_sendgrid_signature(:'pubkey', bytes, :'fixed_sig', 'yesterday') FROM body;
SELECT verify_sendgrid_signature(:'pubkey', bytes, :'fixed_sig', '') FROM body;
SELECT verify_sendgrid_signature(:'pubkey', bytes, :'fixed_sig', '-1764460800') FROM body;
\set VERBOSITY sqlstate
SELECT verify_sendgrid_signature('not base64!', bytes, :'fixed_sig', :'fixed_ts') FROM body;
SELECT verify_sendgrid_signature(:'pubkey', bytes, :'fixed_sig', 'yesterday') FROM body;
\set VERBOSITY default
-- NULL in, NULL out.
SELECT verify_sendgrid_signature(:'pubkey', NULL, :'fixed_sig', :'fixed_ts');

-- Key validation, and the key table refuses what is not a P-256 key.
SELECT sendgrid_public_key_is_valid(:'pubkey') AS p256, sendgrid_public_key_is_valid(:'p384key') AS p384,
       sendgrid_public_key_is_valid('aGVsbG8=') AS not_der, sendgrid_public_key_is_valid('%%%') AS not_base64;
\set VERBOSITY terse
INSERT INTO webhook_key (public_key, label) VALUES ('aGVsbG8=', 'junk');
\set VERBOSITY default

-- No key configured: bodies are taken unsigned.
SELECT * FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'));

-- A key configured: unsigned or wrongly signed bodies are refused (28000), nothing stored.
INSERT INTO webhook_key (public_key, label) VALUES (:'pubkey', 'current');
TRUNCATE event;
SELECT * FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'));
SELECT * FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'), :'fixed_sig');
SELECT * FROM ingest_sendgrid_webhook(replace(convert_from((SELECT bytes FROM body), 'UTF8'), 'ann@', 'eve@'), :'fixed_sig', :'fixed_ts');
\set VERBOSITY sqlstate
SELECT * FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'));
\set VERBOSITY default
-- Rightly signed, but long ago: a replay, refused (the detail, which says how long ago, is left out).
\set VERBOSITY terse
SELECT * FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'), :'fixed_sig', :'fixed_ts');
\set VERBOSITY default
SELECT count(*) AS stored_while_refused FROM event;

-- Signed now, as SendGrid signs: accepted.
\set signed_now `ts=$(date +%s); printf '%s %s' "$ts" "$( (printf %s "$ts"; cat test/webhook/body-1.json) | openssl dgst -sha256 -sign test/webhook/test-signing-key.pem | base64 -w0)"`
SELECT split_part(:'signed_now', ' ', 1) AS now_ts, split_part(:'signed_now', ' ', 2) AS now_sig \gset
SELECT * FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'), :'now_sig', :'now_ts');
-- A signature for the right bytes under a timestamp an hour ahead: refused too.
\set signed_ahead `ts=$(( $(date +%s) + 3600 )); printf '%s %s' "$ts" "$( (printf %s "$ts"; cat test/webhook/body-1.json) | openssl dgst -sha256 -sign test/webhook/test-signing-key.pem | base64 -w0)"`
SELECT split_part(:'signed_ahead', ' ', 1) AS ahead_ts, split_part(:'signed_ahead', ' ', 2) AS ahead_sig \gset
\set VERBOSITY terse
SELECT * FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'), :'ahead_sig', :'ahead_ts');
\set VERBOSITY default
-- The tolerance is a superuser setting, in seconds or with a unit.
SET mailstatus.signature_tolerance = '2h';
SHOW mailstatus.signature_tolerance;
SELECT stored, duplicates FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'), :'ahead_sig', :'ahead_ts');
RESET mailstatus.signature_tolerance;
SET mailstatus.signature_tolerance = 0;

-- Key rotation: while both keys are active, either signs; once the old one is retired, it does not.
INSERT INTO webhook_key (public_key, label) VALUES (:'otherkey', 'next');
SELECT stored, duplicates FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'), :'now_sig', :'now_ts');
UPDATE webhook_key SET active = false WHERE label = 'current';
SELECT stored, duplicates FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'), :'now_sig', :'now_ts');
-- A malformed signature header is an error of its own (22023), not a mismatch.
SELECT stored FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'), 'bm90IGEgc2lnbmF0dXJl', :'now_ts');
DELETE FROM webhook_key;
