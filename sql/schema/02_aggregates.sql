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

-- The state of mail_status_reached_at: the status and when it was first reached, packed in a bigint
-- (status_reached_state); the state tables keep it, status_reached_status and
-- mail_status_reached_at_final read it.
CREATE FUNCTION @extschema@.status_reached_transfn(bigint, @extschema@.mail_status, timestamptz) RETURNS bigint
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.status_reached_combine(bigint, bigint) RETURNS bigint
    AS 'int8larger' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.mail_status_reached_at_final(bigint) RETURNS timestamptz
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.status_reached_status(bigint) RETURNS @extschema@.mail_status
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.status_reached_transfn(bigint, @extschema@.mail_status, timestamptz) IS
    'status_reached_state and mail_status_reached_at transition: keeps the highest status and the earliest time it was seen, packed in a bigint';
COMMENT ON FUNCTION @extschema@.status_reached_combine(bigint, bigint) IS
    'status_reached_state and mail_status_reached_at combine: the larger packed state';
COMMENT ON FUNCTION @extschema@.mail_status_reached_at_final(bigint) IS
    'mail_status_reached_at final: the time unpacked from the state';
COMMENT ON FUNCTION @extschema@.status_reached_status(bigint) IS
    'The status a status_reached_state holds: what mail_status_agg gives for the same rows';

CREATE AGGREGATE @extschema@.mail_status_reached_at(@extschema@.mail_status, timestamptz) (
    SFUNC = @extschema@.status_reached_transfn,
    STYPE = bigint,
    INITCOND = '0',
    COMBINEFUNC = @extschema@.status_reached_combine,
    FINALFUNC = @extschema@.mail_status_reached_at_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.mail_status_reached_at(@extschema@.mail_status, timestamptz) IS
    'When the status that mail_status_agg returns was first reached; order-independent, rows with a NULL ignored';

CREATE AGGREGATE @extschema@.status_reached_state(@extschema@.mail_status, timestamptz) (
    SFUNC = @extschema@.status_reached_transfn,
    STYPE = bigint,
    INITCOND = '0',
    COMBINEFUNC = @extschema@.status_reached_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.status_reached_state(@extschema@.mail_status, timestamptz) IS
    'The partial state of mail_status_reached_at (and of mail_status_agg): the highest status and when it was first reached, packed; merged by status_reached_combine';

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
-- The merge's bookkeeping, not part of the aggregates: the owner's.
REVOKE ALL ON FUNCTION @extschema@.category_set_added(text[], text[]) FROM PUBLIC;
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
    'A recipient''s deliverability events per UTC day: processed (SendGrid''s processed or the CRM''s send), delivered, bounced, blocked, dropped, deferred, spam_reported and opened_by_human once per day, machine opens and clicks counted';
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
-- The merge's bookkeeping, not part of the aggregates: the owner's.
REVOKE ALL ON FUNCTION @extschema@.activity_added(@extschema@.activity, @extschema@.activity) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.activity_subtract(@extschema@.activity, @extschema@.activity) FROM PUBLIC;
CREATE AGGREGATE @extschema@.activity_state(event text, bounce_type text, machine_open boolean, at timestamptz) (
    SFUNC = @extschema@.activity_add,
    STYPE = @extschema@.activity,
    COMBINEFUNC = @extschema@.activity_merge,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.activity_state(text, text, boolean, timestamptz) IS
    'The activity of a recipient''s events: per UTC day, which deliverability events it had, and how many machine opens and clicks';

-----------------------------------------------------------------------------
