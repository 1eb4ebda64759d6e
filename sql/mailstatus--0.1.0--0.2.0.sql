-- mailstatus 0.1.0 -> 0.2.0: signed webhook bodies (SendGrid's Signed Event Webhook) and
-- ingest of the raw body, parsed with json-c.
\echo Use "ALTER EXTENSION mailstatus UPDATE TO '0.2.0'" to load this file. \quit

CREATE FUNCTION @extschema@.verify_sendgrid_signature(public_key text, payload bytea, signature text, "timestamp" text)
    RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.verify_sendgrid_signature(text, bytea, text, text) IS
    'Whether signature (base64 DER ECDSA) is SendGrid''s P-256/SHA-256 signature of timestamp || payload under public_key (base64 DER); malformed inputs are errors';

CREATE FUNCTION @extschema@.sendgrid_public_key_is_valid(public_key text)
    RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.sendgrid_public_key_is_valid(text) IS
    'Whether text is a SendGrid verification key: base64 of a DER P-256 public key';

CREATE TABLE @extschema@.webhook_key (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_key text NOT NULL,
    label text,
    active boolean NOT NULL DEFAULT true,
    added_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT webhook_key_public_key UNIQUE (public_key),
    CONSTRAINT webhook_key_is_p256 CHECK (@extschema@.sendgrid_public_key_is_valid(public_key))
);
COMMENT ON TABLE @extschema@.webhook_key IS
    'SendGrid verification keys ingest_sendgrid_webhook accepts; several may be active during a key rotation. With none, bodies are not verified.';
SELECT pg_catalog.pg_extension_config_dump('mailstatus.webhook_key', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('mailstatus.webhook_key', 'id')::regclass, '');

CREATE FUNCTION @extschema@.ingest_sendgrid_webhook(body text, signature text DEFAULT NULL, "timestamp" text DEFAULT NULL)
    RETURNS TABLE (stored integer, duplicates integer, rejected integer)
    AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 1;
COMMENT ON FUNCTION @extschema@.ingest_sendgrid_webhook(text, text, text) IS
    'Verifies a raw webhook body against the active keys (28000 when refused), parses it with json-c and stores its events as ingest_sendgrid_event would';

-- Least privilege: the entry points run as the extension's owner with a fixed search_path,
-- and nobody may call them until granted (see README, "Roles"). A webhook role needs EXECUTE
-- on the ingest functions only; a reader role SELECT on the views; neither needs table rights.
ALTER FUNCTION @extschema@.ingest_sendgrid_event(jsonb) SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.ingest_sendgrid_webhook(text, text, text) SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.record_send(text, text[], jsonb, timestamptz) SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.recipient_status_for(jsonb) SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION @extschema@.ingest_sendgrid_event(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.ingest_sendgrid_webhook(text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.record_send(text, text[], jsonb, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.recipient_status_for(jsonb) FROM PUBLIC;
