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

-- Status changes, pushed: a table that holds what recipient_status shows, kept up to date by
-- statement-level triggers (one pass per ingest statement over its transition table), and a
-- notification on channel mailstatus_status_changed for every real change of a recipient's
-- status. Off until track_status(true), which fills the table: it costs every ingest a
-- look-up of the recipients the batch touched.
CREATE TABLE @extschema@.recipient_status_current (
    message_id text COLLATE "C",
    email text COLLATE "C" NOT NULL,
    status @extschema@.mail_status,
    status_label text,
    status_at timestamptz,
    first_event_at timestamptz,
    last_event_at timestamptz,
    opens bigint NOT NULL,
    machine_opens bigint NOT NULL,
    clicks bigint NOT NULL,
    reason text,
    smtp_status text,
    bounce_classification text,
    custom_args jsonb
);
CREATE UNIQUE INDEX recipient_status_current_key
    ON @extschema@.recipient_status_current (COALESCE(message_id, ''::text), email);
CREATE INDEX recipient_status_current_email_idx ON @extschema@.recipient_status_current (email);
COMMENT ON TABLE @extschema@.recipient_status_current IS
    'What recipient_status shows, stored and kept up to date on every ingest once track_status(true) is called';
SELECT pg_catalog.pg_extension_config_dump('mailstatus.recipient_status_current', '');

CREATE FUNCTION @extschema@.recipient_status_changed() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    change record;
BEGIN
    FOR change IN
        WITH touched AS (
            SELECT DISTINCT t.message_id, t.email FROM touched_rows t
        ), fresh AS (
            SELECT r.* FROM mailstatus.recipient_status r
             WHERE r.message_id OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT message_id FROM touched WHERE message_id IS NOT NULL))
            UNION ALL
            SELECT r.* FROM mailstatus.recipient_status r
             WHERE r.message_id IS NULL
               AND r.email OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT email FROM touched WHERE message_id IS NULL))
        )
        SELECT f.*, c.status AS old_status,
               (c.email IS NULL OR c.status::text IS DISTINCT FROM f.status::text) AS status_changed,
               (c.email IS NULL OR c::text IS DISTINCT FROM f::text) AS row_changed
          FROM fresh f
          LEFT JOIN mailstatus.recipient_status_current c
            ON COALESCE(c.message_id, '') OPERATOR(pg_catalog.=) COALESCE(f.message_id, '')
           AND c.email OPERATOR(pg_catalog.=) f.email
    LOOP
        CONTINUE WHEN NOT change.row_changed;
        INSERT INTO mailstatus.recipient_status_current
        VALUES (change.message_id, change.email, change.status, change.status_label, change.status_at,
                change.first_event_at, change.last_event_at, change.opens, change.machine_opens, change.clicks,
                change.reason, change.smtp_status, change.bounce_classification, change.custom_args)
        ON CONFLICT ((COALESCE(message_id, ''::text)), email) DO UPDATE
           SET status = excluded.status, status_label = excluded.status_label, status_at = excluded.status_at,
               first_event_at = excluded.first_event_at, last_event_at = excluded.last_event_at,
               opens = excluded.opens, machine_opens = excluded.machine_opens, clicks = excluded.clicks,
               reason = excluded.reason, smtp_status = excluded.smtp_status,
               bounce_classification = excluded.bounce_classification, custom_args = excluded.custom_args;
        IF change.status_changed THEN
            PERFORM pg_catalog.pg_notify('mailstatus_status_changed', pg_catalog.json_build_object(
                'message_id', change.message_id, 'email', change.email,
                'old_status', change.old_status, 'new_status', change.status,
                'status_at', change.status_at, 'custom_args', change.custom_args)::text);
        END IF;
    END LOOP;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION @extschema@.recipient_status_changed() IS
    'Statement trigger: recomputes the recipients an insert touched, updates recipient_status_current and notifies mailstatus_status_changed of each status change';
REVOKE ALL ON FUNCTION @extschema@.recipient_status_changed() FROM PUBLIC;

CREATE TRIGGER recipient_status_changed AFTER INSERT ON @extschema@.event
    REFERENCING NEW TABLE AS touched_rows FOR EACH STATEMENT
    EXECUTE FUNCTION @extschema@.recipient_status_changed();
CREATE TRIGGER recipient_status_changed AFTER INSERT ON @extschema@.send
    REFERENCING NEW TABLE AS touched_rows FOR EACH STATEMENT
    EXECUTE FUNCTION @extschema@.recipient_status_changed();
ALTER TABLE @extschema@.event DISABLE TRIGGER recipient_status_changed;
ALTER TABLE @extschema@.send DISABLE TRIGGER recipient_status_changed;

CREATE FUNCTION @extschema@.track_status(enabled boolean) RETURNS bigint STRICT
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    filled bigint := 0;
BEGIN
    IF enabled THEN
        TRUNCATE mailstatus.recipient_status_current;
        INSERT INTO mailstatus.recipient_status_current SELECT * FROM mailstatus.recipient_status;
        GET DIAGNOSTICS filled = ROW_COUNT;
        ALTER TABLE mailstatus.event ENABLE TRIGGER recipient_status_changed;
        ALTER TABLE mailstatus.send ENABLE TRIGGER recipient_status_changed;
    ELSE
        ALTER TABLE mailstatus.event DISABLE TRIGGER recipient_status_changed;
        ALTER TABLE mailstatus.send DISABLE TRIGGER recipient_status_changed;
        TRUNCATE mailstatus.recipient_status_current;
    END IF;
    RETURN filled;
END $$;
COMMENT ON FUNCTION @extschema@.track_status(boolean) IS
    'Turns recipient_status_current and its notifications on (filling the table from recipient_status; returns its rows) or off';
REVOKE ALL ON FUNCTION @extschema@.track_status(boolean) FROM PUBLIC;

-- Suppressions: addresses SendGrid will drop, or that should not be mailed, derived from the
-- events by event time (not arrival). Bounces, blocks and drops are lifted by a later
-- successful delivery to the address; spam reports and unsubscribes are the recipient's
-- decision and stay; a group unsubscribe (asm_group_id) holds for its group until a later
-- group_resubscribe to that group.
CREATE VIEW @extschema@.suppression AS
SELECT DISTINCT ON (s.email, s.asm_group_id)
       s.email, s.asm_group_id, s.cause, s.reason, s.event_key, s.occurred_at AS suppressed_since
  FROM (SELECT e.email, NULL::integer AS asm_group_id, e.event AS cause, e.reason, e.event_key, e.occurred_at, 1 AS priority
          FROM @extschema@.event e
         WHERE e.event OPERATOR(pg_catalog.=) ANY ('{spamreport,unsubscribe}'::text[])
        UNION ALL
        SELECT e.email, NULL::integer,
               CASE WHEN e.bounce_type OPERATOR(pg_catalog.=) 'blocked' THEN 'blocked' ELSE e.event END,
               e.reason, e.event_key, e.occurred_at, 2
          FROM @extschema@.event e
         WHERE e.event OPERATOR(pg_catalog.=) ANY ('{bounce,dropped}'::text[])
           AND NOT EXISTS (SELECT 1 FROM @extschema@.event d
                            WHERE d.email OPERATOR(pg_catalog.=) e.email
                              AND d.event OPERATOR(pg_catalog.=) 'delivered'
                              AND d.occurred_at OPERATOR(pg_catalog.>) e.occurred_at)
        UNION ALL
        SELECT e.email, e.asm_group_id, e.event, e.reason, e.event_key, e.occurred_at, 1
          FROM @extschema@.event e
         WHERE e.event OPERATOR(pg_catalog.=) 'group_unsubscribe'
           AND NOT EXISTS (SELECT 1 FROM @extschema@.event r
                            WHERE r.email OPERATOR(pg_catalog.=) e.email
                              AND r.event OPERATOR(pg_catalog.=) 'group_resubscribe'
                              AND r.asm_group_id OPERATOR(pg_catalog.=) e.asm_group_id
                              AND r.occurred_at OPERATOR(pg_catalog.>) e.occurred_at)) AS s
 ORDER BY s.email, s.asm_group_id, s.priority, s.occurred_at DESC, s.event_key;
COMMENT ON VIEW @extschema@.suppression IS
    'One row per address (asm_group_id NULL) or per address and unsubscribe group that should not be mailed, with the cause and the event that caused it';

CREATE FUNCTION @extschema@.is_suppressed(email text, asm_group_id integer DEFAULT NULL)
    RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT EXISTS (SELECT 1 FROM @extschema@.suppression s
                    WHERE s.email OPERATOR(pg_catalog.=) @extschema@.normalize_email(is_suppressed.email)
                      AND (s.asm_group_id IS NULL OR s.asm_group_id OPERATOR(pg_catalog.=) is_suppressed.asm_group_id));
END;
COMMENT ON FUNCTION @extschema@.is_suppressed(text, integer) IS
    'For the CRM''s send path: whether an address (for an unsubscribe group, when given) should not be mailed';
REVOKE ALL ON FUNCTION @extschema@.is_suppressed(text, integer) FROM PUBLIC;

-- Deliverability per day (UTC): one hash aggregation of the events into recipient-days, then
-- one of those into days; no sort of the table.
CREATE VIEW @extschema@.deliverability_daily AS
SELECT r.day,
       pg_catalog.count(*) FILTER (WHERE r.processed) AS sent,
       pg_catalog.count(*) FILTER (WHERE r.delivered) AS delivered,
       pg_catalog.count(*) FILTER (WHERE r.bounced) AS bounced,
       pg_catalog.count(*) FILTER (WHERE r.blocked) AS blocked,
       pg_catalog.count(*) FILTER (WHERE r.dropped) AS dropped,
       pg_catalog.count(*) FILTER (WHERE r.deferred) AS deferred,
       pg_catalog.count(*) FILTER (WHERE r.spam_reported) AS spam_reports,
       pg_catalog.count(*) FILTER (WHERE r.opened_by_human) AS unique_human_opens,
       pg_catalog.sum(r.machine_opens)::bigint AS machine_opens,
       pg_catalog.sum(r.clicks)::bigint AS clicks,
       pg_catalog.round((pg_catalog.count(*) FILTER (WHERE r.bounced OR r.blocked))::numeric
                        OPERATOR(pg_catalog./) NULLIF(pg_catalog.count(*) FILTER (WHERE r.processed), 0), 4) AS bounce_rate,
       pg_catalog.round((pg_catalog.count(*) FILTER (WHERE r.spam_reported))::numeric
                        OPERATOR(pg_catalog./) NULLIF(pg_catalog.count(*) FILTER (WHERE r.delivered), 0), 4) AS spam_report_rate,
       pg_catalog.round((pg_catalog.count(*) FILTER (WHERE r.delivered))::numeric
                        OPERATOR(pg_catalog./) NULLIF(pg_catalog.count(*) FILTER (WHERE r.processed), 0), 4) AS delivery_rate
  FROM (SELECT (e.occurred_at AT TIME ZONE 'UTC')::date AS day, e.message_id, e.email,
               pg_catalog.bool_or(e.event OPERATOR(pg_catalog.=) 'processed') AS processed,
               pg_catalog.bool_or(e.event OPERATOR(pg_catalog.=) 'delivered') AS delivered,
               pg_catalog.bool_or(e.event OPERATOR(pg_catalog.=) 'bounce' AND e.bounce_type IS DISTINCT FROM 'blocked') AS bounced,
               pg_catalog.bool_or(e.event OPERATOR(pg_catalog.=) 'bounce' AND e.bounce_type OPERATOR(pg_catalog.=) 'blocked') AS blocked,
               pg_catalog.bool_or(e.event OPERATOR(pg_catalog.=) 'dropped') AS dropped,
               pg_catalog.bool_or(e.event OPERATOR(pg_catalog.=) 'deferred') AS deferred,
               pg_catalog.bool_or(e.event OPERATOR(pg_catalog.=) 'spamreport') AS spam_reported,
               pg_catalog.bool_or(e.event OPERATOR(pg_catalog.=) 'open' AND NOT e.machine_open) AS opened_by_human,
               pg_catalog.count(*) FILTER (WHERE e.event OPERATOR(pg_catalog.=) 'open' AND e.machine_open) AS machine_opens,
               pg_catalog.count(*) FILTER (WHERE e.event OPERATOR(pg_catalog.=) 'click') AS clicks
          FROM @extschema@.event e
         GROUP BY 1, 2, 3) AS r
 GROUP BY r.day;
COMMENT ON VIEW @extschema@.deliverability_daily IS
    'Per UTC day: recipients sent, delivered, bounced, blocked, dropped, deferred, spam reports, unique human opens, machine opens, clicks, and the bounce, spam-report and delivery rates';
