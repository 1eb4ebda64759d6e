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

CREATE FUNCTION @extschema@.machine_opens_counted() RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.machine_opens_counted() IS
    'The setting mailstatus.count_machine_opens: whether machine opens raise a recipient to opened in the views';

CREATE FUNCTION @extschema@.normalize_email(email text) RETURNS text
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.normalize_email(text) IS
    'An email address as mailstatus stores and compares it: trimmed of white space (Unicode spaces too), invisible characters removed, ASCII letters lowercased';

CREATE FUNCTION @extschema@.message_id_of(sg_message_id text) RETURNS text
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.message_id_of(text) IS
    'The X-Message-Id inside a SendGrid sg_message_id (before .filter, else .recvd, else the first dot); NULL when empty or when it starts with a relay host (filter..., recvd-...)';

-- The limits ingest applies in C (src/sendgrid_event.h), for record_send: one definition.
CREATE FUNCTION @extschema@.email_max_bytes() RETURNS integer
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.email_max_bytes() IS
    'The longest address, in bytes once normalized, that ingest and record_send accept (320); a longer one is rejected';
REVOKE ALL ON FUNCTION @extschema@.email_max_bytes() FROM PUBLIC;

CREATE FUNCTION @extschema@.sendgrid_id_max_bytes() RETURNS integer
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.sendgrid_id_max_bytes() IS
    'The longest sg_event_id or X-Message-Id, in bytes, that ingest and record_send accept (256); a longer one is rejected';
REVOKE ALL ON FUNCTION @extschema@.sendgrid_id_max_bytes() FROM PUBLIC;

CREATE FUNCTION @extschema@.checked_event_time(at timestamptz, what text) RETURNS timestamptz
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.checked_event_time(timestamptz, text) IS
    'at, or an error (22008) naming what when it lies outside the times ingest accepts: from 2000-01-01 to one day from now';
REVOKE ALL ON FUNCTION @extschema@.checked_event_time(timestamptz, text) FROM PUBLIC;

CREATE FUNCTION @extschema@.content_hash(jsonb) RETURNS bigint
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.content_hash(jsonb) IS
    'The first 64 bits of the SHA-256 of a jsonb: how ingest tells one event from another (the same event posted again has the same hash)';

CREATE FUNCTION @extschema@.content_key(jsonb) RETURNS text
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.content_key(jsonb) IS
    'sha256: and the hex SHA-256 of a jsonb: the key of a rejected element, and of an event that has no sg_event_id';

-----------------------------------------------------------------------------
