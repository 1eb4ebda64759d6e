-- Raw events: one row per distinct event, partitioned by month of occurred_at.
-----------------------------------------------------------------------------

-- Each posted field is stored once: in its typed column when the column gives it back
-- exactly, else as posted in residual; the CRM's own keys in custom_args.  The fixed-width
-- columns come first (no alignment padding).  Partitions are made at run time, never by
-- this script, with their primary key (add_event_partition_primary_key): they are the user's
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

CREATE FUNCTION @extschema@.add_event_partition_primary_key(partition regclass)
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
COMMENT ON FUNCTION @extschema@.add_event_partition_primary_key(regclass) IS
    'Gives a partition of mailstatus.event (or a table to become one) its primary key (message_id, occurred_at, content_hash)';
REVOKE ALL ON FUNCTION @extschema@.add_event_partition_primary_key(regclass) FROM PUBLIC;

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

-- Where the events kept start: drop_event_partitions' boundary or the oldest monthly
-- partition, whichever is later (pg_partman's retention drops partitions without telling
-- mailstatus); -infinity while every event is kept.
CREATE FUNCTION @extschema@.events_kept_since()
    RETURNS timestamptz
    LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN GREATEST(
        COALESCE((SELECT r.retained_since FROM mailstatus.event_retention r), '-infinity'),
        COALESCE((SELECT pg_catalog.min((pg_catalog.regexp_match(pg_catalog.pg_get_expr(c.relpartbound, c.oid),
                                                                 'FROM \(''([^'']+)''\)'))[1]::timestamptz)
                    FROM pg_catalog.pg_inherits i
                    JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.inhrelid
                   WHERE i.inhparent OPERATOR(pg_catalog.=) 'mailstatus.event'::regclass
                     AND pg_catalog.pg_get_expr(c.relpartbound, c.oid) OPERATOR(pg_catalog.<>) 'DEFAULT'), '-infinity'));
END $$;
COMMENT ON FUNCTION @extschema@.events_kept_since() IS
    'The time from which raw events are kept: drop_event_partitions'' boundary or the oldest monthly partition, whichever is later; -infinity when every event is kept';
REVOKE ALL ON FUNCTION @extschema@.events_kept_since() FROM PUBLIC;

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
    custom_args_hash bigint NOT NULL,
    -- Every distinct send is kept, as every distinct event is: the state merges them all, so
    -- two sends of one recipient give the same state in either order.
    CONSTRAINT send_pkey PRIMARY KEY (message_id, email, sent_at, custom_args_hash)
);
-- An async bounce names no message: it is attributed to the address's latest send.
CREATE INDEX send_email_sent_at_idx ON @extschema@.send (email, sent_at);
COMMENT ON TABLE @extschema@.send IS
    'Recipients the CRM handed to SendGrid (record_send): they show as sent before any event arrives';
COMMENT ON COLUMN @extschema@.send.custom_args_hash IS
    'jsonb_hash_extended(custom_args, 0): with the message, address and time, what tells sends apart (the same send recorded again is kept once)';
SELECT pg_catalog.pg_extension_config_dump('mailstatus.send', '');

-----------------------------------------------------------------------------
