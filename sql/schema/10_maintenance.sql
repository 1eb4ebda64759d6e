-- Maintenance: monthly partitions, retention, forgetting.  Owner only.
-----------------------------------------------------------------------------

-- Takes the retention window before the event table, the order of ingest and maintenance
-- (lock_for_maintenance): ingest has read it FOR SHARE and maintenance locked it already, so
-- for them it takes nothing new; any other caller takes it here, never after the event table.
CREATE FUNCTION @extschema@.ensure_event_default_partition()
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_partitioned_table p
                WHERE p.partrelid OPERATOR(pg_catalog.=) 'mailstatus.event'::regclass
                  AND p.partdefid OPERATOR(pg_catalog.<>) 0) THEN
        RETURN false;
    END IF;
    LOCK TABLE mailstatus.event_retention IN ROW SHARE MODE;
    LOCK TABLE mailstatus.event IN SHARE ROW EXCLUSIVE MODE;
    IF EXISTS (SELECT FROM pg_catalog.pg_partitioned_table p
                WHERE p.partrelid OPERATOR(pg_catalog.=) 'mailstatus.event'::regclass
                  AND p.partdefid OPERATOR(pg_catalog.<>) 0) THEN
        RETURN false;
    END IF;
    CREATE TABLE mailstatus.event_default PARTITION OF mailstatus.event DEFAULT;
    PERFORM mailstatus.add_event_partition_primary_key('mailstatus.event_default');
    RETURN true;
END $$;
COMMENT ON FUNCTION @extschema@.ensure_event_default_partition() IS
    'Makes mailstatus.event_default, the partition of events no monthly partition takes, unless the table has a default partition; ingest calls it so that no event ever lacks a partition';
REVOKE ALL ON FUNCTION @extschema@.ensure_event_default_partition() FROM PUBLIC;

-- Takes the locks maintenance needs, waiting at most lock_wait for each, three times at
-- most: a reader's long transaction makes maintenance give up, never holds ingest back for
-- longer than lock_wait. A flush takes the flush lock, then reads the retention window,
-- then writes the event table; ingest reads the window first and the event table next;
-- maintenance takes them in the same order (landing posts wait for none of them). Making partitions also needs the default
-- partition exclusively (ATTACH checks it holds no rows of the new month): taken here too,
-- within the same wait, so that no lock is left to wait for without a limit; or, when the
-- table has no default partition yet, the table exclusively, which making one needs.
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
            PERFORM pg_catalog.pg_advisory_xact_lock(mailstatus.flush_lock_key(), 0);
            LOCK TABLE mailstatus.event_retention IN EXCLUSIVE MODE;
            EXECUTE pg_catalog.format('LOCK TABLE mailstatus.event IN %s MODE', event_mode);
            IF event_mode OPERATOR(pg_catalog.=) 'SHARE ROW EXCLUSIVE' THEN
                -- Read under the table's lock: nobody makes the default partition meanwhile.
                EXECUTE COALESCE((SELECT pg_catalog.format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', p.partdefid::regclass)
                                    FROM pg_catalog.pg_partitioned_table p
                                   WHERE p.partrelid OPERATOR(pg_catalog.=) 'mailstatus.event'::regclass
                                     AND p.partdefid OPERATOR(pg_catalog.<>) 0),
                                 'LOCK TABLE mailstatus.event IN ACCESS EXCLUSIVE MODE');
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
    'Locks out flushes, then locks the retention window and the event table for maintenance, waiting at most lock_wait at a time, or gives up with 55P03';
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
    -- Nothing to make: no lock taken.
    IF EXISTS (SELECT FROM pg_catalog.pg_partitioned_table p
                WHERE p.partrelid OPERATOR(pg_catalog.=) 'mailstatus.event'::regclass
                  AND p.partdefid OPERATOR(pg_catalog.<>) 0)
       AND NOT EXISTS (SELECT FROM mailstatus.missing_event_months(months_ahead)) THEN
        RETURN 0;
    END IF;
    -- Ingest waits while rows move out of the default partition. The default partition is
    -- made under these locks, in their order: made first, it locked the event table before
    -- the retention window, which a first post holds while it waits for the event table.
    PERFORM mailstatus.lock_for_maintenance(lock_wait, 'SHARE ROW EXCLUSIVE');
    PERFORM mailstatus.ensure_event_default_partition();
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
        PERFORM mailstatus.add_event_partition_primary_key(pg_catalog.format('mailstatus.%I', partition_name)::regclass);
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
    -- What landed before now is merged first, as if it had been posted directly: retention
    -- forgets no event that arrived before it (landing mode).
    PERFORM mailstatus.flush_landed();
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
    -- Ingest and record_send read the cut-off FOR SHARE and judge late events by it: taken
    -- first, it waits for the direct posts under way and holds new ones until the recipients
    -- and the cut-off change together.
    LOCK TABLE mailstatus.recipient_retention IN EXCLUSIVE MODE;
    -- The recipients as they stand, with what has landed on this node (landing mode): a
    -- landing post reads the cut-off without a lock but holds landed_event from before, so
    -- this waits for the posts under way, and holds new ones, until the forget is done.
    LOCK TABLE mailstatus.landed_event IN SHARE MODE;
    PERFORM pg_catalog.pg_advisory_xact_lock(mailstatus.flush_lock_key(), 0);
    PERFORM mailstatus.flush_landed();
    WITH gone AS (
        DELETE FROM mailstatus.recipient r
         WHERE r.last_event_at OPERATOR(pg_catalog.<) last_event_before
        RETURNING r.message_id, r.email, r.reached, r.reached_human
    ), sends AS (
        DELETE FROM mailstatus.send s USING gone g
         WHERE s.message_id OPERATOR(pg_catalog.=) g.message_id AND s.email OPERATOR(pg_catalog.=) g.email
    ), args AS (
        DELETE FROM mailstatus.recipient_custom_args a USING gone g
         WHERE a.message_id OPERATOR(pg_catalog.=) g.message_id AND a.email OPERATOR(pg_catalog.=) g.email
    ), counted AS (
        UPDATE mailstatus.recipient_count_by_status c
           SET recipients = c.recipients OPERATOR(pg_catalog.-) n.recipients
          FROM (SELECT v.counted, v.status, pg_catalog.count(*) AS recipients
                  FROM gone g
                 CROSS JOIN LATERAL (VALUES (true, mailstatus.status_reached_status(g.reached)),
                                            (false, mailstatus.status_reached_status(g.reached_human))) AS v(counted, status)
                 GROUP BY 1, 2) AS n
         WHERE c.machine_opens_counted OPERATOR(pg_catalog.=) n.counted
           AND c.status::text IS NOT DISTINCT FROM n.status::text
    )
    SELECT pg_catalog.count(*) INTO forgotten FROM gone;
    INSERT INTO mailstatus.recipient_retention AS r (forgotten_before) VALUES (last_event_before)
    ON CONFLICT (single_row) DO UPDATE SET forgotten_before = GREATEST(r.forgotten_before, excluded.forgotten_before);
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
