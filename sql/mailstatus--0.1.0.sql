-- mailstatus 0.1.0: SendGrid event webhook storage and derived email status.
\echo Use "CREATE EXTENSION mailstatus" to load this file. \quit

-----------------------------------------------------------------------------
-- The status type: an int2 whose order is the precedence.
-----------------------------------------------------------------------------

CREATE TYPE @extschema@.mail_status;

CREATE FUNCTION @extschema@.mail_status_in(cstring) RETURNS @extschema@.mail_status
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.mail_status_out(@extschema@.mail_status) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.mail_status_recv(internal) RETURNS @extschema@.mail_status
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.mail_status_send(@extschema@.mail_status) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @extschema@.mail_status (
    INPUT = @extschema@.mail_status_in,
    OUTPUT = @extschema@.mail_status_out,
    RECEIVE = @extschema@.mail_status_recv,
    SEND = @extschema@.mail_status_send,
    INTERNALLENGTH = 2,
    PASSEDBYVALUE,
    ALIGNMENT = int2,
    STORAGE = plain
);
COMMENT ON TYPE @extschema@.mail_status IS
    'Status of an email for one recipient; its order is the precedence: sent < deferred < delivered < opened < clicked < unsubscribed < spam_report < bounced < dropped';
COMMENT ON FUNCTION @extschema@.mail_status_in(cstring) IS 'mail_status text input: a label or display label, case-insensitive';
COMMENT ON FUNCTION @extschema@.mail_status_out(@extschema@.mail_status) IS 'mail_status text output: the lowercase label';
COMMENT ON FUNCTION @extschema@.mail_status_recv(internal) IS 'mail_status binary input (int2)';
COMMENT ON FUNCTION @extschema@.mail_status_send(@extschema@.mail_status) IS 'mail_status binary output (int2)';

-- Comparison reuses int2's built-in functions: the representation is an int2.
CREATE FUNCTION @extschema@.mail_status_eq(@extschema@.mail_status, @extschema@.mail_status) RETURNS boolean
    AS 'int2eq' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.mail_status_ne(@extschema@.mail_status, @extschema@.mail_status) RETURNS boolean
    AS 'int2ne' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.mail_status_lt(@extschema@.mail_status, @extschema@.mail_status) RETURNS boolean
    AS 'int2lt' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.mail_status_le(@extschema@.mail_status, @extschema@.mail_status) RETURNS boolean
    AS 'int2le' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.mail_status_gt(@extschema@.mail_status, @extschema@.mail_status) RETURNS boolean
    AS 'int2gt' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.mail_status_ge(@extschema@.mail_status, @extschema@.mail_status) RETURNS boolean
    AS 'int2ge' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.mail_status_cmp(@extschema@.mail_status, @extschema@.mail_status) RETURNS integer
    AS 'btint2cmp' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.mail_status_sortsupport(internal) RETURNS void
    AS 'btint2sortsupport' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.mail_status_hash(@extschema@.mail_status) RETURNS integer
    AS 'hashint2' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.mail_status_hash_extended(@extschema@.mail_status, bigint) RETURNS bigint
    AS 'hashint2extended' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.mail_status_larger(@extschema@.mail_status, @extschema@.mail_status) RETURNS @extschema@.mail_status
    AS 'int2larger' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.mail_status_eq(@extschema@.mail_status, @extschema@.mail_status) IS 'equal';
COMMENT ON FUNCTION @extschema@.mail_status_ne(@extschema@.mail_status, @extschema@.mail_status) IS 'not equal';
COMMENT ON FUNCTION @extschema@.mail_status_lt(@extschema@.mail_status, @extschema@.mail_status) IS 'lower precedence';
COMMENT ON FUNCTION @extschema@.mail_status_le(@extschema@.mail_status, @extschema@.mail_status) IS 'lower or equal precedence';
COMMENT ON FUNCTION @extschema@.mail_status_gt(@extschema@.mail_status, @extschema@.mail_status) IS 'higher precedence';
COMMENT ON FUNCTION @extschema@.mail_status_ge(@extschema@.mail_status, @extschema@.mail_status) IS 'higher or equal precedence';
COMMENT ON FUNCTION @extschema@.mail_status_cmp(@extschema@.mail_status, @extschema@.mail_status) IS 'btree comparison: precedence order';
COMMENT ON FUNCTION @extschema@.mail_status_sortsupport(internal) IS 'btree sort support';
COMMENT ON FUNCTION @extschema@.mail_status_hash(@extschema@.mail_status) IS 'hash';
COMMENT ON FUNCTION @extschema@.mail_status_hash_extended(@extschema@.mail_status, bigint) IS 'hash with seed';
COMMENT ON FUNCTION @extschema@.mail_status_larger(@extschema@.mail_status, @extschema@.mail_status) IS 'the status of higher precedence';

CREATE OPERATOR @extschema@.= (
    LEFTARG = @extschema@.mail_status, RIGHTARG = @extschema@.mail_status,
    FUNCTION = @extschema@.mail_status_eq,
    COMMUTATOR = OPERATOR(@extschema@.=), NEGATOR = OPERATOR(@extschema@.<>),
    RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
CREATE OPERATOR @extschema@.<> (
    LEFTARG = @extschema@.mail_status, RIGHTARG = @extschema@.mail_status,
    FUNCTION = @extschema@.mail_status_ne,
    COMMUTATOR = OPERATOR(@extschema@.<>), NEGATOR = OPERATOR(@extschema@.=),
    RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR @extschema@.< (
    LEFTARG = @extschema@.mail_status, RIGHTARG = @extschema@.mail_status,
    FUNCTION = @extschema@.mail_status_lt,
    COMMUTATOR = OPERATOR(@extschema@.>), NEGATOR = OPERATOR(@extschema@.>=),
    RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR @extschema@.<= (
    LEFTARG = @extschema@.mail_status, RIGHTARG = @extschema@.mail_status,
    FUNCTION = @extschema@.mail_status_le,
    COMMUTATOR = OPERATOR(@extschema@.>=), NEGATOR = OPERATOR(@extschema@.>),
    RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR @extschema@.> (
    LEFTARG = @extschema@.mail_status, RIGHTARG = @extschema@.mail_status,
    FUNCTION = @extschema@.mail_status_gt,
    COMMUTATOR = OPERATOR(@extschema@.<), NEGATOR = OPERATOR(@extschema@.<=),
    RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR @extschema@.>= (
    LEFTARG = @extschema@.mail_status, RIGHTARG = @extschema@.mail_status,
    FUNCTION = @extschema@.mail_status_ge,
    COMMUTATOR = OPERATOR(@extschema@.<=), NEGATOR = OPERATOR(@extschema@.<),
    RESTRICT = scalargesel, JOIN = scalargejoinsel);

CREATE OPERATOR CLASS @extschema@.mail_status_btree_ops
    DEFAULT FOR TYPE @extschema@.mail_status USING btree AS
        OPERATOR 1 @extschema@.<,
        OPERATOR 2 @extschema@.<=,
        OPERATOR 3 @extschema@.=,
        OPERATOR 4 @extschema@.>=,
        OPERATOR 5 @extschema@.>,
        FUNCTION 1 @extschema@.mail_status_cmp(@extschema@.mail_status, @extschema@.mail_status),
        FUNCTION 2 @extschema@.mail_status_sortsupport(internal);
CREATE OPERATOR CLASS @extschema@.mail_status_hash_ops
    DEFAULT FOR TYPE @extschema@.mail_status USING hash AS
        OPERATOR 1 @extschema@.=,
        FUNCTION 1 @extschema@.mail_status_hash(@extschema@.mail_status),
        FUNCTION 2 @extschema@.mail_status_hash_extended(@extschema@.mail_status, bigint);

CREATE CAST (@extschema@.mail_status AS text) WITH INOUT AS ASSIGNMENT;
CREATE CAST (text AS @extschema@.mail_status) WITH INOUT AS ASSIGNMENT;

CREATE FUNCTION @extschema@.mail_status_label(@extschema@.mail_status) RETURNS text
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.mail_status_label(@extschema@.mail_status) IS
    'The words a person reads in the CRM: Sent, Deferred, Delivered, Opened, Clicked, Unsubscribed, Spam Report, Bounced, Dropped';

CREATE FUNCTION @extschema@.mail_status_of_event(event text) RETURNS @extschema@.mail_status
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.mail_status_of_event(text) IS
    'The status a SendGrid event name means (processed -> sent, bounce -> bounced, ...), NULL for events that do not bear on delivery';

CREATE FUNCTION @extschema@.effective_status(status @extschema@.mail_status, machine_open boolean) RETURNS @extschema@.mail_status
    AS 'MODULE_PATHNAME', 'mail_status_effective' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.effective_status(@extschema@.mail_status, boolean) IS
    'A stored event''s status as the views count it: NULL for machine opens unless mailstatus.count_machine_opens is on';

CREATE FUNCTION @extschema@.normalize_email(email text) RETURNS text
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.normalize_email(text) IS
    'An email address as mailstatus stores and compares it: trimmed, ASCII letters lowercased';

CREATE FUNCTION @extschema@.message_id_of(sg_message_id text) RETURNS text
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.message_id_of(text) IS
    'The X-Message-Id inside a SendGrid sg_message_id (before .filter, else .recvd, else the first dot); NULL when empty';

-----------------------------------------------------------------------------
-- Aggregates.
-----------------------------------------------------------------------------

CREATE AGGREGATE @extschema@.mail_status_agg(@extschema@.mail_status) (
    SFUNC = @extschema@.mail_status_larger,
    STYPE = @extschema@.mail_status,
    COMBINEFUNC = @extschema@.mail_status_larger,
    SORTOP = OPERATOR(@extschema@.>),
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.mail_status_agg(@extschema@.mail_status) IS
    'The status of highest precedence; order-independent, NULLs ignored';

CREATE FUNCTION @extschema@.mail_status_reached_at_transfn(bigint, @extschema@.mail_status, timestamptz) RETURNS bigint
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.mail_status_reached_at_combine(bigint, bigint) RETURNS bigint
    AS 'int8larger' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.mail_status_reached_at_final(bigint) RETURNS timestamptz
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.mail_status_reached_at_transfn(bigint, @extschema@.mail_status, timestamptz) IS
    'mail_status_reached_at transition: keeps the highest status and the earliest time it was seen, packed in a bigint';
COMMENT ON FUNCTION @extschema@.mail_status_reached_at_combine(bigint, bigint) IS
    'mail_status_reached_at combine: the larger packed state';
COMMENT ON FUNCTION @extschema@.mail_status_reached_at_final(bigint) IS
    'mail_status_reached_at final: the time unpacked from the state';

CREATE AGGREGATE @extschema@.mail_status_reached_at(@extschema@.mail_status, timestamptz) (
    SFUNC = @extschema@.mail_status_reached_at_transfn,
    STYPE = bigint,
    INITCOND = '0',
    COMBINEFUNC = @extschema@.mail_status_reached_at_combine,
    FINALFUNC = @extschema@.mail_status_reached_at_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.mail_status_reached_at(@extschema@.mail_status, timestamptz) IS
    'When the status that mail_status_agg returns was first reached; order-independent, rows with a NULL ignored';

CREATE FUNCTION @extschema@.latest_value_transfn(internal, text, timestamptz) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.latest_value_transfn(internal, jsonb, timestamptz) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.latest_value_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.latest_value_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.latest_value_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.latest_value_text_final(internal) RETURNS text
    AS 'MODULE_PATHNAME', 'latest_value_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.latest_value_jsonb_final(internal) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'latest_value_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.latest_value_transfn(internal, text, timestamptz) IS 'latest_value(text) transition';
COMMENT ON FUNCTION @extschema@.latest_value_transfn(internal, jsonb, timestamptz) IS 'latest_value(jsonb) transition';
COMMENT ON FUNCTION @extschema@.latest_value_combine(internal, internal) IS 'latest_value combine: the later value wins';
COMMENT ON FUNCTION @extschema@.latest_value_serialize(internal) IS 'latest_value partial state to bytea';
COMMENT ON FUNCTION @extschema@.latest_value_deserialize(bytea, internal) IS 'latest_value partial state from bytea';
COMMENT ON FUNCTION @extschema@.latest_value_text_final(internal) IS 'latest_value(text) final';
COMMENT ON FUNCTION @extschema@.latest_value_jsonb_final(internal) IS 'latest_value(jsonb) final';

CREATE AGGREGATE @extschema@.latest_value(text, timestamptz) (
    SFUNC = @extschema@.latest_value_transfn,
    STYPE = internal,
    COMBINEFUNC = @extschema@.latest_value_combine,
    SERIALFUNC = @extschema@.latest_value_serialize,
    DESERIALFUNC = @extschema@.latest_value_deserialize,
    FINALFUNC = @extschema@.latest_value_text_final,
    PARALLEL = SAFE
);
CREATE AGGREGATE @extschema@.latest_value(jsonb, timestamptz) (
    SFUNC = @extschema@.latest_value_transfn,
    STYPE = internal,
    COMBINEFUNC = @extschema@.latest_value_combine,
    SERIALFUNC = @extschema@.latest_value_serialize,
    DESERIALFUNC = @extschema@.latest_value_deserialize,
    FINALFUNC = @extschema@.latest_value_jsonb_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.latest_value(text, timestamptz) IS
    'The value of the row with the latest time (ties: the larger value); order-independent';
COMMENT ON AGGREGATE @extschema@.latest_value(jsonb, timestamptz) IS
    'The value of the row with the latest time (ties: the larger value); order-independent';

-----------------------------------------------------------------------------
-- Storage.
-----------------------------------------------------------------------------

CREATE TABLE @extschema@.event (
    event_key text COLLATE "C" NOT NULL,
    sg_event_id text,
    sg_message_id text,
    message_id text COLLATE "C",
    email text COLLATE "C" NOT NULL,
    event text NOT NULL,
    status @extschema@.mail_status,
    occurred_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    reason text,
    smtp_status text,
    response text,
    bounce_type text,
    bounce_classification text,
    url text,
    useragent text,
    ip text,
    machine_open boolean NOT NULL DEFAULT false,
    attempt integer,
    asm_group_id integer,
    category text[],
    custom_args jsonb NOT NULL DEFAULT '{}',
    payload jsonb NOT NULL,
    CONSTRAINT event_pkey PRIMARY KEY (event_key)
);
CREATE INDEX event_message_email_idx ON @extschema@.event (message_id, email);
CREATE INDEX event_email_idx ON @extschema@.event (email);
CREATE INDEX event_custom_args_idx ON @extschema@.event USING gin (custom_args jsonb_path_ops);
COMMENT ON TABLE @extschema@.event IS
    'One row per distinct SendGrid event, never updated: statuses are derived from these rows by the views';
COMMENT ON COLUMN @extschema@.event.event_key IS 'Dedup key: sg_event_id, or sha256: of the event''s content when SendGrid sent none';
-- Keys and addresses are identifiers: byte order ("C") keeps their btree indexes cheap.
COMMENT ON COLUMN @extschema@.event.message_id IS 'The X-Message-Id the CRM got back when it sent, taken from sg_message_id; NULL for async bounces without one';
COMMENT ON COLUMN @extschema@.event.email IS 'Recipient, trimmed and lowercased (normalize_email)';
COMMENT ON COLUMN @extschema@.event.event IS 'SendGrid''s event name, lowercased; unknown names are stored too';
COMMENT ON COLUMN @extschema@.event.status IS 'The status the event means; NULL for events that do not bear on delivery';
COMMENT ON COLUMN @extschema@.event.occurred_at IS 'SendGrid''s timestamp (seconds or milliseconds since 1970)';
COMMENT ON COLUMN @extschema@.event.received_at IS 'When mailstatus stored it (transaction start)';
COMMENT ON COLUMN @extschema@.event.smtp_status IS 'SendGrid''s "status" field: the SMTP status code';
COMMENT ON COLUMN @extschema@.event.bounce_type IS 'SendGrid''s "type": bounce or blocked';
COMMENT ON COLUMN @extschema@.event.machine_open IS 'sg_machine_open: an open made by a privacy proxy, not a person';
COMMENT ON COLUMN @extschema@.event.custom_args IS 'Every top-level key that is not SendGrid''s own: the CRM''s custom args';
COMMENT ON COLUMN @extschema@.event.payload IS 'The event exactly as received';

CREATE TABLE @extschema@.rejected_event (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    element_key text COLLATE "C" NOT NULL,
    received_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    reason text NOT NULL,
    element jsonb NOT NULL,
    CONSTRAINT rejected_event_element_key UNIQUE (element_key)
);
COMMENT ON TABLE @extschema@.rejected_event IS
    'Every posted element that could not be stored as an event, with the reason; once, however often it is posted again';
COMMENT ON COLUMN @extschema@.rejected_event.element_key IS 'sha256: of the element''s content: a re-posted element is kept once';

CREATE TABLE @extschema@.send (
    message_id text COLLATE "C" NOT NULL,
    email text COLLATE "C" NOT NULL,
    sent_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    custom_args jsonb NOT NULL DEFAULT '{}',
    CONSTRAINT send_pkey PRIMARY KEY (message_id, email)
);
CREATE INDEX send_custom_args_idx ON @extschema@.send USING gin (custom_args jsonb_path_ops);
COMMENT ON TABLE @extschema@.send IS
    'Recipients the CRM handed to SendGrid (record_send): they show as sent before any event arrives';

-- Their rows (and the identity sequence behind rejected_event.id) are the user's data: pg_dump
-- dumps them. The schema is fixed (mailstatus.control), so it is named as is.
SELECT pg_catalog.pg_extension_config_dump('mailstatus.event', '');
SELECT pg_catalog.pg_extension_config_dump('mailstatus.rejected_event', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('mailstatus.rejected_event', 'id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump('mailstatus.send', '');

-----------------------------------------------------------------------------
-- Ingest.
-----------------------------------------------------------------------------

CREATE FUNCTION @extschema@.ingest_sendgrid_event(body jsonb)
    RETURNS TABLE (stored integer, duplicates integer, rejected integer)
    AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE ROWS 1;
COMMENT ON FUNCTION @extschema@.ingest_sendgrid_event(jsonb) IS
    'Stores one SendGrid event object or a webhook batch (array); idempotent; bad elements go to rejected_event';

CREATE FUNCTION @extschema@.record_send(message_id text, emails text[], custom_args jsonb DEFAULT '{}',
                                        sent_at timestamptz DEFAULT pg_catalog.now())
    RETURNS integer
    LANGUAGE sql VOLATILE PARALLEL UNSAFE
BEGIN ATOMIC
    WITH inserted AS (
        INSERT INTO @extschema@.send (message_id, email, custom_args, sent_at)
        SELECT record_send.message_id, @extschema@.normalize_email(e.email),
               COALESCE(record_send.custom_args, '{}'::jsonb),
               COALESCE(record_send.sent_at, pg_catalog.now())
          FROM pg_catalog.unnest(record_send.emails) AS e(email)
         WHERE e.email IS NOT NULL
        ON CONFLICT ON CONSTRAINT send_pkey DO NOTHING
        RETURNING 1
    )
    SELECT pg_catalog.count(*)::integer FROM inserted;
END;
COMMENT ON FUNCTION @extschema@.record_send(text, text[], jsonb, timestamptz) IS
    'Records the CRM''s own send: these recipients show as sent until SendGrid''s events arrive; returns how many were new';

-----------------------------------------------------------------------------
-- Status views.
-----------------------------------------------------------------------------

CREATE VIEW @extschema@.recipient_status AS
SELECT f.message_id,
       f.email,
       @extschema@.mail_status_agg(f.status) AS status,
       @extschema@.mail_status_label(@extschema@.mail_status_agg(f.status)) AS status_label,
       @extschema@.mail_status_reached_at(f.status, f.occurred_at) AS status_at,
       pg_catalog.min(f.occurred_at) AS first_event_at,
       pg_catalog.max(f.occurred_at) AS last_event_at,
       pg_catalog.count(*) FILTER (WHERE f.event OPERATOR(pg_catalog.=) 'open' AND NOT f.machine_open) AS opens,
       pg_catalog.count(*) FILTER (WHERE f.event OPERATOR(pg_catalog.=) 'open' AND f.machine_open) AS machine_opens,
       pg_catalog.count(*) FILTER (WHERE f.event OPERATOR(pg_catalog.=) 'click') AS clicks,
       @extschema@.latest_value(f.reason, f.occurred_at) FILTER (WHERE f.failed) AS reason,
       @extschema@.latest_value(f.smtp_status, f.occurred_at) FILTER (WHERE f.failed) AS smtp_status,
       @extschema@.latest_value(f.bounce_classification, f.occurred_at) FILTER (WHERE f.failed) AS bounce_classification,
       @extschema@.latest_value(f.custom_args, f.occurred_at) FILTER (WHERE f.custom_args OPERATOR(pg_catalog.<>) '{}'::jsonb) AS custom_args
  FROM (SELECT e.message_id, e.email,
               @extschema@.effective_status(e.status, e.machine_open) AS status,
               e.occurred_at, e.event, e.machine_open,
               e.event OPERATOR(pg_catalog.=) ANY ('{bounce,dropped}'::text[]) AS failed,
               e.reason, e.smtp_status, e.bounce_classification, e.custom_args
          FROM @extschema@.event e
        UNION ALL
        SELECT s.message_id, s.email, 'sent'::@extschema@.mail_status,
               s.sent_at, NULL::text, false, false,
               NULL::text, NULL::text, NULL::text, s.custom_args
          FROM @extschema@.send s) AS f
 GROUP BY f.message_id, f.email;
COMMENT ON VIEW @extschema@.recipient_status IS
    'One row per (message_id, email): the status the CRM shows, derived from every event and the CRM''s send';

CREATE VIEW @extschema@.message_status AS
SELECT r.message_id,
       pg_catalog.count(*)::integer AS recipients,
       @extschema@.mail_status_agg(r.status) AS status,
       @extschema@.mail_status_label(@extschema@.mail_status_agg(r.status)) AS status_label,
       pg_catalog.min(r.first_event_at) AS first_event_at,
       pg_catalog.max(r.last_event_at) AS last_event_at,
       pg_catalog.count(*) FILTER (WHERE r.status OPERATOR(@extschema@.=) 'sent')::integer AS sent,
       pg_catalog.count(*) FILTER (WHERE r.status OPERATOR(@extschema@.=) 'deferred')::integer AS deferred,
       pg_catalog.count(*) FILTER (WHERE r.status OPERATOR(@extschema@.=) 'delivered')::integer AS delivered,
       pg_catalog.count(*) FILTER (WHERE r.status OPERATOR(@extschema@.=) 'opened')::integer AS opened,
       pg_catalog.count(*) FILTER (WHERE r.status OPERATOR(@extschema@.=) 'clicked')::integer AS clicked,
       pg_catalog.count(*) FILTER (WHERE r.status OPERATOR(@extschema@.=) 'unsubscribed')::integer AS unsubscribed,
       pg_catalog.count(*) FILTER (WHERE r.status OPERATOR(@extschema@.=) 'spam_report')::integer AS spam_report,
       pg_catalog.count(*) FILTER (WHERE r.status OPERATOR(@extschema@.=) 'bounced')::integer AS bounced,
       pg_catalog.count(*) FILTER (WHERE r.status OPERATOR(@extschema@.=) 'dropped')::integer AS dropped,
       pg_catalog.count(*) FILTER (WHERE r.status IS NULL)::integer AS unknown
  FROM @extschema@.recipient_status r
 WHERE r.message_id IS NOT NULL
 GROUP BY r.message_id;
COMMENT ON VIEW @extschema@.message_status IS
    'One row per X-Message-Id: its recipients, the overall status (highest precedence among them) and how many recipients are at each status';

CREATE FUNCTION @extschema@.recipient_status_for(custom_args jsonb)
    RETURNS SETOF @extschema@.recipient_status
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    -- The message ids are gathered first (an array), so the view is read by index for those
    -- messages only, not aggregated whole.
    SELECT r.*
      FROM @extschema@.recipient_status r
     WHERE r.message_id OPERATOR(pg_catalog.=) ANY (ARRAY(
             SELECT e.message_id FROM @extschema@.event e
              WHERE e.custom_args OPERATOR(pg_catalog.@>) recipient_status_for.custom_args
                AND e.message_id IS NOT NULL
             UNION
             SELECT s.message_id FROM @extschema@.send s
              WHERE s.custom_args OPERATOR(pg_catalog.@>) recipient_status_for.custom_args))
     ORDER BY r.message_id, r.email;
END;
COMMENT ON FUNCTION @extschema@.recipient_status_for(jsonb) IS
    'Statuses of every recipient of the messages whose custom args contain the given ones: one CRM record''s emails';
