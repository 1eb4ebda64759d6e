-- mailstatus: SendGrid event webhook storage and derived email status. The schema of the current
-- version, read top to bottom: the Makefile makes mailstatus--$(EXTVERSION).sql of it.
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

CREATE FUNCTION @extschema@.checked_event_time(at timestamptz, what text) RETURNS timestamptz
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.checked_event_time(timestamptz, text) IS
    'at, or an error (22008) naming what when it lies outside the times ingest accepts: from 2000-01-01 to one day from now';

CREATE FUNCTION @extschema@.content_hash(jsonb) RETURNS bigint
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.content_hash(jsonb) IS
    'The first 64 bits of the SHA-256 of a jsonb: how ingest tells one event from another (the same event posted again has the same hash)';

CREATE FUNCTION @extschema@.content_key(jsonb) RETURNS text
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.content_key(jsonb) IS
    'sha256: and the hex SHA-256 of a jsonb: the key of a rejected element, and of an event that has no sg_event_id';

-----------------------------------------------------------------------------
-- Aggregates, and the state types they keep.  Each has a combine function: the
-- state tables below store their partial states and merge new ones with it.
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
CREATE FUNCTION @extschema@.mail_status_reached_status(bigint) RETURNS @extschema@.mail_status
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.mail_status_reached_at_transfn(bigint, @extschema@.mail_status, timestamptz) IS
    'mail_status_reached_at transition: keeps the highest status and the earliest time it was seen, packed in a bigint';
COMMENT ON FUNCTION @extschema@.mail_status_reached_at_combine(bigint, bigint) IS
    'mail_status_reached_at combine: the larger packed state';
COMMENT ON FUNCTION @extschema@.mail_status_reached_at_final(bigint) IS
    'mail_status_reached_at final: the time unpacked from the state';
COMMENT ON FUNCTION @extschema@.mail_status_reached_status(bigint) IS
    'The status a mail_status_reached_at state holds: what mail_status_agg gives for the same rows';

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

CREATE AGGREGATE @extschema@.mail_status_reached_state(@extschema@.mail_status, timestamptz) (
    SFUNC = @extschema@.mail_status_reached_at_transfn,
    STYPE = bigint,
    INITCOND = '0',
    COMBINEFUNC = @extschema@.mail_status_reached_at_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.mail_status_reached_state(@extschema@.mail_status, timestamptz) IS
    'The partial state of mail_status_reached_at (and of mail_status_agg): the highest status and when it was first reached, packed; merged by mail_status_reached_at_combine';

-- timed_value: the state of latest_value, a text or jsonb value with the time it was observed.
CREATE TYPE @extschema@.timed_value;
CREATE FUNCTION @extschema@.timed_value_in(cstring) RETURNS @extschema@.timed_value
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.timed_value_out(@extschema@.timed_value) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.timed_value_recv(internal) RETURNS @extschema@.timed_value
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.timed_value_send(@extschema@.timed_value) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE @extschema@.timed_value (
    INPUT = @extschema@.timed_value_in,
    OUTPUT = @extschema@.timed_value_out,
    RECEIVE = @extschema@.timed_value_recv,
    SEND = @extschema@.timed_value_send,
    INTERNALLENGTH = VARIABLE,
    STORAGE = extended
);
COMMENT ON TYPE @extschema@.timed_value IS
    'A text or jsonb value and the time it was observed, written {"at": ..., "text": ...} or {"at": ..., "jsonb": ...}: the state of latest_value';
COMMENT ON FUNCTION @extschema@.timed_value_in(cstring) IS 'timed_value text input: {"at": time, "text": string} or {"at": time, "jsonb": value}';
COMMENT ON FUNCTION @extschema@.timed_value_out(@extschema@.timed_value) IS 'timed_value text output';
COMMENT ON FUNCTION @extschema@.timed_value_recv(internal) IS 'timed_value binary input';
COMMENT ON FUNCTION @extschema@.timed_value_send(@extschema@.timed_value) IS 'timed_value binary output';

CREATE FUNCTION @extschema@.timed_value_add_text(@extschema@.timed_value, text, timestamptz) RETURNS @extschema@.timed_value
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.timed_value_add_jsonb(@extschema@.timed_value, jsonb, timestamptz) RETURNS @extschema@.timed_value
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.timed_value_merge(@extschema@.timed_value, @extschema@.timed_value) RETURNS @extschema@.timed_value
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.timed_value_text(@extschema@.timed_value) RETURNS text
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.timed_value_jsonb(@extschema@.timed_value) RETURNS jsonb
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.timed_value_at(@extschema@.timed_value) RETURNS timestamptz
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.timed_value_add_text(@extschema@.timed_value, text, timestamptz) IS
    'latest_value(text) transition: the later of the state and (value, at); NULLs skipped';
COMMENT ON FUNCTION @extschema@.timed_value_add_jsonb(@extschema@.timed_value, jsonb, timestamptz) IS
    'latest_value(jsonb) transition: the later of the state and (value, at); NULLs skipped';
COMMENT ON FUNCTION @extschema@.timed_value_merge(@extschema@.timed_value, @extschema@.timed_value) IS
    'latest_value combine: the later of two states (ties: the larger value); NULL is no state';
COMMENT ON FUNCTION @extschema@.timed_value_text(@extschema@.timed_value) IS 'The text a timed_value holds: latest_value(text) final';
COMMENT ON FUNCTION @extschema@.timed_value_jsonb(@extschema@.timed_value) IS 'The jsonb a timed_value holds: latest_value(jsonb) final';
COMMENT ON FUNCTION @extschema@.timed_value_at(@extschema@.timed_value) IS 'When a timed_value''s value was observed';

CREATE AGGREGATE @extschema@.latest_value(text, timestamptz) (
    SFUNC = @extschema@.timed_value_add_text,
    STYPE = @extschema@.timed_value,
    COMBINEFUNC = @extschema@.timed_value_merge,
    FINALFUNC = @extschema@.timed_value_text,
    PARALLEL = SAFE
);
CREATE AGGREGATE @extschema@.latest_value(jsonb, timestamptz) (
    SFUNC = @extschema@.timed_value_add_jsonb,
    STYPE = @extschema@.timed_value,
    COMBINEFUNC = @extschema@.timed_value_merge,
    FINALFUNC = @extschema@.timed_value_jsonb,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.latest_value(text, timestamptz) IS
    'The value of the row with the latest time (ties: the larger value); order-independent';
COMMENT ON AGGREGATE @extschema@.latest_value(jsonb, timestamptz) IS
    'The value of the row with the latest time (ties: the larger value); order-independent';
CREATE AGGREGATE @extschema@.latest_timed_value(text, timestamptz) (
    SFUNC = @extschema@.timed_value_add_text,
    STYPE = @extschema@.timed_value,
    COMBINEFUNC = @extschema@.timed_value_merge,
    PARALLEL = SAFE
);
CREATE AGGREGATE @extschema@.latest_timed_value(jsonb, timestamptz) (
    SFUNC = @extschema@.timed_value_add_jsonb,
    STYPE = @extschema@.timed_value,
    COMBINEFUNC = @extschema@.timed_value_merge,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.latest_timed_value(text, timestamptz) IS
    'The partial state of latest_value(text): the latest value with its time; merged by timed_value_merge';
COMMENT ON AGGREGATE @extschema@.latest_timed_value(jsonb, timestamptz) IS
    'The partial state of latest_value(jsonb): the latest value with its time; merged by timed_value_merge';

-- Category sets: the categories a recipient's events carried, as a sorted text[].
CREATE FUNCTION @extschema@.category_set_add(text[], jsonb) RETURNS text[]
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.category_set_merge(text[], text[]) RETURNS text[]
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.category_set_added(stored text[], partial text[]) RETURNS text[]
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.category_set_add(text[], jsonb) IS
    'category_set transition: the set with the categories of an event''s category field (a string or an array of them) added';
COMMENT ON FUNCTION @extschema@.category_set_merge(text[], text[]) IS
    'category_set combine: the union of two category sets; NULL is the empty set';
COMMENT ON FUNCTION @extschema@.category_set_added(text[], text[]) IS
    'What merging partial into stored adds: the categories of partial that stored lacks; NULL when none';
CREATE AGGREGATE @extschema@.category_set(jsonb) (
    SFUNC = @extschema@.category_set_add,
    STYPE = text[],
    COMBINEFUNC = @extschema@.category_set_merge,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.category_set(jsonb) IS
    'The distinct categories of events'' category fields, sorted; NULL when none';

-- activity: what happened to a recipient on each UTC day, for the deliverability figures.
CREATE TYPE @extschema@.activity;
CREATE FUNCTION @extschema@.activity_in(cstring) RETURNS @extschema@.activity
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.activity_out(@extschema@.activity) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.activity_recv(internal) RETURNS @extschema@.activity
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.activity_send(@extschema@.activity) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE @extschema@.activity (
    INPUT = @extschema@.activity_in,
    OUTPUT = @extschema@.activity_out,
    RECEIVE = @extschema@.activity_recv,
    SEND = @extschema@.activity_send,
    INTERNALLENGTH = VARIABLE,
    STORAGE = extended
);
COMMENT ON TYPE @extschema@.activity IS
    'A recipient''s deliverability events per UTC day: processed, delivered, bounced, blocked, dropped, deferred, spam_reported and opened_by_human once per day, machine opens and clicks counted';
COMMENT ON FUNCTION @extschema@.activity_in(cstring) IS 'activity text input: [{"day": date, "events": [...], "machine_opens": n, "clicks": n}, ...]';
COMMENT ON FUNCTION @extschema@.activity_out(@extschema@.activity) IS 'activity text output';
COMMENT ON FUNCTION @extschema@.activity_recv(internal) IS 'activity binary input';
COMMENT ON FUNCTION @extschema@.activity_send(@extschema@.activity) IS 'activity binary output';

CREATE FUNCTION @extschema@.activity_add(@extschema@.activity, event text, bounce_type text, machine_open boolean, at timestamptz)
    RETURNS @extschema@.activity
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.activity_merge(@extschema@.activity, @extschema@.activity) RETURNS @extschema@.activity
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.activity_added(stored @extschema@.activity, partial @extschema@.activity) RETURNS @extschema@.activity
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.activity_subtract(@extschema@.activity, part @extschema@.activity) RETURNS @extschema@.activity
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.activity_days(@extschema@.activity)
    RETURNS TABLE (day date, processed boolean, delivered boolean, bounced boolean, blocked boolean, dropped boolean,
                   deferred boolean, spam_reported boolean, opened_by_human boolean, machine_opens bigint, clicks bigint)
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 2;
COMMENT ON FUNCTION @extschema@.activity_add(@extschema@.activity, text, text, boolean, timestamptz) IS
    'activity_state transition: the event''s day gets its flag (or its machine open or click counted)';
COMMENT ON FUNCTION @extschema@.activity_merge(@extschema@.activity, @extschema@.activity) IS
    'activity_state combine: per day, the flags of both and the sum of their counts; NULL is no activity';
COMMENT ON FUNCTION @extschema@.activity_added(@extschema@.activity, @extschema@.activity) IS
    'What merging partial into stored adds: per day, the flags stored lacks and partial''s counts; NULL when nothing';
COMMENT ON FUNCTION @extschema@.activity_subtract(@extschema@.activity, @extschema@.activity) IS
    'An activity without part of it (per day, part''s flags off and its counts taken away): what a recipient had before a merge; NULL when nothing is left';
COMMENT ON FUNCTION @extschema@.activity_days(@extschema@.activity) IS
    'The days of an activity as rows';
CREATE AGGREGATE @extschema@.activity_state(event text, bounce_type text, machine_open boolean, at timestamptz) (
    SFUNC = @extschema@.activity_add,
    STYPE = @extschema@.activity,
    COMBINEFUNC = @extschema@.activity_merge,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.activity_state(text, text, boolean, timestamptz) IS
    'The activity of a recipient''s events: per UTC day, which deliverability events it had, and how many machine opens and clicks';

-----------------------------------------------------------------------------
-- Raw events: one row per distinct event, partitioned by month of occurred_at.
-----------------------------------------------------------------------------

-- Each posted field is stored once: in its typed column when the column gives it back
-- exactly, else as posted in residual; the CRM's own keys in custom_args.  The fixed-width
-- columns come first (no alignment padding).  Partitions are made at run time, never by
-- this script, with their primary key (add_event_partition_indexes): they are the user's
-- tables (pg_dump dumps them with their rows, pg_partman can take them over).
CREATE TABLE @extschema@.event (
    occurred_at timestamptz NOT NULL,
    content_hash bigint NOT NULL,
    received_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    attempt integer,
    asm_group_id integer,
    machine_open boolean,
    attributed_message_id text COLLATE "C",
    message_id text COLLATE "C" NOT NULL DEFAULT '',
    email text COLLATE "C" NOT NULL,
    event text NOT NULL,
    sg_event_id text,
    sg_message_suffix text,
    smtp_host text,
    reason text,
    smtp_status text,
    response text,
    bounce_type text,
    bounce_classification text,
    url text,
    useragent text,
    ip text,
    category jsonb,
    custom_args jsonb,
    residual jsonb
) PARTITION BY RANGE (occurred_at);
COMMENT ON TABLE @extschema@.event IS
    'One row per distinct SendGrid event, never updated, partitioned by month of occurred_at (event_pYYYY_MM, and event_default for months without one); event_payload(event) is the event as posted';
COMMENT ON COLUMN @extschema@.event.occurred_at IS 'SendGrid''s timestamp (Unix seconds or milliseconds); the partition key';
COMMENT ON COLUMN @extschema@.event.content_hash IS 'The first 64 bits of the SHA-256 of the event as posted: with message_id and occurred_at, what tells events apart (the same event posted again is a duplicate)';
COMMENT ON COLUMN @extschema@.event.received_at IS 'When mailstatus stored it (transaction start)';
COMMENT ON COLUMN @extschema@.event.attempt IS 'SendGrid''s "attempt" (a deferral''s retry count)';
COMMENT ON COLUMN @extschema@.event.machine_open IS 'sg_machine_open: an open made by a privacy proxy, not a person; NULL when the event has none';
COMMENT ON COLUMN @extschema@.event.attributed_message_id IS 'An async bounce that named no message (message_id ''''): the message it is attributed to, the address''s latest send recorded within the 72 hours before it when it arrived; its recipient''s state counts it there';
COMMENT ON COLUMN @extschema@.event.message_id IS 'The X-Message-Id the CRM got back when it sent, from sg_message_id (or smtp-id); '''' when the event names none';
COMMENT ON COLUMN @extschema@.event.email IS 'Recipient, normalized (normalize_email)';
COMMENT ON COLUMN @extschema@.event.event IS 'SendGrid''s event name, lowercased; unknown names are stored too';
COMMENT ON COLUMN @extschema@.event.sg_message_suffix IS 'What follows message_id in sg_message_id: sg_message_id is message_id || sg_message_suffix';
COMMENT ON COLUMN @extschema@.event.smtp_host IS 'The host of smtp-id, which is <message_id@smtp_host>';
COMMENT ON COLUMN @extschema@.event.smtp_status IS 'SendGrid''s "status" field: the SMTP status code';
COMMENT ON COLUMN @extschema@.event.bounce_type IS 'SendGrid''s "type": bounce or blocked';
COMMENT ON COLUMN @extschema@.event.category IS 'SendGrid''s "category" as posted: a string or an array of strings';
COMMENT ON COLUMN @extschema@.event.custom_args IS 'Every top-level key that is not SendGrid''s own: the CRM''s custom args; NULL when none';
COMMENT ON COLUMN @extschema@.event.residual IS 'SendGrid''s keys without a column of their own, and the posted form of a field whose column holds it normalized; NULL when none';
SELECT pg_catalog.pg_extension_config_dump('mailstatus.event', '');

CREATE FUNCTION @extschema@.event_payload(@extschema@.event) RETURNS jsonb
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.event_payload(@extschema@.event) IS
    'The event exactly as posted (e.event_payload): its typed columns, custom args and residual put back together';

CREATE FUNCTION @extschema@.event_key(@extschema@.event) RETURNS text
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.event_key(@extschema@.event) IS
    'An event''s key for people (e.event_key): its sg_event_id, or sha256: of the event as posted when it has none';

CREATE FUNCTION @extschema@.map_sendgrid_event(element jsonb, received_at timestamptz DEFAULT pg_catalog.now(),
                                               OUT event @extschema@.event, OUT reject_reason text)
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.map_sendgrid_event(jsonb, timestamptz) IS
    'The row ingest stores for one webhook element, or why it rejects it';

CREATE FUNCTION @extschema@.add_event_partition_indexes(partition regclass)
    RETURNS void
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    table_name name := (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) partition);
BEGIN
    -- The key holds the partition key and, on Citus, the distribution column: a re-posted
    -- event is byte-identical, so it repeats all three. Ingest's ON CONFLICT DO NOTHING
    -- checks it. Reads go to the state tables: no other index is needed.
    EXECUTE pg_catalog.format('ALTER TABLE %s ADD CONSTRAINT %I PRIMARY KEY (message_id, occurred_at, content_hash)',
                              partition, table_name OPERATOR(pg_catalog.||) '_pkey');
END $$;
COMMENT ON FUNCTION @extschema@.add_event_partition_indexes(regclass) IS
    'Gives a partition of mailstatus.event (or a table to become one) its primary key (message_id, occurred_at, content_hash)';
REVOKE ALL ON FUNCTION @extschema@.add_event_partition_indexes(regclass) FROM PUBLIC;

CREATE FUNCTION @extschema@.event_partition_name(occurred_at timestamptz)
    RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN 'event_p' OPERATOR(pg_catalog.||) pg_catalog.to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY_MM');
COMMENT ON FUNCTION @extschema@.event_partition_name(timestamptz) IS
    'Name of the partition of mailstatus.event that holds the UTC month of a time (pg_partman''s monthly naming)';

-- The retention window: set by drop_event_partitions, read by ingest, which rejects (into
-- rejected_event, with the reason) an event older than it. No row: every month is kept.
CREATE TABLE @extschema@.event_retention (
    single_row boolean PRIMARY KEY DEFAULT true CHECK (single_row),
    retained_since timestamptz NOT NULL
);
COMMENT ON TABLE @extschema@.event_retention IS
    'Events that occurred before retained_since are no longer kept: their months were dropped, and ingest rejects late arrivals for them';
SELECT pg_catalog.pg_extension_config_dump('mailstatus.event_retention', '');

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
SELECT pg_catalog.pg_extension_config_dump('mailstatus.rejected_event', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('mailstatus.rejected_event', 'id')::regclass, '');

CREATE TABLE @extschema@.send (
    message_id text COLLATE "C" NOT NULL,
    email text COLLATE "C" NOT NULL,
    sent_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    custom_args jsonb NOT NULL DEFAULT '{}',
    CONSTRAINT send_pkey PRIMARY KEY (message_id, email)
);
-- An async bounce names no message: it is attributed to the address's latest send.
CREATE INDEX send_email_sent_at_idx ON @extschema@.send (email, sent_at);
COMMENT ON TABLE @extschema@.send IS
    'Recipients the CRM handed to SendGrid (record_send): they show as sent before any event arrives';
SELECT pg_catalog.pg_extension_config_dump('mailstatus.send', '');

-----------------------------------------------------------------------------
-- State: the aggregates' partial states, merged at ingest with their combine functions.
-----------------------------------------------------------------------------

-- One row per recipient of a message: every figure recipient_status shows, as partial
-- states. Ingest and record_send merge each statement's partial states into it
-- (merge_recipients), so arrival order, retries and concurrent batches give the same row,
-- and dropping old events changes nothing. The last four columns say what the latest
-- merge changed: the maintained counters and the status-change log are made from them.
CREATE TABLE @extschema@.recipient (
    message_id text COLLATE "C" NOT NULL,
    email text COLLATE "C" NOT NULL,
    reached bigint NOT NULL,
    reached_human bigint NOT NULL,
    first_event_at timestamptz NOT NULL,
    last_event_at timestamptz NOT NULL,
    opens integer NOT NULL,
    machine_opens integer NOT NULL,
    clicks integer NOT NULL,
    reason @extschema@.timed_value,
    smtp_status @extschema@.timed_value,
    bounce_classification @extschema@.timed_value,
    custom_args @extschema@.timed_value,
    categories text[],
    activity @extschema@.activity,
    status_before @extschema@.mail_status,
    human_status_before @extschema@.mail_status,
    activity_added @extschema@.activity,
    categories_added text[],
    custom_args_changed boolean,
    CONSTRAINT recipient_pkey PRIMARY KEY (message_id, email)
) WITH (fillfactor = 70);
CREATE INDEX recipient_email_idx ON @extschema@.recipient (email);
COMMENT ON TABLE @extschema@.recipient IS
    'Per recipient of a message, the partial states of every aggregate recipient_status shows, merged at ingest with the aggregates'' combine functions';
COMMENT ON COLUMN @extschema@.recipient.reached IS 'mail_status_reached_state of its events and send, machine opens counted as opens';
COMMENT ON COLUMN @extschema@.recipient.reached_human IS 'mail_status_reached_state of its events and send, machine opens left out (the default)';
COMMENT ON COLUMN @extschema@.recipient.reason IS 'latest_timed_value of the reasons of its bounces and drops';
COMMENT ON COLUMN @extschema@.recipient.custom_args IS 'latest_timed_value of the custom args of its events and send';
COMMENT ON COLUMN @extschema@.recipient.categories IS 'category_set of its events';
COMMENT ON COLUMN @extschema@.recipient.activity IS 'activity_state of its events: what deliverability_daily counts';
COMMENT ON COLUMN @extschema@.recipient.status_before IS 'The status (machine opens counted) before the latest merge';
COMMENT ON COLUMN @extschema@.recipient.human_status_before IS 'The status (machine opens left out) before the latest merge';
COMMENT ON COLUMN @extschema@.recipient.activity_added IS 'What the latest merge added to activity; NULL after the recipient''s first (where all of activity is new)';
COMMENT ON COLUMN @extschema@.recipient.categories_added IS 'What the latest merge added to categories; NULL after the recipient''s first (where all of categories are new)';
COMMENT ON COLUMN @extschema@.recipient.custom_args_changed IS 'Whether the latest merge changed the value of custom_args; NULL after the recipient''s first';
SELECT pg_catalog.pg_extension_config_dump('mailstatus.recipient', '');

-- The custom args each message was sent or reported with, once per distinct value: how
-- recipient_status_for finds one CRM record's messages.
CREATE TABLE @extschema@.message_custom_args (
    message_id text COLLATE "C" NOT NULL,
    args_hash bigint NOT NULL,
    custom_args jsonb NOT NULL,
    CONSTRAINT message_custom_args_pkey PRIMARY KEY (message_id, args_hash)
);
CREATE INDEX message_custom_args_idx ON @extschema@.message_custom_args USING gin (custom_args jsonb_path_ops);
COMMENT ON TABLE @extschema@.message_custom_args IS
    'Each distinct set of custom args a message''s events or send carried (args_hash is jsonb_hash_extended(custom_args, 0))';
SELECT pg_catalog.pg_extension_config_dump('mailstatus.message_custom_args', '');

-- Per address: why not to mail it. Merged at ingest like recipient, by event time.
CREATE TABLE @extschema@.suppression_state (
    email text COLLATE "C" NOT NULL,
    decision @extschema@.timed_value,
    failure @extschema@.timed_value,
    delivered_at timestamptz,
    lifted_at timestamptz,
    CONSTRAINT suppression_state_pkey PRIMARY KEY (email)
) WITH (fillfactor = 70);
COMMENT ON TABLE @extschema@.suppression_state IS
    'Per address, the partial states the suppression view reads: its latest spam report or unsubscribe, its latest bounce, block or drop, its latest delivery';
COMMENT ON COLUMN @extschema@.suppression_state.decision IS 'latest_timed_value of its spam reports and unsubscribes: {cause, reason, event_key}';
COMMENT ON COLUMN @extschema@.suppression_state.failure IS 'latest_timed_value of its bounces, blocks and drops: {cause, reason, event_key}';
COMMENT ON COLUMN @extschema@.suppression_state.delivered_at IS 'Its latest delivery: a failure at or before it no longer holds';
COMMENT ON COLUMN @extschema@.suppression_state.lifted_at IS 'The owner lifted its suppressions up to this time (lift_suppression)';
SELECT pg_catalog.pg_extension_config_dump('mailstatus.suppression_state', '');

CREATE TABLE @extschema@.group_suppression_state (
    email text COLLATE "C" NOT NULL,
    asm_group_id integer NOT NULL,
    unsubscribe @extschema@.timed_value,
    resubscribed_at timestamptz,
    lifted_at timestamptz,
    CONSTRAINT group_suppression_state_pkey PRIMARY KEY (email, asm_group_id)
);
COMMENT ON TABLE @extschema@.group_suppression_state IS
    'Per address and unsubscribe group, the partial states the suppression view reads: its latest group unsubscribe and its latest group resubscribe';
SELECT pg_catalog.pg_extension_config_dump('mailstatus.group_suppression_state', '');

-- Counters maintained from what each merge added: the dashboards read a row a day, not
-- the events.
CREATE TABLE @extschema@.deliverability_day (
    day date NOT NULL,
    sent bigint NOT NULL,
    delivered bigint NOT NULL,
    bounced bigint NOT NULL,
    blocked bigint NOT NULL,
    dropped bigint NOT NULL,
    deferred bigint NOT NULL,
    spam_reports bigint NOT NULL,
    unique_human_opens bigint NOT NULL,
    machine_opens bigint NOT NULL,
    clicks bigint NOT NULL,
    CONSTRAINT deliverability_day_pkey PRIMARY KEY (day)
);
COMMENT ON TABLE @extschema@.deliverability_day IS
    'Per UTC day, the recipients with each deliverability event that day, and the machine opens and clicks: the sums of the recipients'' activity';
SELECT pg_catalog.pg_extension_config_dump('mailstatus.deliverability_day', '');

CREATE TABLE @extschema@.deliverability_category_day (
    day date NOT NULL,
    category text COLLATE "C",
    sent bigint NOT NULL,
    delivered bigint NOT NULL,
    bounced bigint NOT NULL,
    blocked bigint NOT NULL,
    dropped bigint NOT NULL,
    deferred bigint NOT NULL,
    spam_reports bigint NOT NULL,
    unique_human_opens bigint NOT NULL,
    machine_opens bigint NOT NULL,
    clicks bigint NOT NULL,
    CONSTRAINT deliverability_category_day_key UNIQUE NULLS NOT DISTINCT (day, category)
);
COMMENT ON TABLE @extschema@.deliverability_category_day IS
    'deliverability_day per category: a recipient counts under each category its events carried, or under NULL when they carried none';
SELECT pg_catalog.pg_extension_config_dump('mailstatus.deliverability_category_day', '');

CREATE TABLE @extschema@.status_count (
    machine_opens_counted boolean NOT NULL,
    status @extschema@.mail_status,
    recipients bigint NOT NULL,
    CONSTRAINT status_count_key UNIQUE NULLS NOT DISTINCT (machine_opens_counted, status)
);
COMMENT ON TABLE @extschema@.status_count IS
    'How many recipients are at each status, with machine opens counted and without';
SELECT pg_catalog.pg_extension_config_dump('mailstatus.status_count', '');

-- Every change of a recipient's status, for workers that react to them. A notification on
-- channel mailstatus_status_changed carries only the id: any role may LISTEN, but only
-- the roles granted SELECT here read the change.
CREATE TABLE @extschema@.status_change (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    changed_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    message_id text COLLATE "C" NOT NULL,
    email text COLLATE "C" NOT NULL,
    old_status @extschema@.mail_status,
    new_status @extschema@.mail_status,
    status_at timestamptz
);
COMMENT ON TABLE @extschema@.status_change IS
    'Each change of a recipient''s status (as the ingesting session counts machine opens), notified by id on channel mailstatus_status_changed';
SELECT pg_catalog.pg_extension_config_dump('mailstatus.status_change', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('mailstatus.status_change', 'id')::regclass, '');

-- The partial states of raw rows, the one definition used everywhere: ingest and
-- record_send merge the partial states of what they store; state_differences recomputes
-- the state from every row still kept with the same functions.
CREATE FUNCTION @extschema@.recipient_partials(events @extschema@.event[], sends @extschema@.send[])
    RETURNS SETOF @extschema@.recipient
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT f.message_id, f.email,
           @extschema@.mail_status_reached_state(f.status, f.occurred_at),
           @extschema@.mail_status_reached_state(f.status, f.occurred_at) FILTER (WHERE NOT f.machine_open),
           pg_catalog.min(f.occurred_at), pg_catalog.max(f.occurred_at),
           (pg_catalog.count(*) FILTER (WHERE f.event OPERATOR(pg_catalog.=) 'open' AND NOT f.machine_open))::integer,
           (pg_catalog.count(*) FILTER (WHERE f.event OPERATOR(pg_catalog.=) 'open' AND f.machine_open))::integer,
           (pg_catalog.count(*) FILTER (WHERE f.event OPERATOR(pg_catalog.=) 'click'))::integer,
           @extschema@.latest_timed_value(f.reason, f.occurred_at) FILTER (WHERE f.failed),
           @extschema@.latest_timed_value(f.smtp_status, f.occurred_at) FILTER (WHERE f.failed),
           @extschema@.latest_timed_value(f.bounce_classification, f.occurred_at) FILTER (WHERE f.failed),
           @extschema@.latest_timed_value(f.custom_args, f.occurred_at),
           @extschema@.category_set(f.category),
           @extschema@.activity_state(f.event, f.bounce_type, f.machine_open, f.occurred_at),
           NULL::@extschema@.mail_status, NULL::@extschema@.mail_status, NULL::@extschema@.activity, NULL::text[], NULL::boolean
      FROM (SELECT COALESCE(e.attributed_message_id, e.message_id) AS message_id, e.email,
                   @extschema@.mail_status_of_event(e.event) AS status, e.occurred_at, e.event,
                   COALESCE(e.machine_open, false) AS machine_open,
                   e.event OPERATOR(pg_catalog.=) ANY ('{bounce,dropped}'::text[]) AS failed,
                   e.reason, e.smtp_status, e.bounce_classification, e.custom_args, e.category, e.bounce_type
              FROM pg_catalog.unnest(recipient_partials.events) AS e
            UNION ALL
            SELECT s.message_id, s.email, 'sent'::@extschema@.mail_status, s.sent_at, NULL::text, false, false,
                   NULL::text, NULL::text, NULL::text, NULLIF(s.custom_args, '{}'::jsonb), NULL::jsonb, NULL::text
              FROM pg_catalog.unnest(recipient_partials.sends) AS s) AS f
     GROUP BY f.message_id, f.email;
END;
COMMENT ON FUNCTION @extschema@.recipient_partials(@extschema@.event[], @extschema@.send[]) IS
    'The partial state of each recipient of these events and sends, as rows of recipient';

CREATE FUNCTION @extschema@.suppression_partials(events @extschema@.event[])
    RETURNS SETOF @extschema@.suppression_state
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT e.email,
           @extschema@.latest_timed_value(pg_catalog.jsonb_build_object(
               'cause', e.event, 'reason', e.reason, 'event_key', @extschema@.event_key(e)), e.occurred_at)
               FILTER (WHERE e.event OPERATOR(pg_catalog.=) ANY ('{spamreport,unsubscribe}'::text[])),
           @extschema@.latest_timed_value(pg_catalog.jsonb_build_object(
               'cause', CASE WHEN e.bounce_type OPERATOR(pg_catalog.=) 'blocked' THEN 'blocked' ELSE e.event END,
               'reason', e.reason, 'event_key', @extschema@.event_key(e)), e.occurred_at)
               FILTER (WHERE e.event OPERATOR(pg_catalog.=) ANY ('{bounce,dropped}'::text[])),
           pg_catalog.max(e.occurred_at) FILTER (WHERE e.event OPERATOR(pg_catalog.=) 'delivered'),
           NULL::timestamptz
      FROM pg_catalog.unnest(suppression_partials.events) AS e
     WHERE e.event OPERATOR(pg_catalog.=) ANY ('{spamreport,unsubscribe,bounce,dropped,delivered}'::text[])
     GROUP BY e.email;
END;
COMMENT ON FUNCTION @extschema@.suppression_partials(@extschema@.event[]) IS
    'The partial suppression state of each address of these events, as rows of suppression_state';

CREATE FUNCTION @extschema@.group_suppression_partials(events @extschema@.event[])
    RETURNS SETOF @extschema@.group_suppression_state
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT e.email, e.asm_group_id,
           @extschema@.latest_timed_value(pg_catalog.jsonb_build_object(
               'reason', e.reason, 'event_key', @extschema@.event_key(e)), e.occurred_at)
               FILTER (WHERE e.event OPERATOR(pg_catalog.=) 'group_unsubscribe'),
           pg_catalog.max(e.occurred_at) FILTER (WHERE e.event OPERATOR(pg_catalog.=) 'group_resubscribe'),
           NULL::timestamptz
      FROM pg_catalog.unnest(group_suppression_partials.events) AS e
     WHERE e.event OPERATOR(pg_catalog.=) ANY ('{group_unsubscribe,group_resubscribe}'::text[])
       AND e.asm_group_id IS NOT NULL
     GROUP BY e.email, e.asm_group_id;
END;
COMMENT ON FUNCTION @extschema@.group_suppression_partials(@extschema@.event[]) IS
    'The partial group-suppression state of each address and group of these events, as rows of group_suppression_state';

CREATE FUNCTION @extschema@.recipient_merge_counts(merged @extschema@.recipient[], inserted boolean[],
                                                   OUT days @extschema@.deliverability_day[],
                                                   OUT category_days @extschema@.deliverability_category_day[],
                                                   OUT statuses @extschema@.status_count[])
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.recipient_merge_counts(@extschema@.recipient[], boolean[]) IS
    'What a merge into recipient (its rows as merged, and whether each was new) adds to the counters: a recipient''s added activity to its days, to each of its categories (a new category: all of it; its first categories take it from NULL), and its change of status';

-- Merges partial states into the recipient state, with each aggregate's combine function,
-- then brings the counters and the status-change log up to date from what the merge
-- changed. One statement per table, tables always in this order and rows in key order:
-- concurrent batches lock the same rows in the same order and never deadlock. Returns, for
-- each recipient whose custom args the merge left as they were, their value: it is in
-- message_custom_args already (every value a recipient ever had went there when merged).
CREATE FUNCTION @extschema@.merge_recipients(partials @extschema@.recipient[])
    RETURNS TABLE (known_message_id text, known_email text, known_custom_args jsonb)
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    merged mailstatus.recipient[];
    inserted boolean[];
    unchanged_args_messages text[];
    unchanged_args_emails text[];
    unchanged_args jsonb[];
    days mailstatus.deliverability_day[];
    category_days mailstatus.deliverability_category_day[];
    statuses mailstatus.status_count[];
    notified bigint;
BEGIN
    WITH upserted AS (
        INSERT INTO mailstatus.recipient AS r
        SELECT p.* FROM pg_catalog.unnest(partials) AS p ORDER BY p.message_id, p.email
        ON CONFLICT ON CONSTRAINT recipient_pkey DO UPDATE SET
            reached = mailstatus.mail_status_reached_at_combine(r.reached, excluded.reached),
            reached_human = mailstatus.mail_status_reached_at_combine(r.reached_human, excluded.reached_human),
            first_event_at = LEAST(r.first_event_at, excluded.first_event_at),
            last_event_at = GREATEST(r.last_event_at, excluded.last_event_at),
            opens = r.opens OPERATOR(pg_catalog.+) excluded.opens,
            machine_opens = r.machine_opens OPERATOR(pg_catalog.+) excluded.machine_opens,
            clicks = r.clicks OPERATOR(pg_catalog.+) excluded.clicks,
            reason = mailstatus.timed_value_merge(r.reason, excluded.reason),
            smtp_status = mailstatus.timed_value_merge(r.smtp_status, excluded.smtp_status),
            bounce_classification = mailstatus.timed_value_merge(r.bounce_classification, excluded.bounce_classification),
            custom_args = mailstatus.timed_value_merge(r.custom_args, excluded.custom_args),
            categories = mailstatus.category_set_merge(r.categories, excluded.categories),
            activity = mailstatus.activity_merge(r.activity, excluded.activity),
            status_before = mailstatus.mail_status_reached_status(r.reached),
            human_status_before = mailstatus.mail_status_reached_status(r.reached_human),
            activity_added = mailstatus.activity_added(r.activity, excluded.activity),
            categories_added = mailstatus.category_set_added(r.categories, excluded.categories),
            custom_args_changed = mailstatus.timed_value_jsonb(excluded.custom_args)
                                  IS DISTINCT FROM mailstatus.timed_value_jsonb(r.custom_args)
        RETURNING ROW(r.*)::mailstatus.recipient AS r, r.xmax OPERATOR(pg_catalog.=) '0'::xid AS was_inserted)
    SELECT pg_catalog.array_agg(u.r), pg_catalog.array_agg(u.was_inserted),
           pg_catalog.array_agg((u.r).message_id) FILTER (WHERE u.unchanged_args IS NOT NULL),
           pg_catalog.array_agg((u.r).email) FILTER (WHERE u.unchanged_args IS NOT NULL),
           pg_catalog.array_agg(u.unchanged_args) FILTER (WHERE u.unchanged_args IS NOT NULL)
      INTO merged, inserted, unchanged_args_messages, unchanged_args_emails, unchanged_args
      FROM (SELECT v.r, v.was_inserted,
                   CASE WHEN NOT v.was_inserted AND NOT (v.r).custom_args_changed
                        THEN mailstatus.timed_value_jsonb((v.r).custom_args) END AS unchanged_args
              FROM upserted v) AS u;

    -- The counters: what the merge added to each (recipient_merge_counts), a few rows each.
    SELECT c.days, c.category_days, c.statuses INTO days, category_days, statuses
      FROM mailstatus.recipient_merge_counts(merged, inserted) AS c;
    INSERT INTO mailstatus.deliverability_day AS d
    SELECT a.* FROM pg_catalog.unnest(days) AS a ORDER BY a.day
    ON CONFLICT ON CONSTRAINT deliverability_day_pkey DO UPDATE SET
        sent = d.sent OPERATOR(pg_catalog.+) excluded.sent,
        delivered = d.delivered OPERATOR(pg_catalog.+) excluded.delivered,
        bounced = d.bounced OPERATOR(pg_catalog.+) excluded.bounced,
        blocked = d.blocked OPERATOR(pg_catalog.+) excluded.blocked,
        dropped = d.dropped OPERATOR(pg_catalog.+) excluded.dropped,
        deferred = d.deferred OPERATOR(pg_catalog.+) excluded.deferred,
        spam_reports = d.spam_reports OPERATOR(pg_catalog.+) excluded.spam_reports,
        unique_human_opens = d.unique_human_opens OPERATOR(pg_catalog.+) excluded.unique_human_opens,
        machine_opens = d.machine_opens OPERATOR(pg_catalog.+) excluded.machine_opens,
        clicks = d.clicks OPERATOR(pg_catalog.+) excluded.clicks;
    INSERT INTO mailstatus.deliverability_category_day AS d
    SELECT a.* FROM pg_catalog.unnest(category_days) AS a ORDER BY a.day, a.category
    ON CONFLICT ON CONSTRAINT deliverability_category_day_key DO UPDATE SET
        sent = d.sent OPERATOR(pg_catalog.+) excluded.sent,
        delivered = d.delivered OPERATOR(pg_catalog.+) excluded.delivered,
        bounced = d.bounced OPERATOR(pg_catalog.+) excluded.bounced,
        blocked = d.blocked OPERATOR(pg_catalog.+) excluded.blocked,
        dropped = d.dropped OPERATOR(pg_catalog.+) excluded.dropped,
        deferred = d.deferred OPERATOR(pg_catalog.+) excluded.deferred,
        spam_reports = d.spam_reports OPERATOR(pg_catalog.+) excluded.spam_reports,
        unique_human_opens = d.unique_human_opens OPERATOR(pg_catalog.+) excluded.unique_human_opens,
        machine_opens = d.machine_opens OPERATOR(pg_catalog.+) excluded.machine_opens,
        clicks = d.clicks OPERATOR(pg_catalog.+) excluded.clicks;
    INSERT INTO mailstatus.status_count AS s
    SELECT a.* FROM pg_catalog.unnest(statuses) AS a ORDER BY a.machine_opens_counted, a.status
    ON CONFLICT ON CONSTRAINT status_count_key DO UPDATE SET recipients = s.recipients OPERATOR(pg_catalog.+) excluded.recipients;

    -- Each change of status, as this session counts machine opens, logged and notified by id
    -- (no personal data in the payload). A notification queue half full (a listener that
    -- stopped reading) stops the notifying, never the batch: the log keeps every change.
    WITH changes AS (
        INSERT INTO mailstatus.status_change (message_id, email, old_status, new_status, status_at)
        SELECT m.message_id, m.email, t.old_status, mailstatus.mail_status_reached_status(t.reached),
               mailstatus.mail_status_reached_at_final(t.reached)
          FROM pg_catalog.unnest(merged) AS m
         CROSS JOIN LATERAL (SELECT CASE WHEN mailstatus.machine_opens_counted() THEN m.reached ELSE m.reached_human END,
                                    CASE WHEN mailstatus.machine_opens_counted() THEN m.status_before ELSE m.human_status_before END)
                            AS t(reached, old_status)
         WHERE mailstatus.mail_status_reached_status(t.reached)::text IS DISTINCT FROM t.old_status::text
         ORDER BY 1, 2
        RETURNING id)
    SELECT pg_catalog.count(*) INTO notified
      FROM (SELECT pg_catalog.pg_notify('mailstatus_status_changed', c.id::text)
              FROM changes c
             WHERE pg_catalog.pg_notification_queue_usage() OPERATOR(pg_catalog.<) 0.5) AS n;

    RETURN QUERY
    SELECT k.message_id, k.email, k.custom_args
      FROM ROWS FROM (pg_catalog.unnest(unchanged_args_messages), pg_catalog.unnest(unchanged_args_emails),
                      pg_catalog.unnest(unchanged_args)) AS k(message_id, email, custom_args);
END $$;
COMMENT ON FUNCTION @extschema@.merge_recipients(@extschema@.recipient[]) IS
    'Merges partial states into recipient with the aggregates'' combine functions, then updates the daily and per-status counters and logs and notifies each change of status; returns the custom args the merge left unchanged';
REVOKE ALL ON FUNCTION @extschema@.merge_recipients(@extschema@.recipient[]) FROM PUBLIC;

CREATE FUNCTION @extschema@.merge_events(events @extschema@.event[])
    RETURNS void
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    known_messages text[];
    known_emails text[];
    known_args jsonb[];
BEGIN
    SELECT pg_catalog.array_agg(k.known_message_id), pg_catalog.array_agg(k.known_email), pg_catalog.array_agg(k.known_custom_args)
      INTO known_messages, known_emails, known_args
      FROM mailstatus.merge_recipients(ARRAY(SELECT p FROM mailstatus.recipient_partials(events, '{}') AS p)) AS k;
    INSERT INTO mailstatus.suppression_state AS s
    SELECT p.* FROM mailstatus.suppression_partials(events) AS p ORDER BY p.email
    ON CONFLICT ON CONSTRAINT suppression_state_pkey DO UPDATE SET
        decision = mailstatus.timed_value_merge(s.decision, excluded.decision),
        failure = mailstatus.timed_value_merge(s.failure, excluded.failure),
        delivered_at = GREATEST(s.delivered_at, excluded.delivered_at);
    INSERT INTO mailstatus.group_suppression_state AS g
    SELECT p.* FROM mailstatus.group_suppression_partials(events) AS p ORDER BY p.email, p.asm_group_id
    ON CONFLICT ON CONSTRAINT group_suppression_state_pkey DO UPDATE SET
        unsubscribe = mailstatus.timed_value_merge(g.unsubscribe, excluded.unsubscribe),
        resubscribed_at = GREATEST(g.resubscribed_at, excluded.resubscribed_at);
    -- The custom args of each message, but for those its recipient's state had already.
    INSERT INTO mailstatus.message_custom_args
    SELECT DISTINCT a.message_id, pg_catalog.jsonb_hash_extended(a.custom_args, 0), a.custom_args
      FROM (SELECT COALESCE(e.attributed_message_id, e.message_id) AS message_id, e.email, e.custom_args
              FROM pg_catalog.unnest(events) AS e WHERE e.custom_args IS NOT NULL) AS a
      LEFT JOIN ROWS FROM (pg_catalog.unnest(known_messages), pg_catalog.unnest(known_emails), pg_catalog.unnest(known_args))
                AS k(message_id, email, custom_args)
        ON k.message_id OPERATOR(pg_catalog.=) a.message_id AND k.email OPERATOR(pg_catalog.=) a.email
     WHERE a.custom_args IS DISTINCT FROM k.custom_args
     ORDER BY 1, 2
    ON CONFLICT ON CONSTRAINT message_custom_args_pkey DO NOTHING;
END $$;
COMMENT ON FUNCTION @extschema@.merge_events(@extschema@.event[]) IS
    'Merges newly stored events into every state: recipients, suppressions, the custom args of their messages';
REVOKE ALL ON FUNCTION @extschema@.merge_events(@extschema@.event[]) FROM PUBLIC;

CREATE FUNCTION @extschema@.merge_sends(sends @extschema@.send[])
    RETURNS void
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    known_messages text[];
    known_emails text[];
    known_args jsonb[];
BEGIN
    SELECT pg_catalog.array_agg(k.known_message_id), pg_catalog.array_agg(k.known_email), pg_catalog.array_agg(k.known_custom_args)
      INTO known_messages, known_emails, known_args
      FROM mailstatus.merge_recipients(ARRAY(SELECT p FROM mailstatus.recipient_partials('{}', sends) AS p)) AS k;
    INSERT INTO mailstatus.message_custom_args
    SELECT DISTINCT s.message_id, pg_catalog.jsonb_hash_extended(s.custom_args, 0), s.custom_args
      FROM pg_catalog.unnest(sends) AS s
      LEFT JOIN ROWS FROM (pg_catalog.unnest(known_messages), pg_catalog.unnest(known_emails), pg_catalog.unnest(known_args))
                AS k(message_id, email, custom_args)
        ON k.message_id OPERATOR(pg_catalog.=) s.message_id AND k.email OPERATOR(pg_catalog.=) s.email
     WHERE s.custom_args OPERATOR(pg_catalog.<>) '{}'::jsonb AND s.custom_args IS DISTINCT FROM k.custom_args
     ORDER BY 1, 2
    ON CONFLICT ON CONSTRAINT message_custom_args_pkey DO NOTHING;
END $$;
COMMENT ON FUNCTION @extschema@.merge_sends(@extschema@.send[]) IS
    'Merges newly recorded sends into the recipient state and the custom args of their messages';
REVOKE ALL ON FUNCTION @extschema@.merge_sends(@extschema@.send[]) FROM PUBLIC;

-- An async bounce names no message; SendGrid retries a message for up to 72 hours.
CREATE FUNCTION @extschema@.attributed_message_id(email text, occurred_at timestamptz)
    RETURNS text
    LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN (SELECT s.message_id FROM mailstatus.send s
             WHERE s.email OPERATOR(pg_catalog.=) attributed_message_id.email
               AND s.sent_at OPERATOR(pg_catalog.<=) attributed_message_id.occurred_at
               AND s.sent_at OPERATOR(pg_catalog.>) (attributed_message_id.occurred_at OPERATOR(pg_catalog.-) '72 hours'::interval)
             ORDER BY s.sent_at DESC, s.message_id DESC
             LIMIT 1);
END $$;
COMMENT ON FUNCTION @extschema@.attributed_message_id(text, timestamptz) IS
    'The message an event naming none (an async bounce) belongs to: the address''s latest send recorded within the 72 hours before it; NULL when none';
REVOKE ALL ON FUNCTION @extschema@.attributed_message_id(text, timestamptz) FROM PUBLIC;

-----------------------------------------------------------------------------
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
    'Whether signature (base64 DER ECDSA) is SendGrid''s P-256/SHA-256 signature of timestamp || payload under public_key (base64 DER); false for a malformed signature or timestamp, an error for a malformed key';

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
                                        sent_at timestamptz DEFAULT pg_catalog.now())
    RETURNS integer
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    sent timestamptz := mailstatus.checked_event_time(COALESCE(record_send.sent_at, pg_catalog.now()), 'sent_at');
    recorded integer;
    refused integer;
BEGIN
    IF COALESCE(record_send.message_id, '') OPERATOR(pg_catalog.=) '' OR pg_catalog.octet_length(record_send.message_id) OPERATOR(pg_catalog.>) 256 THEN
        RAISE EXCEPTION 'record_send needs the X-Message-Id SendGrid answered the send with'
              USING ERRCODE = 'invalid_parameter_value',
                    DETAIL = pg_catalog.format('The message id is %s.', CASE WHEN record_send.message_id IS NULL THEN 'NULL'
                             WHEN record_send.message_id OPERATOR(pg_catalog.=) '' THEN 'empty'
                             ELSE pg_catalog.octet_length(record_send.message_id) OPERATOR(pg_catalog.||) ' bytes long; at most 256 are accepted' END);
    END IF;
    -- Addresses as ingest normalizes them; one that cannot be an address is rejected alone,
    -- with the reason, as ingest rejects an element.
    WITH address AS (
        SELECT DISTINCT e.email AS posted, mailstatus.normalize_email(e.email) AS email
          FROM pg_catalog.unnest(record_send.emails) AS e(email)
         WHERE e.email IS NOT NULL
    ), refused_address AS (
        SELECT pg_catalog.jsonb_build_object('record_send', pg_catalog.jsonb_build_object(
                   'message_id', record_send.message_id, 'email', a.posted)) AS element,
               CASE WHEN a.email OPERATOR(pg_catalog.=) '' THEN 'record_send: the address is empty'
                    ELSE pg_catalog.format('record_send: the address is %s bytes long; an address has at most 320',
                                           pg_catalog.octet_length(a.email)) END AS reason
          FROM address a
         WHERE a.email OPERATOR(pg_catalog.=) '' OR pg_catalog.octet_length(a.email) OPERATOR(pg_catalog.>) 320
    ), rejected AS (
        INSERT INTO mailstatus.rejected_event (element_key, reason, element)
        SELECT mailstatus.content_key(r.element), r.reason, r.element FROM refused_address r ORDER BY 1
        ON CONFLICT ON CONSTRAINT rejected_event_element_key DO NOTHING)
    SELECT pg_catalog.count(*) INTO refused FROM refused_address;
    WITH inserted AS (
        INSERT INTO mailstatus.send AS s (message_id, email, custom_args, sent_at)
        SELECT DISTINCT record_send.message_id, a.email, COALESCE(record_send.custom_args, '{}'::jsonb), sent
          FROM (SELECT mailstatus.normalize_email(e.email) AS email
                  FROM pg_catalog.unnest(record_send.emails) AS e(email) WHERE e.email IS NOT NULL) AS a
         WHERE a.email OPERATOR(pg_catalog.<>) '' AND pg_catalog.octet_length(a.email) OPERATOR(pg_catalog.<=) 320
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
    'Records the CRM''s own send: these recipients show as sent until SendGrid''s events arrive; returns how many were new';
REVOKE ALL ON FUNCTION @extschema@.record_send(text, text[], jsonb, timestamptz) FROM PUBLIC;

-----------------------------------------------------------------------------
-- Status views, read from the state.
-----------------------------------------------------------------------------

-- The state the session's setting picks is written out in each column, not taken from a
-- LATERAL subquery: Citus pushes down no FROM-less subquery that calls a STABLE function.
CREATE VIEW @extschema@.recipient_status AS
SELECT r.message_id,
       r.email,
       @extschema@.mail_status_reached_status(CASE WHEN @extschema@.machine_opens_counted() THEN r.reached ELSE r.reached_human END) AS status,
       @extschema@.mail_status_label(@extschema@.mail_status_reached_status(
           CASE WHEN @extschema@.machine_opens_counted() THEN r.reached ELSE r.reached_human END)) AS status_label,
       @extschema@.mail_status_reached_at_final(CASE WHEN @extschema@.machine_opens_counted() THEN r.reached ELSE r.reached_human END) AS status_at,
       r.first_event_at,
       r.last_event_at,
       r.opens::bigint AS opens,
       r.machine_opens::bigint AS machine_opens,
       r.clicks::bigint AS clicks,
       @extschema@.timed_value_text(r.reason) AS reason,
       @extschema@.timed_value_text(r.smtp_status) AS smtp_status,
       @extschema@.timed_value_text(r.bounce_classification) AS bounce_classification,
       @extschema@.timed_value_jsonb(r.custom_args) AS custom_args
  FROM @extschema@.recipient r;
COMMENT ON VIEW @extschema@.recipient_status IS
    'One row per (message_id, email): the status the CRM shows, read from the recipient state; message_id '''' gathers an address''s events that named no message';

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
 WHERE r.message_id OPERATOR(pg_catalog.<>) ''
 GROUP BY r.message_id;
COMMENT ON VIEW @extschema@.message_status IS
    'One row per X-Message-Id: its recipients, the overall status (highest precedence among them) and how many recipients are at each status';

CREATE VIEW @extschema@.status_counts AS
SELECT s.status, @extschema@.mail_status_label(s.status) AS status_label, s.recipients
  FROM @extschema@.status_count s
 WHERE s.machine_opens_counted OPERATOR(pg_catalog.=) @extschema@.machine_opens_counted()
   AND s.recipients OPERATOR(pg_catalog.<>) 0;
COMMENT ON VIEW @extschema@.status_counts IS
    'How many recipients are at each status (the roll-up of recipient_status), maintained at ingest: it reads a row per status';

CREATE FUNCTION @extschema@.recipient_status_for(custom_args jsonb)
    RETURNS SETOF @extschema@.recipient_status
    LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    messages text[];
BEGIN
    -- The messages first (by the GIN index), then their recipients (by the primary key).
    messages := ARRAY(SELECT DISTINCT a.message_id FROM mailstatus.message_custom_args a
                       WHERE a.custom_args OPERATOR(pg_catalog.@>) recipient_status_for.custom_args
                         AND a.message_id OPERATOR(pg_catalog.<>) '');
    RETURN QUERY
        SELECT r.* FROM mailstatus.recipient_status r
         WHERE r.message_id OPERATOR(pg_catalog.=) ANY (messages)
         ORDER BY r.message_id, r.email;
END $$;
COMMENT ON FUNCTION @extschema@.recipient_status_for(jsonb) IS
    'Statuses of every recipient of the messages whose custom args contain the given ones: one CRM record''s emails';
REVOKE ALL ON FUNCTION @extschema@.recipient_status_for(jsonb) FROM PUBLIC;

-----------------------------------------------------------------------------
-- Suppressions, read from the state.
-----------------------------------------------------------------------------

-- A spam report or unsubscribe is the recipient's decision: it holds until the owner lifts
-- it. A bounce, block or drop holds unless a delivery occurred after it (at the same time,
-- the failure holds). A group unsubscribe holds for its group unless a resubscribe to it
-- occurred after it (at the same time, the unsubscribe holds). Ties keep the address unmailed.
-- The rules are written once, here; the view and is_suppressed apply them.
CREATE FUNCTION @extschema@.suppression_holding(decision @extschema@.timed_value, failure @extschema@.timed_value,
                                                delivered_at timestamptz, lifted_at timestamptz)
    RETURNS @extschema@.timed_value
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
    WHEN @extschema@.timed_value_at(decision) OPERATOR(pg_catalog.>) COALESCE(lifted_at, '-infinity') THEN decision
    WHEN @extschema@.timed_value_at(failure) OPERATOR(pg_catalog.>=) COALESCE(delivered_at, '-infinity')
     AND @extschema@.timed_value_at(failure) OPERATOR(pg_catalog.>) COALESCE(lifted_at, '-infinity') THEN failure
    END;
COMMENT ON FUNCTION @extschema@.suppression_holding(@extschema@.timed_value, @extschema@.timed_value, timestamptz, timestamptz) IS
    'Of an address''s suppression state, what holds: its decision (spam report, unsubscribe) unless lifted, else its failure (bounce, block, drop) unless delivered to since or lifted; NULL when nothing holds';

CREATE FUNCTION @extschema@.group_unsubscribe_holds(unsubscribe @extschema@.timed_value, resubscribed_at timestamptz,
                                                    lifted_at timestamptz)
    RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN @extschema@.timed_value_at(unsubscribe) OPERATOR(pg_catalog.>=) COALESCE(resubscribed_at, '-infinity')
   AND @extschema@.timed_value_at(unsubscribe) OPERATOR(pg_catalog.>) COALESCE(lifted_at, '-infinity');
COMMENT ON FUNCTION @extschema@.group_unsubscribe_holds(@extschema@.timed_value, timestamptz, timestamptz) IS
    'Whether a group unsubscribe holds: not resubscribed since, not lifted';

CREATE VIEW @extschema@.suppression AS
SELECT s.email, NULL::integer AS asm_group_id,
       @extschema@.timed_value_jsonb(c.chosen) OPERATOR(pg_catalog.->>) 'cause' AS cause,
       @extschema@.timed_value_jsonb(c.chosen) OPERATOR(pg_catalog.->>) 'reason' AS reason,
       @extschema@.timed_value_jsonb(c.chosen) OPERATOR(pg_catalog.->>) 'event_key' AS event_key,
       @extschema@.timed_value_at(c.chosen) AS suppressed_since
  FROM @extschema@.suppression_state s
 CROSS JOIN LATERAL (SELECT @extschema@.suppression_holding(s.decision, s.failure, s.delivered_at, s.lifted_at) AS chosen) c
 WHERE c.chosen IS NOT NULL
UNION ALL
SELECT g.email, g.asm_group_id, 'group_unsubscribe',
       @extschema@.timed_value_jsonb(g.unsubscribe) OPERATOR(pg_catalog.->>) 'reason',
       @extschema@.timed_value_jsonb(g.unsubscribe) OPERATOR(pg_catalog.->>) 'event_key',
       @extschema@.timed_value_at(g.unsubscribe)
  FROM @extschema@.group_suppression_state g
 WHERE @extschema@.group_unsubscribe_holds(g.unsubscribe, g.resubscribed_at, g.lifted_at);
COMMENT ON VIEW @extschema@.suppression IS
    'One row per address (asm_group_id NULL) or per address and unsubscribe group that should not be mailed, with the cause and the event that caused it';

CREATE FUNCTION @extschema@.is_suppressed(email text, asm_group_id integer DEFAULT NULL)
    RETURNS boolean
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    address text := mailstatus.normalize_email(is_suppressed.email);
BEGIN
    -- The state's rows of the address, by key (one shard on Citus), with the view's rules.
    RETURN EXISTS (SELECT 1 FROM mailstatus.suppression_state s
                    WHERE s.email OPERATOR(pg_catalog.=) address
                      AND mailstatus.suppression_holding(s.decision, s.failure, s.delivered_at, s.lifted_at) IS NOT NULL)
        OR (is_suppressed.asm_group_id IS NOT NULL
            AND EXISTS (SELECT 1 FROM mailstatus.group_suppression_state g
                         WHERE g.email OPERATOR(pg_catalog.=) address
                           AND g.asm_group_id OPERATOR(pg_catalog.=) is_suppressed.asm_group_id
                           AND mailstatus.group_unsubscribe_holds(g.unsubscribe, g.resubscribed_at, g.lifted_at)));
END $$;
COMMENT ON FUNCTION @extschema@.is_suppressed(text, integer) IS
    'For the CRM''s send path: whether an address (for an unsubscribe group, when given) should not be mailed';
REVOKE ALL ON FUNCTION @extschema@.is_suppressed(text, integer) FROM PUBLIC;

CREATE FUNCTION @extschema@.lift_suppression(email text, asm_group_id integer DEFAULT NULL)
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    address text := mailstatus.normalize_email(lift_suppression.email);
    lifted integer;
BEGIN
    IF lift_suppression.asm_group_id IS NULL THEN
        UPDATE mailstatus.suppression_state s
           SET lifted_at = GREATEST(s.lifted_at, mailstatus.timed_value_at(s.decision), mailstatus.timed_value_at(s.failure))
         WHERE s.email OPERATOR(pg_catalog.=) address;
    ELSE
        UPDATE mailstatus.group_suppression_state g
           SET lifted_at = GREATEST(g.lifted_at, mailstatus.timed_value_at(g.unsubscribe))
         WHERE g.email OPERATOR(pg_catalog.=) address
           AND g.asm_group_id OPERATOR(pg_catalog.=) lift_suppression.asm_group_id;
    END IF;
    GET DIAGNOSTICS lifted = ROW_COUNT;
    RETURN lifted OPERATOR(pg_catalog.>) 0;
END $$;
COMMENT ON FUNCTION @extschema@.lift_suppression(text, integer) IS
    'The owner lifts an address''s suppressions (for one unsubscribe group, when given) as they stand: a later event suppresses it again; returns whether the address had any';
REVOKE ALL ON FUNCTION @extschema@.lift_suppression(text, integer) FROM PUBLIC;

-----------------------------------------------------------------------------
-- Deliverability.
-----------------------------------------------------------------------------

-- Rates and day range shared by every dimension. A day is in [since, until) when any part
-- of it is.
CREATE FUNCTION @extschema@.deliverability_daily_by(dimension text,
                                                    since timestamptz DEFAULT NULL,
                                                    until timestamptz DEFAULT NULL)
    RETURNS TABLE (day date, value text, sent bigint, delivered bigint, bounced bigint, blocked bigint,
                   dropped bigint, deferred bigint, spam_reports bigint, unique_human_opens bigint,
                   machine_opens bigint, clicks bigint, bounce_rate numeric, spam_report_rate numeric,
                   delivery_rate numeric)
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    first_day date := (since AT TIME ZONE 'UTC')::date;
BEGIN
    RETURN QUERY
    SELECT c.day, c.value, c.sent, c.delivered, c.bounced, c.blocked, c.dropped, c.deferred, c.spam_reports,
           c.unique_human_opens, c.machine_opens, c.clicks,
           pg_catalog.round((c.bounced OPERATOR(pg_catalog.+) c.blocked)::numeric OPERATOR(pg_catalog./) NULLIF(c.sent, 0), 4),
           pg_catalog.round(c.spam_reports::numeric OPERATOR(pg_catalog./) NULLIF(c.delivered, 0), 4),
           pg_catalog.round(c.delivered::numeric OPERATOR(pg_catalog./) NULLIF(c.sent, 0), 4)
      FROM (SELECT d.day, NULL::text AS value, d.sent, d.delivered, d.bounced, d.blocked, d.dropped, d.deferred,
                   d.spam_reports, d.unique_human_opens, d.machine_opens, d.clicks
              FROM mailstatus.deliverability_day d
             WHERE dimension IS NULL
            UNION ALL
            SELECT d.day, d.category, d.sent, d.delivered, d.bounced, d.blocked, d.dropped, d.deferred,
                   d.spam_reports, d.unique_human_opens, d.machine_opens, d.clicks
              FROM mailstatus.deliverability_category_day d
             WHERE dimension OPERATOR(pg_catalog.=) 'category'
               AND (d.sent, d.delivered, d.bounced, d.blocked, d.dropped, d.deferred, d.spam_reports,
                    d.unique_human_opens, d.machine_opens, d.clicks) IS DISTINCT FROM (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            UNION ALL
            -- Any other custom arg: from the recipients' state, a row per recipient.
            SELECT a.day, mailstatus.timed_value_jsonb(r.custom_args) OPERATOR(pg_catalog.->>) dimension,
                   pg_catalog.count(*) FILTER (WHERE a.processed), pg_catalog.count(*) FILTER (WHERE a.delivered),
                   pg_catalog.count(*) FILTER (WHERE a.bounced), pg_catalog.count(*) FILTER (WHERE a.blocked),
                   pg_catalog.count(*) FILTER (WHERE a.dropped), pg_catalog.count(*) FILTER (WHERE a.deferred),
                   pg_catalog.count(*) FILTER (WHERE a.spam_reported), pg_catalog.count(*) FILTER (WHERE a.opened_by_human),
                   pg_catalog.sum(a.machine_opens)::bigint, pg_catalog.sum(a.clicks)::bigint
              FROM mailstatus.recipient r, mailstatus.activity_days(r.activity) AS a
             WHERE dimension OPERATOR(pg_catalog.<>) 'category'
               AND (since IS NULL OR r.last_event_at OPERATOR(pg_catalog.>=) first_day::timestamp AT TIME ZONE 'UTC')
             GROUP BY 1, 2) AS c
     WHERE (since IS NULL OR c.day OPERATOR(pg_catalog.>=) first_day)
       AND (until IS NULL OR c.day::timestamp AT TIME ZONE 'UTC' OPERATOR(pg_catalog.<) until);
END $$;
-- Like the views, it reads the state with the owner's rights: whom to show the figures to
-- is granted on it (and on the deliverability_daily view, which calls it).
REVOKE ALL ON FUNCTION @extschema@.deliverability_daily_by(text, timestamptz, timestamptz) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.deliverability_daily_by(text, timestamptz, timestamptz) IS
    'Deliverability per UTC day and value of a dimension: ''category'' (a recipient counts under each of its categories) or the name of a custom arg (the recipient''s latest custom args); NULL for the whole day. Only the days of [since, until) when given';

CREATE VIEW @extschema@.deliverability_daily AS
SELECT d.day, d.sent, d.delivered, d.bounced, d.blocked, d.dropped, d.deferred, d.spam_reports,
       d.unique_human_opens, d.machine_opens, d.clicks, d.bounce_rate, d.spam_report_rate, d.delivery_rate
  FROM @extschema@.deliverability_daily_by(NULL) AS d;
COMMENT ON VIEW @extschema@.deliverability_daily IS
    'Per UTC day: recipients sent, delivered, bounced, blocked, dropped, deferred, spam reports, unique human opens, machine opens, clicks, and the bounce, spam-report and delivery rates';

-----------------------------------------------------------------------------
-- Maintenance: monthly partitions, retention, forgetting.  Owner only.
-----------------------------------------------------------------------------

CREATE FUNCTION @extschema@.ensure_event_default_partition()
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_partitioned_table p
                WHERE p.partrelid OPERATOR(pg_catalog.=) 'mailstatus.event'::regclass
                  AND p.partdefid OPERATOR(pg_catalog.<>) 0) THEN
        RETURN false;
    END IF;
    LOCK TABLE mailstatus.event IN SHARE ROW EXCLUSIVE MODE;
    IF EXISTS (SELECT FROM pg_catalog.pg_partitioned_table p
                WHERE p.partrelid OPERATOR(pg_catalog.=) 'mailstatus.event'::regclass
                  AND p.partdefid OPERATOR(pg_catalog.<>) 0) THEN
        RETURN false;
    END IF;
    CREATE TABLE mailstatus.event_default PARTITION OF mailstatus.event DEFAULT;
    PERFORM mailstatus.add_event_partition_indexes('mailstatus.event_default');
    RETURN true;
END $$;
COMMENT ON FUNCTION @extschema@.ensure_event_default_partition() IS
    'Makes mailstatus.event_default, the partition of events no monthly partition takes, unless the table has a default partition; ingest calls it so that no event ever lacks a partition';
REVOKE ALL ON FUNCTION @extschema@.ensure_event_default_partition() FROM PUBLIC;

-- Takes the locks maintenance needs, waiting at most lock_wait for each, three times at
-- most: a reader's long transaction makes maintenance give up, never holds ingest back for
-- longer than lock_wait. Ingest reads the retention window first and the event table
-- next; maintenance takes them in the same order. Making partitions also needs the default
-- partition exclusively (ATTACH checks it holds no rows of the new month): taken here too,
-- within the same wait, so that no lock is left to wait for without a limit.
CREATE FUNCTION @extschema@.lock_for_maintenance(lock_wait interval, event_mode text)
    RETURNS void
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    saved_lock_timeout text := pg_catalog.current_setting('lock_timeout');
BEGIN
    IF event_mode OPERATOR(pg_catalog.<>) ALL ('{SHARE ROW EXCLUSIVE,ACCESS EXCLUSIVE}'::text[]) THEN
        RAISE EXCEPTION 'unexpected lock mode %', event_mode;
    END IF;
    -- lock_timeout 0 would mean no limit at all.
    IF lock_wait OPERATOR(pg_catalog.<=) '0'::interval THEN
        RAISE EXCEPTION 'lock_wait must be positive, not %', lock_wait
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR attempt IN 1..3 LOOP
        BEGIN
            PERFORM pg_catalog.set_config('lock_timeout',
                GREATEST(1, pg_catalog.ceil(pg_catalog.date_part('epoch', lock_wait) OPERATOR(pg_catalog.*) 1000))::bigint::text, true);
            LOCK TABLE mailstatus.event_retention IN EXCLUSIVE MODE;
            EXECUTE pg_catalog.format('LOCK TABLE mailstatus.event IN %s MODE', event_mode);
            IF event_mode OPERATOR(pg_catalog.=) 'SHARE ROW EXCLUSIVE' THEN
                EXECUTE (SELECT pg_catalog.format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', p.partdefid::regclass)
                           FROM pg_catalog.pg_partitioned_table p
                          WHERE p.partrelid OPERATOR(pg_catalog.=) 'mailstatus.event'::regclass
                            AND p.partdefid OPERATOR(pg_catalog.<>) 0);
            END IF;
            PERFORM pg_catalog.set_config('lock_timeout', saved_lock_timeout, true);
            RETURN;
        EXCEPTION WHEN lock_not_available THEN
            PERFORM pg_catalog.set_config('lock_timeout', saved_lock_timeout, true);
            IF attempt OPERATOR(pg_catalog.<) 3 THEN
                PERFORM pg_catalog.pg_sleep(pg_catalog.date_part('epoch', lock_wait));
            END IF;
        END;
    END LOOP;
    RAISE EXCEPTION 'could not lock mailstatus.event for maintenance within % (three attempts)', lock_wait
          USING ERRCODE = 'lock_not_available',
                DETAIL = 'Another transaction holds a lock on the event table, or on one of its partitions; ingest was never held back longer than that.',
                HINT = 'Run it again later, or find the long transaction in pg_stat_activity.';
END $$;
COMMENT ON FUNCTION @extschema@.lock_for_maintenance(interval, text) IS
    'Locks the retention window and the event table for maintenance, waiting at most lock_wait at a time, or gives up with 55P03';
REVOKE ALL ON FUNCTION @extschema@.lock_for_maintenance(interval, text) FROM PUBLIC;

-- Months are UTC months (the functions below run in UTC, whatever the session's time zone).
CREATE FUNCTION @extschema@.missing_event_months(months_ahead integer)
    RETURNS TABLE (month_start timestamptz)
    LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp
    SET TimeZone = 'UTC' AS $$
DECLARE
    default_partition regclass := (SELECT p.partdefid::regclass FROM pg_catalog.pg_partitioned_table p
                                    WHERE p.partrelid OPERATOR(pg_catalog.=) 'mailstatus.event'::regclass
                                      AND p.partdefid OPERATOR(pg_catalog.<>) 0);
BEGIN
    RETURN QUERY EXECUTE pg_catalog.format(
            'SELECT c.m FROM (SELECT m FROM pg_catalog.generate_series($1, $2, ''1 month''::interval) AS m %s) AS c(m) '
            'WHERE pg_catalog.to_regclass(''mailstatus.'' OPERATOR(pg_catalog.||) '
            'pg_catalog.quote_ident(mailstatus.event_partition_name(c.m))) IS NULL ORDER BY 1',
            CASE WHEN default_partition IS NOT NULL THEN pg_catalog.format(
                'UNION SELECT pg_catalog.date_trunc(''month'', d.occurred_at, ''UTC'') FROM %s d', default_partition) END)
        USING pg_catalog.date_trunc('month', pg_catalog.now(), 'UTC'),
              pg_catalog.date_trunc('month', pg_catalog.now(), 'UTC') OPERATOR(pg_catalog.+) pg_catalog.make_interval(months => months_ahead);
END $$;
COMMENT ON FUNCTION @extschema@.missing_event_months(integer) IS
    'The UTC months create_event_partitions would make: from this month to months_ahead months ahead, and every month the default partition holds rows of, that have no partition yet';
REVOKE ALL ON FUNCTION @extschema@.missing_event_months(integer) FROM PUBLIC;

CREATE FUNCTION @extschema@.create_event_partitions(months_ahead integer DEFAULT 3, lock_wait interval DEFAULT '1 second')
    RETURNS integer
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    SET TimeZone = 'UTC' AS $$
DECLARE
    month_start timestamptz;
    partition_name text;
    default_partition regclass;
    created integer := 0;
    saved_replication_role text := pg_catalog.current_setting('session_replication_role');
BEGIN
    IF months_ahead < 0 OR months_ahead > 120 THEN
        RAISE EXCEPTION 'months_ahead must lie between 0 and 120, not %', months_ahead
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM mailstatus.ensure_event_default_partition();
    -- Nothing to make: no lock taken.
    IF NOT EXISTS (SELECT FROM mailstatus.missing_event_months(months_ahead)) THEN
        RETURN 0;
    END IF;
    -- Ingest waits while rows move out of the default partition.
    PERFORM mailstatus.lock_for_maintenance(lock_wait, 'SHARE ROW EXCLUSIVE');
    SELECT p.partdefid::regclass INTO default_partition
      FROM pg_catalog.pg_partitioned_table p WHERE p.partrelid OPERATOR(pg_catalog.=) 'mailstatus.event'::regclass;
    -- Moving rows is neither a new event nor a deleted one: the CRM's triggers do not fire.
    PERFORM pg_catalog.set_config('session_replication_role', 'replica', true);
    FOR month_start IN SELECT m.month_start FROM mailstatus.missing_event_months(months_ahead) AS m LOOP
        partition_name := mailstatus.event_partition_name(month_start);
        -- The month's rows leave the default partition first (a partition cannot be made over
        -- rows the default one holds for it), then come back through the table into the new
        -- partition: nothing is left behind where the table is distributed (Citus).
        CREATE TEMPORARY TABLE moved_events ON COMMIT DROP AS SELECT * FROM mailstatus.event WITH NO DATA;
        EXECUTE pg_catalog.format(
            'WITH moved AS (DELETE FROM %s WHERE occurred_at >= $1 AND occurred_at < $2 RETURNING *) '
            'INSERT INTO pg_temp.moved_events SELECT * FROM moved', default_partition)
            USING month_start, month_start OPERATOR(pg_catalog.+) '1 month'::interval;
        EXECUTE pg_catalog.format('CREATE TABLE mailstatus.%I (LIKE mailstatus.event INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)', partition_name);
        PERFORM mailstatus.add_event_partition_indexes(pg_catalog.format('mailstatus.%I', partition_name)::regclass);
        EXECUTE pg_catalog.format('ALTER TABLE mailstatus.event ATTACH PARTITION mailstatus.%I FOR VALUES FROM (%L) TO (%L)',
                                  partition_name, month_start, month_start OPERATOR(pg_catalog.+) '1 month'::interval);
        INSERT INTO mailstatus.event SELECT * FROM pg_temp.moved_events;
        DROP TABLE pg_temp.moved_events;
        created := created OPERATOR(pg_catalog.+) 1;
    END LOOP;
    PERFORM pg_catalog.set_config('session_replication_role', saved_replication_role, true);
    RETURN created;
END $$;
COMMENT ON FUNCTION @extschema@.create_event_partitions(integer, interval) IS
    'Makes the monthly partitions of mailstatus.event from this month to months_ahead months ahead, and for every month the default partition holds rows of (moving them); returns how many it made';
REVOKE ALL ON FUNCTION @extschema@.create_event_partitions(integer, interval) FROM PUBLIC;

CREATE FUNCTION @extschema@.drop_event_partitions(older_than timestamptz, lock_wait interval DEFAULT '1 second')
    RETURNS integer
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    SET TimeZone = 'UTC' AS $$
DECLARE
    boundary timestamptz := pg_catalog.date_trunc('month', older_than, 'UTC');
    old_partition record;
    dropped integer := 0;
BEGIN
    IF boundary OPERATOR(pg_catalog.>) pg_catalog.date_trunc('month', pg_catalog.now(), 'UTC') THEN
        RAISE EXCEPTION 'cannot drop the events of the current month or later'
              USING ERRCODE = 'invalid_parameter_value',
                    DETAIL = 'older_than must lie in a month before the current one.';
    END IF;
    -- From now on ingest rejects late events for the dropped months; the state keeps
    -- everything those events made (statuses, suppressions, deliverability).
    PERFORM mailstatus.lock_for_maintenance(lock_wait, 'ACCESS EXCLUSIVE');
    INSERT INTO mailstatus.event_retention AS r (retained_since) VALUES (boundary)
    ON CONFLICT (single_row) DO UPDATE SET retained_since = GREATEST(r.retained_since, excluded.retained_since);
    -- Monthly partitions (ours, pg_partman's or hand-made) whose upper bound, read from their
    -- bound expression "FOR VALUES FROM ('...') TO ('...')", is at most the boundary.
    FOR old_partition IN
        SELECT c.oid::regclass AS name
          FROM pg_catalog.pg_inherits i
          JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.inhrelid
         WHERE i.inhparent OPERATOR(pg_catalog.=) 'mailstatus.event'::regclass
           AND pg_catalog.pg_get_expr(c.relpartbound, c.oid) OPERATOR(pg_catalog.<>) 'DEFAULT'
           AND (pg_catalog.regexp_match(pg_catalog.pg_get_expr(c.relpartbound, c.oid),
                                        'TO \(''([^'']+)''\)'))[1]::timestamptz OPERATOR(pg_catalog.<=) boundary
         ORDER BY 1
    LOOP
        EXECUTE pg_catalog.format('DROP TABLE %s', old_partition.name);
        dropped := dropped OPERATOR(pg_catalog.+) 1;
    END LOOP;
    -- What is left before the boundary lies in the default partition (the others are pruned).
    DELETE FROM mailstatus.event WHERE occurred_at OPERATOR(pg_catalog.<) boundary;
    RETURN dropped;
END $$;
COMMENT ON FUNCTION @extschema@.drop_event_partitions(timestamptz, interval) IS
    'Retention: drops the monthly partitions of mailstatus.event wholly before the month of older_than (and such rows of the default partition), and makes ingest reject late events for them; statuses, suppressions and deliverability are kept; returns how many partitions it dropped';
REVOKE ALL ON FUNCTION @extschema@.drop_event_partitions(timestamptz, interval) FROM PUBLIC;

-- Forgetting state is the owner's explicit decision, apart from retention.
CREATE TABLE @extschema@.recipient_retention (
    single_row boolean PRIMARY KEY DEFAULT true CHECK (single_row),
    forgotten_before timestamptz NOT NULL
);
COMMENT ON TABLE @extschema@.recipient_retention IS
    'Recipients whose last event or send was before forgotten_before were forgotten (forget_recipients); the deliverability figures of those days still count them';
SELECT pg_catalog.pg_extension_config_dump('mailstatus.recipient_retention', '');

CREATE FUNCTION @extschema@.forget_recipients(last_event_before timestamptz)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    forgotten bigint;
BEGIN
    WITH gone AS (
        DELETE FROM mailstatus.recipient r
         WHERE r.last_event_at OPERATOR(pg_catalog.<) last_event_before
        RETURNING r.message_id, r.email, r.reached, r.reached_human
    ), sends AS (
        DELETE FROM mailstatus.send s USING gone g
         WHERE s.message_id OPERATOR(pg_catalog.=) g.message_id AND s.email OPERATOR(pg_catalog.=) g.email
    ), counted AS (
        UPDATE mailstatus.status_count c
           SET recipients = c.recipients OPERATOR(pg_catalog.-) n.recipients
          FROM (SELECT v.counted, v.status, pg_catalog.count(*) AS recipients
                  FROM gone g
                 CROSS JOIN LATERAL (VALUES (true, mailstatus.mail_status_reached_status(g.reached)),
                                            (false, mailstatus.mail_status_reached_status(g.reached_human))) AS v(counted, status)
                 GROUP BY 1, 2) AS n
         WHERE c.machine_opens_counted OPERATOR(pg_catalog.=) n.counted
           AND c.status::text IS NOT DISTINCT FROM n.status::text
    )
    SELECT pg_catalog.count(*) INTO forgotten FROM gone;
    INSERT INTO mailstatus.recipient_retention AS r (forgotten_before) VALUES (last_event_before)
    ON CONFLICT (single_row) DO UPDATE SET forgotten_before = GREATEST(r.forgotten_before, excluded.forgotten_before);
    DELETE FROM mailstatus.message_custom_args a
     WHERE NOT EXISTS (SELECT FROM mailstatus.recipient r WHERE r.message_id OPERATOR(pg_catalog.=) a.message_id);
    RETURN forgotten;
END $$;
COMMENT ON FUNCTION @extschema@.forget_recipients(timestamptz) IS
    'Forgets the recipients whose last event or send is older than last_event_before (their state, sends and custom args); deliverability figures and suppressions stay; returns how many';
REVOKE ALL ON FUNCTION @extschema@.forget_recipients(timestamptz) FROM PUBLIC;

CREATE FUNCTION @extschema@.forget_status_changes(older_than timestamptz)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    forgotten bigint;
BEGIN
    DELETE FROM mailstatus.status_change c WHERE c.changed_at OPERATOR(pg_catalog.<) older_than;
    GET DIAGNOSTICS forgotten = ROW_COUNT;
    RETURN forgotten;
END $$;
COMMENT ON FUNCTION @extschema@.forget_status_changes(timestamptz) IS
    'Deletes the status changes logged before older_than (workers have read them); returns how many';
REVOKE ALL ON FUNCTION @extschema@.forget_status_changes(timestamptz) FROM PUBLIC;

-----------------------------------------------------------------------------
-- The state, recomputed from the raw rows still kept.
-----------------------------------------------------------------------------

-- The raw-row definition of the state: the same partial-state functions over every event
-- and send still kept, per message (or per address). The owner's only: they read
-- everything.
CREATE VIEW @extschema@.recomputed_recipient AS
SELECT p.*
  FROM (SELECT COALESCE(e.message_id, s.message_id) AS message_id, e.events, s.sends
          FROM (SELECT COALESCE(v.attributed_message_id, v.message_id) AS message_id, pg_catalog.array_agg(v) AS events
                  FROM @extschema@.event v GROUP BY 1) AS e
          FULL JOIN (SELECT v.message_id, pg_catalog.array_agg(v) AS sends FROM @extschema@.send v GROUP BY v.message_id) AS s
            ON s.message_id OPERATOR(pg_catalog.=) e.message_id) AS m
 CROSS JOIN LATERAL @extschema@.recipient_partials(COALESCE(m.events, '{}'), COALESCE(m.sends, '{}')) AS p;
COMMENT ON VIEW @extschema@.recomputed_recipient IS
    'The recipient state recomputed from the events and sends still kept (recipient_partials over each message''s rows)';

CREATE VIEW @extschema@.recomputed_suppression_state AS
SELECT p.*
  FROM (SELECT v.email, pg_catalog.array_agg(v) AS events FROM @extschema@.event v GROUP BY v.email) AS e
 CROSS JOIN LATERAL @extschema@.suppression_partials(e.events) AS p;
COMMENT ON VIEW @extschema@.recomputed_suppression_state IS
    'The suppression state recomputed from the events still kept';

CREATE VIEW @extschema@.recomputed_group_suppression_state AS
SELECT p.*
  FROM (SELECT v.email, pg_catalog.array_agg(v) AS events FROM @extschema@.event v GROUP BY v.email) AS e
 CROSS JOIN LATERAL @extschema@.group_suppression_partials(e.events) AS p;
COMMENT ON VIEW @extschema@.recomputed_group_suppression_state IS
    'The group-suppression state recomputed from the events still kept';

CREATE VIEW @extschema@.recomputed_message_custom_args AS
SELECT DISTINCT a.message_id, pg_catalog.jsonb_hash_extended(a.custom_args, 0) AS args_hash, a.custom_args
  FROM (SELECT COALESCE(v.attributed_message_id, v.message_id) AS message_id, v.custom_args
          FROM @extschema@.event v WHERE v.custom_args IS NOT NULL
        UNION ALL
        SELECT v.message_id, v.custom_args FROM @extschema@.send v WHERE v.custom_args OPERATOR(pg_catalog.<>) '{}'::jsonb) AS a;
COMMENT ON VIEW @extschema@.recomputed_message_custom_args IS
    'The custom args of each message, recomputed from the events and sends still kept';

-- The counters are sums over the recipient state (all of it: retention drops no state).
CREATE VIEW @extschema@.recomputed_deliverability_day AS
SELECT a.day,
       pg_catalog.count(*) FILTER (WHERE a.processed) AS sent, pg_catalog.count(*) FILTER (WHERE a.delivered) AS delivered,
       pg_catalog.count(*) FILTER (WHERE a.bounced) AS bounced, pg_catalog.count(*) FILTER (WHERE a.blocked) AS blocked,
       pg_catalog.count(*) FILTER (WHERE a.dropped) AS dropped, pg_catalog.count(*) FILTER (WHERE a.deferred) AS deferred,
       pg_catalog.count(*) FILTER (WHERE a.spam_reported) AS spam_reports,
       pg_catalog.count(*) FILTER (WHERE a.opened_by_human) AS unique_human_opens,
       pg_catalog.sum(a.machine_opens)::bigint AS machine_opens, pg_catalog.sum(a.clicks)::bigint AS clicks
  FROM @extschema@.recipient r
 CROSS JOIN LATERAL @extschema@.activity_days(r.activity) AS a
 GROUP BY a.day;
COMMENT ON VIEW @extschema@.recomputed_deliverability_day IS
    'deliverability_day recomputed from the recipient state';

CREATE VIEW @extschema@.recomputed_deliverability_category_day AS
SELECT a.day, k.category,
       pg_catalog.count(*) FILTER (WHERE a.processed) AS sent, pg_catalog.count(*) FILTER (WHERE a.delivered) AS delivered,
       pg_catalog.count(*) FILTER (WHERE a.bounced) AS bounced, pg_catalog.count(*) FILTER (WHERE a.blocked) AS blocked,
       pg_catalog.count(*) FILTER (WHERE a.dropped) AS dropped, pg_catalog.count(*) FILTER (WHERE a.deferred) AS deferred,
       pg_catalog.count(*) FILTER (WHERE a.spam_reported) AS spam_reports,
       pg_catalog.count(*) FILTER (WHERE a.opened_by_human) AS unique_human_opens,
       pg_catalog.sum(a.machine_opens)::bigint AS machine_opens, pg_catalog.sum(a.clicks)::bigint AS clicks
  FROM @extschema@.recipient r
 CROSS JOIN LATERAL pg_catalog.unnest(COALESCE(r.categories, ARRAY[NULL::text])) AS k(category)
 CROSS JOIN LATERAL @extschema@.activity_days(r.activity) AS a
 GROUP BY a.day, k.category;
COMMENT ON VIEW @extschema@.recomputed_deliverability_category_day IS
    'deliverability_category_day recomputed from the recipient state';

CREATE VIEW @extschema@.recomputed_status_count AS
SELECT v.machine_opens_counted, v.status, pg_catalog.count(*) AS recipients
  FROM @extschema@.recipient r
 CROSS JOIN LATERAL (VALUES (true, @extschema@.mail_status_reached_status(r.reached)),
                            (false, @extschema@.mail_status_reached_status(r.reached_human))) AS v(machine_opens_counted, status)
 GROUP BY v.machine_opens_counted, v.status;
COMMENT ON VIEW @extschema@.recomputed_status_count IS
    'status_count recomputed from the recipient state';

-- Every state row that differs from its recomputation, with both versions as text: after
-- retries, permutations, concurrent batches and retention it lists none. What retention
-- dropped cannot be recomputed: rows with a time before the retention window are left
-- out, and so are the days and recipients forget_recipients forgot. The window starts at
-- drop_event_partitions' boundary or at the oldest monthly partition, whichever is later
-- (pg_partman's retention drops partitions without telling mailstatus).
CREATE FUNCTION @extschema@.state_differences()
    RETURNS TABLE (state text, key text, stored text, recomputed text)
    LANGUAGE plpgsql STABLE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    SET TimeZone = 'UTC' AS $$
DECLARE
    window_start timestamptz := GREATEST(
        COALESCE((SELECT r.retained_since FROM mailstatus.event_retention r), '-infinity'),
        COALESCE((SELECT pg_catalog.min((pg_catalog.regexp_match(pg_catalog.pg_get_expr(c.relpartbound, c.oid),
                                                                 'FROM \(''([^'']+)''\)'))[1]::timestamptz)
                    FROM pg_catalog.pg_inherits i
                    JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.inhrelid
                   WHERE i.inhparent OPERATOR(pg_catalog.=) 'mailstatus.event'::regclass
                     AND pg_catalog.pg_get_expr(c.relpartbound, c.oid) OPERATOR(pg_catalog.<>) 'DEFAULT'), '-infinity'));
    forgotten_before timestamptz := COALESCE((SELECT r.forgotten_before FROM mailstatus.recipient_retention r), '-infinity');
    first_full_day date := (forgotten_before AT TIME ZONE 'UTC')::date OPERATOR(pg_catalog.+) 1;
BEGIN
    RETURN QUERY
    SELECT 'recipient', COALESCE(s.message_id, c.message_id) OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) COALESCE(s.email, c.email),
           ROW(s.reached, s.reached_human, s.first_event_at, s.last_event_at, s.opens, s.machine_opens, s.clicks,
               s.reason, s.smtp_status, s.bounce_classification, s.custom_args, s.categories, s.activity)::text,
           ROW(c.reached, c.reached_human, c.first_event_at, c.last_event_at, c.opens, c.machine_opens, c.clicks,
               c.reason, c.smtp_status, c.bounce_classification, c.custom_args, c.categories, c.activity)::text
      FROM (SELECT * FROM mailstatus.recipient r WHERE r.first_event_at OPERATOR(pg_catalog.>=) window_start) AS s
      FULL JOIN (SELECT * FROM mailstatus.recomputed_recipient r
                  WHERE r.first_event_at OPERATOR(pg_catalog.>=) window_start
                    AND r.last_event_at OPERATOR(pg_catalog.>=) forgotten_before) AS c
        ON c.message_id OPERATOR(pg_catalog.=) s.message_id AND c.email OPERATOR(pg_catalog.=) s.email
     WHERE ROW(s.reached, s.reached_human, s.first_event_at, s.last_event_at, s.opens, s.machine_opens, s.clicks,
               s.reason::text, s.smtp_status::text, s.bounce_classification::text, s.custom_args::text,
               s.categories, s.activity::text)
           IS DISTINCT FROM
           ROW(c.reached, c.reached_human, c.first_event_at, c.last_event_at, c.opens, c.machine_opens, c.clicks,
               c.reason::text, c.smtp_status::text, c.bounce_classification::text, c.custom_args::text,
               c.categories, c.activity::text);

    RETURN QUERY
    SELECT 'suppression_state', COALESCE(s.email, c.email),
           ROW(s.decision, s.failure, s.delivered_at)::text,
           ROW(c.decision, c.failure, c.delivered_at)::text
      -- Every stored row, flagged in or out of the window (Citus plans no correlated
      -- subquery here): a recomputed row whose stored row lies before the window is skipped.
      FROM (SELECT t.*,
                   COALESCE(mailstatus.timed_value_at(t.decision), 'infinity') OPERATOR(pg_catalog.>=) window_start
               AND COALESCE(mailstatus.timed_value_at(t.failure), 'infinity') OPERATOR(pg_catalog.>=) window_start
               AND COALESCE(t.delivered_at, 'infinity') OPERATOR(pg_catalog.>=) window_start AS in_window
              FROM mailstatus.suppression_state t) AS s
      FULL JOIN mailstatus.recomputed_suppression_state c ON c.email OPERATOR(pg_catalog.=) s.email
     WHERE COALESCE(s.in_window, true)
       AND ROW(s.decision::text, s.failure::text, s.delivered_at)
           IS DISTINCT FROM ROW(c.decision::text, c.failure::text, c.delivered_at);

    RETURN QUERY
    SELECT 'group_suppression_state', COALESCE(s.email, c.email) OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) COALESCE(s.asm_group_id, c.asm_group_id),
           ROW(s.unsubscribe, s.resubscribed_at)::text,
           ROW(c.unsubscribe, c.resubscribed_at)::text
      FROM (SELECT t.*,
                   COALESCE(mailstatus.timed_value_at(t.unsubscribe), 'infinity') OPERATOR(pg_catalog.>=) window_start
               AND COALESCE(t.resubscribed_at, 'infinity') OPERATOR(pg_catalog.>=) window_start AS in_window
              FROM mailstatus.group_suppression_state t) AS s
      FULL JOIN mailstatus.recomputed_group_suppression_state c
        ON c.email OPERATOR(pg_catalog.=) s.email AND c.asm_group_id OPERATOR(pg_catalog.=) s.asm_group_id
     WHERE COALESCE(s.in_window, true)
       AND ROW(s.unsubscribe::text, s.resubscribed_at) IS DISTINCT FROM ROW(c.unsubscribe::text, c.resubscribed_at);

    RETURN QUERY
    SELECT 'message_custom_args', c.message_id OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) c.custom_args::text, NULL::text, 'missing'
      FROM mailstatus.recomputed_message_custom_args c
      LEFT JOIN mailstatus.message_custom_args a
        ON a.message_id OPERATOR(pg_catalog.=) c.message_id AND a.args_hash OPERATOR(pg_catalog.=) c.args_hash
     WHERE a.message_id IS NULL
       -- forget_recipients forgets a message's custom args with its last recipient
       AND c.message_id IN (SELECT r.message_id FROM mailstatus.recipient r);

    RETURN QUERY
    SELECT 'deliverability_day', COALESCE(s.day, c.day)::text, ROW(s.*)::text, ROW(c.*)::text
      FROM mailstatus.deliverability_day s
      FULL JOIN mailstatus.recomputed_deliverability_day c ON c.day OPERATOR(pg_catalog.=) s.day
     WHERE ROW(s.*) IS DISTINCT FROM ROW(c.*)
       AND COALESCE(s.day, c.day) OPERATOR(pg_catalog.>=) first_full_day;

    RETURN QUERY
    SELECT 'deliverability_category_day', COALESCE(s.day, c.day)::text OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) COALESCE(s.category, c.category, '(none)'),
           ROW(s.*)::text, ROW(c.*)::text
      FROM (SELECT * FROM mailstatus.deliverability_category_day d
             WHERE (d.sent, d.delivered, d.bounced, d.blocked, d.dropped, d.deferred, d.spam_reports,
                    d.unique_human_opens, d.machine_opens, d.clicks) IS DISTINCT FROM (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)) AS s
      FULL JOIN mailstatus.recomputed_deliverability_category_day c
        ON c.day OPERATOR(pg_catalog.=) s.day AND c.category IS NOT DISTINCT FROM s.category
     WHERE ROW(s.*) IS DISTINCT FROM ROW(c.*)
       AND COALESCE(s.day, c.day) OPERATOR(pg_catalog.>=) first_full_day;

    RETURN QUERY
    SELECT 'status_count', COALESCE(s.machine_opens_counted, c.machine_opens_counted)::text OPERATOR(pg_catalog.||) ' '
                          OPERATOR(pg_catalog.||) COALESCE(s.status::text, c.status::text, '(none)'),
           s.recipients::text, c.recipients::text
      FROM (SELECT * FROM mailstatus.status_count t WHERE t.recipients OPERATOR(pg_catalog.<>) 0) AS s
      FULL JOIN mailstatus.recomputed_status_count c
        ON c.machine_opens_counted OPERATOR(pg_catalog.=) s.machine_opens_counted AND c.status::text IS NOT DISTINCT FROM s.status::text
     WHERE s.recipients IS DISTINCT FROM c.recipients;
END $$;
COMMENT ON FUNCTION @extschema@.state_differences() IS
    'Each state row that differs from its recomputation over the raw rows still kept (both as text); none when the state is right';
REVOKE ALL ON FUNCTION @extschema@.state_differences() FROM PUBLIC;

-----------------------------------------------------------------------------
-- Scale-out on Citus.
-----------------------------------------------------------------------------

-- Where each table goes on a Citus cluster: one message's events, sends, state and custom
-- args on one node (distributed by message_id, co-located), so ingest's merge is routed
-- per message and the status views run on the workers; an address's suppression state on
-- one node (by email), so is_suppressed is one task; the small tables everywhere; the
-- counters and the status-change log on the coordinator, where ingest runs.
CREATE VIEW @extschema@.citus_layout AS
SELECT l.step, l.table_name, l.placement, l.distribution_column, l.colocate_with
  FROM (VALUES
        (1, 'mailstatus.event'::regclass, 'distributed', 'message_id'::name, NULL::regclass),
        (2, 'mailstatus.send'::regclass, 'distributed', 'message_id'::name, 'mailstatus.event'::regclass),
        (3, 'mailstatus.recipient'::regclass, 'distributed', 'message_id'::name, 'mailstatus.event'::regclass),
        (4, 'mailstatus.message_custom_args'::regclass, 'distributed', 'message_id'::name, 'mailstatus.event'::regclass),
        (5, 'mailstatus.suppression_state'::regclass, 'distributed', 'email'::name, NULL::regclass),
        (6, 'mailstatus.group_suppression_state'::regclass, 'distributed', 'email'::name, 'mailstatus.suppression_state'::regclass),
        (7, 'mailstatus.rejected_event'::regclass, 'reference', NULL::name, NULL::regclass),
        (8, 'mailstatus.webhook_key'::regclass, 'reference', NULL::name, NULL::regclass),
        (9, 'mailstatus.event_retention'::regclass, 'reference', NULL::name, NULL::regclass),
        (10, 'mailstatus.deliverability_day'::regclass, 'coordinator', NULL::name, NULL::regclass),
        (11, 'mailstatus.deliverability_category_day'::regclass, 'coordinator', NULL::name, NULL::regclass),
        (12, 'mailstatus.status_count'::regclass, 'coordinator', NULL::name, NULL::regclass),
        (13, 'mailstatus.status_change'::regclass, 'coordinator', NULL::name, NULL::regclass),
        (14, 'mailstatus.recipient_retention'::regclass, 'reference', NULL::name, NULL::regclass))
       AS l(step, table_name, placement, distribution_column, colocate_with);
COMMENT ON VIEW @extschema@.citus_layout IS
    'How to place each mailstatus table on Citus, in order: distributed (by message_id and co-located, or by email), a reference table, or left on the coordinator';
