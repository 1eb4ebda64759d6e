-- Ingest.
-----------------------------------------------------------------------------

-- Least privilege: the entry points run as the extension's owner with a fixed search_path,
-- and nobody may call them until granted (see README, "Roles").
CREATE FUNCTION @extschema@.ingest_sendgrid_event(body jsonb)
    RETURNS TABLE (stored integer, duplicates integer, rejected integer)
    AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE ROWS 1
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.ingest_sendgrid_event(jsonb) IS
    'Stores one SendGrid event object or a webhook batch (array); idempotent; bad elements go to rejected_event; refused (28000) once webhook keys are configured';
REVOKE ALL ON FUNCTION @extschema@.ingest_sendgrid_event(jsonb) FROM PUBLIC;

CREATE FUNCTION @extschema@.ingest_sendgrid_event(body text)
    RETURNS TABLE (stored integer, duplicates integer, rejected integer)
    AS 'MODULE_PATHNAME', 'ingest_sendgrid_event_text' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE ROWS 1
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.ingest_sendgrid_event(text) IS
    'ingest_sendgrid_event of a body as text, parsed element by element: an element no jsonb can hold (a number beyond numeric''s range) is rejected alone';
REVOKE ALL ON FUNCTION @extschema@.ingest_sendgrid_event(text) FROM PUBLIC;

CREATE FUNCTION @extschema@.verify_sendgrid_signature(public_key text, payload bytea, signature text, "timestamp" text)
    RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.verify_sendgrid_signature(text, bytea, text, text) IS
    'Whether signature (base64 DER ECDSA) is SendGrid''s P-256/SHA-256 signature of timestamp || payload under public_key (base64 DER, or PEM); false for a malformed signature or timestamp, an error for a malformed key';

CREATE FUNCTION @extschema@.sendgrid_public_key_is_valid(public_key text)
    RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.sendgrid_public_key_is_valid(text) IS
    'Whether text is a SendGrid verification key: a P-256 public key, base64 of its DER (as SendGrid shows it) or PEM (as openssl writes it)';

-- webhook_key's check: a key that is not one is refused saying what it is and what to paste.
CREATE FUNCTION @extschema@.sendgrid_public_key_checked(public_key text)
    RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.sendgrid_public_key_checked(text) IS
    'True for a SendGrid verification key (as sendgrid_public_key_is_valid); otherwise an error (22023) saying what the text is instead (never quoting it) and what to paste, and where SendGrid shows it';

CREATE TABLE @extschema@.webhook_key (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_key text NOT NULL,
    label text,
    active boolean NOT NULL DEFAULT true,
    added_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT webhook_key_public_key UNIQUE (public_key),
    CONSTRAINT webhook_key_is_p256 CHECK (@extschema@.sendgrid_public_key_checked(public_key))
);
COMMENT ON TABLE @extschema@.webhook_key IS
    'SendGrid verification keys; while the table holds any key (active or not), every body must be signed by an active one. With none, bodies are not verified.';
SELECT pg_catalog.pg_extension_config_dump('mailstatus.webhook_key', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('mailstatus.webhook_key', 'id')::regclass, '');

CREATE FUNCTION @extschema@.ingest_sendgrid_webhook(body text, signature text DEFAULT NULL, "timestamp" text DEFAULT NULL)
    RETURNS TABLE (stored integer, duplicates integer, rejected integer)
    AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 1
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.ingest_sendgrid_webhook(text, text, text) IS
    'Verifies a raw webhook body against the active keys (28000 when refused), parses it element by element with json-c and stores its events as ingest_sendgrid_event would';
REVOKE ALL ON FUNCTION @extschema@.ingest_sendgrid_webhook(text, text, text) FROM PUBLIC;

CREATE FUNCTION @extschema@.record_send(message_id text, emails text[], custom_args jsonb DEFAULT '{}',
                                        sent_at timestamptz DEFAULT NULL)
    RETURNS integer
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    sent timestamptz := mailstatus.checked_event_time(COALESCE(record_send.sent_at, pg_catalog.now()), 'sent_at');
    closed_until timestamptz;
    accepted text[];
    recorded integer;
    refused integer;
BEGIN
    IF COALESCE(record_send.message_id, '') OPERATOR(pg_catalog.=) ''
       OR pg_catalog.octet_length(record_send.message_id) OPERATOR(pg_catalog.>) mailstatus.sendgrid_id_max_bytes() THEN
        RAISE EXCEPTION 'record_send needs the X-Message-Id SendGrid answered the send with'
              USING ERRCODE = 'invalid_parameter_value',
                    DETAIL = pg_catalog.format('The message id is %s.', CASE WHEN record_send.message_id IS NULL THEN 'NULL'
                             WHEN record_send.message_id OPERATOR(pg_catalog.=) '' THEN 'empty'
                             ELSE pg_catalog.format('%s bytes long; at most %s are accepted',
                                                    pg_catalog.octet_length(record_send.message_id),
                                                    mailstatus.sendgrid_id_max_bytes()) END);
    END IF;
    -- The days forget_recipients closed, as ingest reads them (and held as ingest holds them).
    SELECT pg_catalog.date_trunc('day', r.forgotten_before, 'UTC') OPERATOR(pg_catalog.+) '1 day'::interval INTO closed_until
      FROM mailstatus.recipient_retention r FOR SHARE;
    -- Addresses as ingest normalizes them; one that cannot be an address is rejected alone,
    -- with the reason, as ingest rejects an element; so is a send on a closed day to a
    -- recipient whose state holds nothing of that day or an earlier one, as ingest rejects
    -- such an event.
    WITH address AS (
        SELECT DISTINCT e.email AS posted, mailstatus.normalize_email(e.email) AS email
          FROM pg_catalog.unnest(record_send.emails) AS e(email)
         WHERE e.email IS NOT NULL
    ), judged AS (
        SELECT a.posted, a.email,
               CASE WHEN a.email OPERATOR(pg_catalog.=) '' THEN 'record_send: the address is empty'
                    WHEN pg_catalog.octet_length(a.email) OPERATOR(pg_catalog.>) mailstatus.email_max_bytes() THEN
                         pg_catalog.format('record_send: the address is %s bytes long; an address has at most %s',
                                           pg_catalog.octet_length(a.email), mailstatus.email_max_bytes())
                    WHEN sent OPERATOR(pg_catalog.<) closed_until
                     AND NOT EXISTS (SELECT FROM mailstatus.recipient r
                                      WHERE r.message_id OPERATOR(pg_catalog.=) record_send.message_id
                                        AND r.email OPERATOR(pg_catalog.=) a.email
                                        AND r.first_event_at OPERATOR(pg_catalog.<)
                                            (pg_catalog.date_trunc('day', sent, 'UTC') OPERATOR(pg_catalog.+) '1 day'::interval)) THEN
                         pg_catalog.format('record_send: sent at %s, on a day closed by forget_recipients (before %s), '
                                           'and its recipient''s state holds nothing of that day or an earlier one: the figures of those days stand as counted',
                                           pg_catalog.to_char(sent AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS+00'),
                                           pg_catalog.to_char(closed_until AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS+00'))
               END AS reason
          FROM address a
    ), rejected AS (
        INSERT INTO mailstatus.rejected_event (element_key, reason, element)
        SELECT mailstatus.content_key(r.element), r.reason, r.element
          -- The send as the call gave it (sent_at and custom args when given): two sends of one
          -- address at different times are two elements; a retried call is the same one.
          FROM (SELECT pg_catalog.jsonb_build_object('record_send',
                           pg_catalog.jsonb_build_object('message_id', record_send.message_id, 'email', j.posted)
                           OPERATOR(pg_catalog.||) CASE WHEN record_send.sent_at IS NULL THEN '{}'::jsonb
                                ELSE pg_catalog.jsonb_build_object('sent_at', pg_catalog.to_char(
                                     record_send.sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')) END
                           OPERATOR(pg_catalog.||) CASE WHEN COALESCE(record_send.custom_args, '{}'::jsonb) OPERATOR(pg_catalog.=) '{}'::jsonb
                                THEN '{}'::jsonb ELSE pg_catalog.jsonb_build_object('custom_args', record_send.custom_args) END) AS element,
                       j.reason
                  FROM judged j WHERE j.reason IS NOT NULL) AS r
         ORDER BY 1
        ON CONFLICT ON CONSTRAINT rejected_event_element_key DO NOTHING)
    SELECT pg_catalog.count(*) FILTER (WHERE j.reason IS NOT NULL),
           pg_catalog.array_agg(DISTINCT j.email) FILTER (WHERE j.reason IS NULL)
      INTO refused, accepted FROM judged j;
    -- Every distinct send is kept and merged. One without a time of its own (sent now) is the
    -- CRM's retry of a send it recorded: a recipient recorded already is left as it is.
    WITH inserted AS (
        INSERT INTO mailstatus.send AS s (message_id, email, custom_args, sent_at, custom_args_hash)
        SELECT record_send.message_id, a.email, args, sent, pg_catalog.jsonb_hash_extended(args, 0)
          FROM pg_catalog.unnest(accepted) AS a(email)
         CROSS JOIN (SELECT COALESCE(record_send.custom_args, '{}'::jsonb) AS args) AS c
         WHERE record_send.sent_at IS NOT NULL
            OR NOT EXISTS (SELECT FROM mailstatus.send k
                            WHERE k.message_id OPERATOR(pg_catalog.=) record_send.message_id
                              AND k.email OPERATOR(pg_catalog.=) a.email)
         ORDER BY 2
        ON CONFLICT ON CONSTRAINT send_pkey DO NOTHING
        RETURNING ROW(s.*)::mailstatus.send AS s)
    SELECT pg_catalog.count(*), mailstatus.merge_sends(pg_catalog.array_agg(i.s)) IS NULL
      INTO recorded FROM inserted i;
    IF refused OPERATOR(pg_catalog.>) 0 THEN
        RAISE NOTICE '% address(es) of message % rejected: see mailstatus.rejected_event', refused, record_send.message_id;
    END IF;
    RETURN recorded;
END $$;
COMMENT ON FUNCTION @extschema@.record_send(text, text[], jsonb, timestamptz) IS
    'Records the CRM''s own send: these recipients show as sent until SendGrid''s events arrive; returns how many of these sends were new: every distinct send (message, address, sent_at, custom args) is kept and merged; without sent_at, a recipient recorded already is left as it is (a retry)';
REVOKE ALL ON FUNCTION @extschema@.record_send(text, text[], jsonb, timestamptz) FROM PUBLIC;

-----------------------------------------------------------------------------
