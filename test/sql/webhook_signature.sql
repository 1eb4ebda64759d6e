-- SendGrid's Signed Event Webhook: ECDSA P-256 / SHA-256 over timestamp || raw body.
-- Vectors made with openssl (test/webhook/): a P-256 key, a body with SendGrid's \r\n framing.
SET search_path = mailstatus, public;
\i test/sql/include/helpers.psql
CALL pg_temp.empty_state();
\set cwd `pwd`
\set pubkey `cat test/webhook/test-public-key.b64`
\set otherkey `cat test/webhook/other-public-key.b64`
\set p384key `cat test/webhook/p384-public-key.b64`
\set pubkey_pem `cat test/webhook/test-public-key.pem`
\set rsa_pem `cat test/webhook/rsa-public-key.pem`
\set signing_key_pem `cat test/webhook/test-signing-key.pem`
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

-- A malformed key is an error (22023), never a crash: the owner configured it wrong.
SELECT verify_sendgrid_signature('not base64!', bytes, :'fixed_sig', :'fixed_ts') FROM body;
SELECT verify_sendgrid_signature('aGVsbG8gd29ybGQ=', bytes, :'fixed_sig', :'fixed_ts') FROM body;
SELECT verify_sendgrid_signature(:'p384key', bytes, :'fixed_sig', :'fixed_ts') FROM body;
\set VERBOSITY sqlstate
SELECT verify_sendgrid_signature('not base64!', bytes, :'fixed_sig', :'fixed_ts') FROM body;
\set VERBOSITY default
-- A malformed signature or timestamp is what a POST sends: it matches no key (false), as in
-- SendGrid's own libraries, and is never an error nor a crash. Not base64, base64 that is
-- not DER, empty; a timestamp that is not Unix seconds in digits, empty, negative, or the
-- right one with white space or a sign around it.
SELECT sig, ts, verify_sendgrid_signature(:'pubkey', bytes, sig, ts) AS verified
  FROM body, (VALUES ('not base64!', :'fixed_ts'), ('aGVsbG8gd29ybGQ=', :'fixed_ts'), ('', :'fixed_ts'),
                     (:'fixed_sig', 'yesterday'), (:'fixed_sig', ''), (:'fixed_sig', '-1764460800'),
                     (:'fixed_sig', ' ' || :'fixed_ts'), (:'fixed_sig', '+' || :'fixed_ts'),
                     (:'fixed_sig', :'fixed_ts' || '.0'), (:'fixed_sig', '0' || :'fixed_ts')) AS m(sig, ts)
 ORDER BY sig COLLATE "C", ts COLLATE "C";
-- BER is not DER: the same (r, s) with a long-form length (30 81 06 ...) is refused. OpenSSL
-- answers -1 for it, which is no match, not an error: false.
SELECT encode(decode('MIEGAgEBAgEB', 'base64'), 'hex') AS ber_signature,
       verify_sendgrid_signature(:'pubkey', bytes, 'MIEGAgEBAgEB', :'fixed_ts') AS verified FROM body;
-- Its DER form (30 06 ...), which is not the signature either: false too.
SELECT verify_sendgrid_signature(:'pubkey', bytes, encode('\x3006020101020101'::bytea, 'base64'), :'fixed_ts') AS verified FROM body;
-- NULL in, NULL out.
SELECT verify_sendgrid_signature(:'pubkey', NULL, :'fixed_sig', :'fixed_ts');

-- Key validation, and the key table refuses what is not a P-256 key.
SELECT sendgrid_public_key_is_valid(:'pubkey') AS p256, sendgrid_public_key_is_valid(:'p384key') AS p384,
       sendgrid_public_key_is_valid('aGVsbG8=') AS not_der, sendgrid_public_key_is_valid('%%%') AS not_base64;
\set VERBOSITY terse
INSERT INTO webhook_key (public_key, label) VALUES ('aGVsbG8=', 'junk');
\set VERBOSITY default
-- The key's DER and nothing after it: one byte more (a zero, or the key's first byte), or the
-- DER cut by one, is not a key: for the check, for verification (22023) and for the table.
SELECT v.label, sendgrid_public_key_is_valid(v.key) AS valid
  FROM (VALUES ('the key', :'pubkey'),
               ('the key, a zero byte after', encode(decode(:'pubkey', 'base64') || '\x00'::bytea, 'base64')),
               ('the key, its first byte after', encode(decode(:'pubkey', 'base64') || substr(decode(:'pubkey', 'base64'), 1, 1), 'base64')),
               ('the key cut by one byte', encode(substr(decode(:'pubkey', 'base64'), 1, length(decode(:'pubkey', 'base64')) - 1), 'base64')))
       AS v(label, key) ORDER BY 1;
SELECT verify_sendgrid_signature(encode(decode(:'pubkey', 'base64') || '\x00'::bytea, 'base64'), bytes, :'fixed_sig', :'fixed_ts') FROM body;
\set VERBOSITY terse
INSERT INTO webhook_key (public_key, label) VALUES (encode(decode(:'pubkey', 'base64') || '\x00'::bytea, 'base64'), 'trailing byte');
\set VERBOSITY default

-- The same key as PEM (what openssl writes by default) is a key too, with any line ends and
-- blanks around it, and verifies what its base64 form verifies.
SELECT sendgrid_public_key_is_valid(:'pubkey_pem') AS pem,
       sendgrid_public_key_is_valid(E'\n  ' || replace(:'pubkey_pem', E'\n', E'\r\n') || E'\r\n\n') AS pem_crlf,
       sendgrid_public_key_is_valid(replace(:'pubkey_pem', E'\n', '')) AS pem_one_line,
       verify_sendgrid_signature(:'pubkey_pem', bytes, :'fixed_sig', :'fixed_ts') AS pem_verifies,
       verify_sendgrid_signature(:'pubkey_pem', bytes, :'fixed_sig', '1764460801') AS pem_other_timestamp
  FROM body;
-- What webhook_key refuses, it refuses saying what the text is and what to paste, and where
-- SendGrid shows the key: a private key (never quoted: it must not reach a log), another kind
-- of PEM block, a PEM key cut short, a key of the wrong kind, README's elided example.
INSERT INTO webhook_key (public_key, label) VALUES (:'signing_key_pem', 'private');
INSERT INTO webhook_key (public_key, label) VALUES (:'rsa_pem', 'rsa');
INSERT INTO webhook_key (public_key, label) VALUES (:'p384key', 'p384');
INSERT INTO webhook_key (public_key, label) VALUES (E'-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n', 'certificate');
INSERT INTO webhook_key (public_key, label) VALUES (left(:'pubkey_pem', 60), 'cut');
INSERT INTO webhook_key (public_key, label) VALUES (:'pubkey_pem' || E'\nthen more', 'trailing');
INSERT INTO webhook_key (public_key, label) VALUES ('MFkwEwYHKoZIzj0CAQYI...', 'sendgrid 2026-11');
\set VERBOSITY terse
INSERT INTO webhook_key (public_key, label) VALUES ('%%%', 'not base64');
\set VERBOSITY default
-- No line of the private key's body in the message, its detail or its hint.
SELECT set_config('regress.signing_key', :'signing_key_pem', false) IS NOT NULL AS set;
DO $$
DECLARE
  message text;
  detail text;
  hint text;
BEGIN
  INSERT INTO mailstatus.webhook_key (public_key) VALUES (pg_catalog.current_setting('regress.signing_key'));
EXCEPTION WHEN invalid_parameter_value THEN
  GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
  RAISE NOTICE 'private key lines quoted: %',
    (SELECT count(*) FROM regexp_split_to_table(pg_catalog.current_setting('regress.signing_key'), E'\n') AS l
      WHERE l NOT LIKE '-----%' AND l <> '' AND position(left(l, 12) IN message || detail || hint) > 0);
END $$;
SELECT count(*) AS keys_stored FROM webhook_key;

-- No key configured: bodies are taken unsigned.
SELECT * FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'));

-- A key configured: unsigned or wrongly signed bodies are refused (28000), nothing stored.
INSERT INTO webhook_key (public_key, label) VALUES (:'pubkey', 'current');
TRUNCATE event, rejected_event;
SELECT * FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'));
SELECT * FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'), :'fixed_sig');
SELECT * FROM ingest_sendgrid_webhook(replace(convert_from((SELECT bytes FROM body), 'UTF8'), 'ann@', 'eve@'), :'fixed_sig', :'fixed_ts');
\set VERBOSITY sqlstate
SELECT * FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'));
-- A malformed signature or timestamp header is a mismatch like any other: 28000.
SELECT * FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'), 'not base64!', :'fixed_ts');
SELECT * FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'), '', :'fixed_ts');
SELECT * FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'), :'fixed_sig', 'yesterday');
SELECT * FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'), :'fixed_sig', '');
-- The BER signature too.
SELECT * FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'), 'MIEGAgEBAgEB', :'fixed_ts');
\set VERBOSITY default
SELECT * FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'), 'MIEGAgEBAgEB', :'fixed_ts');
-- The entry points that cannot check a signature refuse every body while keys exist (28000):
-- ingest_sendgrid_event, its jsonb and its text form alike.
SELECT * FROM ingest_sendgrid_event(convert_from((SELECT bytes FROM body), 'UTF8')::jsonb);
SELECT * FROM ingest_sendgrid_event(convert_from((SELECT bytes FROM body), 'UTF8'));
\set VERBOSITY sqlstate
SELECT * FROM ingest_sendgrid_event(convert_from((SELECT bytes FROM body), 'UTF8')::jsonb);
SELECT * FROM ingest_sendgrid_event(convert_from((SELECT bytes FROM body), 'UTF8'));
\set VERBOSITY default
-- Rightly signed, but long ago: a replay, refused (the detail, which says how long ago, is left out).
\set VERBOSITY terse
SELECT * FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'), :'fixed_sig', :'fixed_ts');
\set VERBOSITY default
SELECT (SELECT count(*) FROM event) AS stored_while_refused, (SELECT count(*) FROM rejected_event) AS rejected_while_refused;

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
-- The default tolerance is 5 minutes: signed 10 minutes ago, refused; 4 minutes ago, taken.
SHOW mailstatus.signature_tolerance;
\set signed_10_min_ago `ts=$(( $(date +%s) - 600 )); printf '%s %s' "$ts" "$( (printf %s "$ts"; cat test/webhook/body-1.json) | openssl dgst -sha256 -sign test/webhook/test-signing-key.pem | base64 -w0)"`
SELECT split_part(:'signed_10_min_ago', ' ', 1) AS old_ts, split_part(:'signed_10_min_ago', ' ', 2) AS old_sig \gset
\set signed_4_min_ago `ts=$(( $(date +%s) - 240 )); printf '%s %s' "$ts" "$( (printf %s "$ts"; cat test/webhook/body-1.json) | openssl dgst -sha256 -sign test/webhook/test-signing-key.pem | base64 -w0)"`
SELECT split_part(:'signed_4_min_ago', ' ', 1) AS recent_ts, split_part(:'signed_4_min_ago', ' ', 2) AS recent_sig \gset
-- Both signatures are right: only their age tells them apart.
SELECT verify_sendgrid_signature(:'pubkey', bytes, :'old_sig', :'old_ts') AS ten_minutes_ago_verifies,
       verify_sendgrid_signature(:'pubkey', bytes, :'recent_sig', :'recent_ts') AS four_minutes_ago_verifies FROM body;
\set VERBOSITY terse
SELECT * FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'), :'old_sig', :'old_ts');
\set VERBOSITY sqlstate
SELECT * FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'), :'old_sig', :'old_ts');
\set VERBOSITY default
SELECT stored, duplicates FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'), :'recent_sig', :'recent_ts');
-- The tolerance is a superuser setting, in seconds or with a unit.
SET mailstatus.signature_tolerance = '2h';
SHOW mailstatus.signature_tolerance;
SELECT stored, duplicates FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'), :'ahead_sig', :'ahead_ts');
RESET mailstatus.signature_tolerance;
-- (The message's wording of the range differs between PostgreSQL versions.)
\set VERBOSITY sqlstate
SET mailstatus.signature_tolerance = 0;
\set VERBOSITY default

-- Key rotation: while both keys are active, either signs; once the old one is retired, it does not.
INSERT INTO webhook_key (public_key, label) VALUES (:'otherkey', 'next');
SELECT stored, duplicates FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'), :'now_sig', :'now_ts');
UPDATE webhook_key SET active = false WHERE label = 'current';
SELECT stored, duplicates FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'), :'now_sig', :'now_ts');
-- A malformed signature header is no error of its own now: a mismatch, 28000.
SELECT stored FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'), 'bm90IGEgc2lnbmF0dXJl', :'now_ts');
-- Every key inactive: signing is still required, and nothing can sign (28000), not even an
-- unsigned body gets through.
UPDATE webhook_key SET active = false;
SELECT * FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'), :'now_sig', :'now_ts');
SELECT * FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'));
\set VERBOSITY sqlstate
SELECT * FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'), :'now_sig', :'now_ts');
SELECT * FROM ingest_sendgrid_event(convert_from((SELECT bytes FROM body), 'UTF8')::jsonb);
SELECT * FROM ingest_sendgrid_event(convert_from((SELECT bytes FROM body), 'UTF8'));
\set VERBOSITY default
-- Deleting the keys turns signing off: unsigned bodies are taken again, on every entry point.
DELETE FROM webhook_key;
SELECT stored, duplicates FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'));
SELECT stored, duplicates FROM ingest_sendgrid_event(convert_from((SELECT bytes FROM body), 'UTF8')::jsonb);
SELECT stored, duplicates FROM ingest_sendgrid_event(convert_from((SELECT bytes FROM body), 'UTF8'));
SELECT count(*) AS events, count(*) FILTER (WHERE sg_event_id IN ('wh-1', 'wh-2')) AS from_the_body FROM event;
-- A key stored as PEM signs like its base64 form: signing is on, a body it signed is taken.
INSERT INTO webhook_key (public_key, label) VALUES (:'pubkey_pem', 'pem');
TRUNCATE event, rejected_event;
SELECT stored FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'), :'now_sig', :'now_ts');
\set VERBOSITY sqlstate
SELECT stored FROM ingest_sendgrid_webhook(convert_from((SELECT bytes FROM body), 'UTF8'));
\set VERBOSITY default
DELETE FROM webhook_key;
