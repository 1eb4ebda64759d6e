
-----------------------------------------------------------------------------
-- Deprecated names: what 0.4.0 removed without a word to the code that called it, back for
-- one version (0.5.0) as stand-ins over what replaced it; removed again in 0.6.0.
-----------------------------------------------------------------------------

-- 0.2.0 to 0.3.0 kept recipient_status in this table once track_status(true) was called;
-- since 0.4.0 the recipient state is always kept and recipient_status reads it.
CREATE VIEW @extschema@.recipient_status_current AS
SELECT r.message_id, r.email, r.status, r.status_label, r.status_at, r.first_event_at, r.last_event_at,
       r.opens, r.machine_opens, r.clicks, r.reason, r.smtp_status, r.bounce_classification, r.custom_args
  FROM @extschema@.recipient_status r;
COMMENT ON VIEW @extschema@.recipient_status_current IS
    'DEPRECATED, removed in 0.6.0: read recipient_status, which it is (the table of 0.2.0 to 0.3.0, kept since 0.4.0 as the recipient state)';

CREATE FUNCTION @extschema@.track_status(enabled boolean)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT enabled THEN
        RAISE WARNING 'mailstatus.track_status is deprecated and changes nothing: status tracking cannot be turned off'
              USING ERRCODE = '01P01',  -- deprecated_feature
                    DETAIL = 'Since 0.4.0 every change of status is logged in mailstatus.status_change and notified on mailstatus_status_changed.',
                    HINT = 'Remove the call; it is gone in 0.6.0.';
        RETURN 0;
    END IF;
    RAISE WARNING 'mailstatus.track_status is deprecated and changes nothing: status tracking is always on'
          USING ERRCODE = '01P01',  -- deprecated_feature
                DETAIL = 'Since 0.4.0 recipient_status is kept at ingest (recipient_status_current is recipient_status) and every change of status is logged in mailstatus.status_change and notified on mailstatus_status_changed.',
                HINT = 'Remove the call; it is gone in 0.6.0.';
    -- What it returned: the recipients whose status is tracked.
    RETURN (SELECT COALESCE(pg_catalog.sum(c.recipients), 0)::bigint FROM mailstatus.recipient_count_by_status c
             WHERE NOT c.machine_opens_counted);
END $$;
COMMENT ON FUNCTION @extschema@.track_status(boolean) IS
    'DEPRECATED, removed in 0.6.0: changes nothing (status tracking is always on since 0.4.0) and says so in a WARNING; returns the number of recipients tracked (0 for false)';
REVOKE ALL ON FUNCTION @extschema@.track_status(boolean) FROM PUBLIC;

-- add_event_partition_primary_key's name until 0.4.0 (it adds no index but the key): the
-- pg_partman recipe users ran calls it.
CREATE FUNCTION @extschema@.add_event_partition_indexes(partition regclass)
    RETURNS void
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM mailstatus.add_event_partition_primary_key(add_event_partition_indexes.partition);
END $$;
COMMENT ON FUNCTION @extschema@.add_event_partition_indexes(regclass) IS
    'Deprecated (removed in 0.6.0): add_event_partition_primary_key, under its name of 0.4.0';
REVOKE ALL ON FUNCTION @extschema@.add_event_partition_indexes(regclass) FROM PUBLIC;

-- The packed (status, time) state's names until 0.4.0, where "reached_at" named both the user's
-- aggregate (a time) and the state the state tables keep: since 0.5.0 the state's are
-- status_reached_*. Executable by PUBLIC, as they were.
CREATE FUNCTION @extschema@.mail_status_reached_at_transfn(bigint, @extschema@.mail_status, timestamptz)
    RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN @extschema@.status_reached_transfn($1, $2, $3);
COMMENT ON FUNCTION @extschema@.mail_status_reached_at_transfn(bigint, @extschema@.mail_status, timestamptz) IS
    'Deprecated (removed in 0.6.0): status_reached_transfn, under its name of 0.4.0';
CREATE FUNCTION @extschema@.mail_status_reached_at_combine(bigint, bigint)
    RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN @extschema@.status_reached_combine($1, $2);
COMMENT ON FUNCTION @extschema@.mail_status_reached_at_combine(bigint, bigint) IS
    'Deprecated (removed in 0.6.0): status_reached_combine, under its name of 0.4.0';
CREATE FUNCTION @extschema@.mail_status_reached_status(bigint)
    RETURNS @extschema@.mail_status
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN @extschema@.status_reached_status($1);
COMMENT ON FUNCTION @extschema@.mail_status_reached_status(bigint) IS
    'Deprecated (removed in 0.6.0): status_reached_status, under its name of 0.4.0';
CREATE AGGREGATE @extschema@.mail_status_reached_state(@extschema@.mail_status, timestamptz) (
    SFUNC = @extschema@.status_reached_transfn,
    STYPE = bigint,
    INITCOND = '0',
    COMBINEFUNC = @extschema@.status_reached_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.mail_status_reached_state(@extschema@.mail_status, timestamptz) IS
    'Deprecated (removed in 0.6.0): status_reached_state, under its name of 0.4.0';
