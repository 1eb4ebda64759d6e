-----------------------------------------------------------------------------
-- Landing mode: a post lands on the node that receives it; a flush merges per interval.
-----------------------------------------------------------------------------

-- With mailstatus.ingest_mode = landing, ingest stores each post's events here, and its
-- rejected elements in landed_reject: tables local to the node (never distributed on
-- Citus), durable, only ever appended to by posts, deduplicated within themselves by the
-- keys of event and rejected_event. A flush (flush(), or the post that finds the landing
-- due: flush_when_due) moves what has landed into event and rejected_event and merges the
-- events that were new into the state, one statement per table for every post of the
-- interval: on Citus, the distributed work of a flush is paid per interval, not per post.
CREATE TABLE @extschema@.landed_event (
    LIKE @extschema@.event INCLUDING DEFAULTS,
    CONSTRAINT landed_event_pkey PRIMARY KEY (message_id, occurred_at, content_hash)
);
COMMENT ON TABLE @extschema@.landed_event IS
    'Events posted in landing mode and not flushed yet: rows of mailstatus.event, each once, on the node that received them; flush() moves them into mailstatus.event';
SELECT pg_catalog.pg_extension_config_dump('mailstatus.landed_event', '');

CREATE TABLE @extschema@.landed_reject (
    element_key text COLLATE "C" NOT NULL,
    received_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    reason text NOT NULL,
    element jsonb NOT NULL,
    CONSTRAINT landed_reject_pkey PRIMARY KEY (element_key)
);
COMMENT ON TABLE @extschema@.landed_reject IS
    'Elements posted in landing mode that cannot be stored, not flushed yet: rows of mailstatus.rejected_event, each once; flush() moves them there';
SELECT pg_catalog.pg_extension_config_dump('mailstatus.landed_reject', '');

-- When this node last flushed: a post flushes when it finds the last flush
-- mailstatus.flush_interval old. No row: never flushed.
CREATE TABLE @extschema@.landing_flush (
    single_row boolean PRIMARY KEY DEFAULT true CHECK (single_row),
    flushed_at timestamptz NOT NULL
);
COMMENT ON TABLE @extschema@.landing_flush IS
    'When this node last flushed its landed events (flush)';

-- One flush at a time on a node: every flush, and maintenance that must see what has
-- landed, holds this transaction-level advisory lock (keyed by landing_flush's OID).
CREATE FUNCTION @extschema@.flush_lock_key()
    RETURNS integer
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN 'mailstatus.landing_flush'::pg_catalog.regclass::pg_catalog.oid::integer;
COMMENT ON FUNCTION @extschema@.flush_lock_key() IS
    'The first key of the advisory lock a flush holds (the second is 0): one flush at a time';
REVOKE ALL ON FUNCTION @extschema@.flush_lock_key() FROM PUBLIC;

-- Each statement that writes the moved rows to a Citus table runs in a function of its own,
-- with those rows as its only variable: Citus writes out every variable of the calling
-- PL/pgSQL function as text whenever a statement runs a task on the coordinator itself.
CREATE FUNCTION @extschema@.store_landed_events()
    RETURNS TABLE (new_message_id text, new_occurred_at timestamptz, new_content_hash bigint)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    -- From the session's table of moved rows (pg_temp.mailstatus_flushing), in key order, as
    -- ingest sends them; only the keys of the new ones come back (on Citus, in binary). Not
    -- from an array: Citus would copy an array value with the query at every planning step.
    RETURN QUERY
    INSERT INTO mailstatus.event AS e
    SELECT v.* FROM pg_temp.mailstatus_flushing AS v ORDER BY v.message_id, v.email, v.occurred_at, v.content_hash
    ON CONFLICT DO NOTHING RETURNING e.message_id, e.occurred_at, e.content_hash;
END $$;
COMMENT ON FUNCTION @extschema@.store_landed_events() IS
    'Stores the events a flush moved (pg_temp.mailstatus_flushing) in mailstatus.event (once: ON CONFLICT DO NOTHING); returns the keys of the new ones';
REVOKE ALL ON FUNCTION @extschema@.store_landed_events() FROM PUBLIC;

CREATE FUNCTION @extschema@.store_landed_rejects(rejects @extschema@.landed_reject[])
    RETURNS void
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO mailstatus.rejected_event (element_key, received_at, reason, element)
    SELECT r.element_key, r.received_at, r.reason, r.element FROM pg_catalog.unnest(rejects) AS r ORDER BY 1
    ON CONFLICT ON CONSTRAINT rejected_event_element_key DO NOTHING;
END $$;
COMMENT ON FUNCTION @extschema@.store_landed_rejects(@extschema@.landed_reject[]) IS
    'Stores flushed rejected elements in mailstatus.rejected_event, once each';
REVOKE ALL ON FUNCTION @extschema@.store_landed_rejects(@extschema@.landed_reject[]) FROM PUBLIC;

-- The flush itself, for a caller holding the flush lock. The retention window is read
-- FOR SHARE as a direct post reads it, so drop_event_partitions waits for the flush; an
-- event landed before the window moved but flushed after it is rejected with the reason
-- ingest gives (its month is gone). On Citus, one connection per worker runs every task of
-- a flush (a background job, not a query to answer fast): the fewest connections to open,
-- keep and commit in two phases; the setting means nothing without Citus.
CREATE FUNCTION @extschema@.flush_landed(OUT flushed bigint, OUT stored bigint, OUT duplicates bigint, OUT rejected bigint)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
    SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD' SET citus.max_adaptive_executor_pool_size = 1 AS $$
DECLARE
    window_start timestamptz;
    moved mailstatus.event[];
    rejects mailstatus.landed_reject[];
BEGIN
    SELECT r.retained_since INTO window_start FROM mailstatus.event_retention r FOR SHARE;
    -- The moved rows wait in a table of the session, emptied by every flush.
    IF pg_catalog.to_regclass('pg_temp.mailstatus_flushing') IS NULL THEN
        CREATE TEMPORARY TABLE mailstatus_flushing (LIKE mailstatus.event);
    ELSE
        TRUNCATE pg_temp.mailstatus_flushing;
    END IF;
    WITH m AS (DELETE FROM mailstatus.landed_event l RETURNING l.*)
    INSERT INTO pg_temp.mailstatus_flushing SELECT * FROM m;
    WITH m AS (DELETE FROM mailstatus.landed_reject l RETURNING l.*)
    SELECT pg_catalog.array_agg(ROW(m.*)::mailstatus.landed_reject) INTO rejects FROM m;
    -- Late events of dropped months join the rejects.
    IF window_start IS NOT NULL THEN
        WITH late AS (DELETE FROM pg_temp.mailstatus_flushing e WHERE e.occurred_at OPERATOR(pg_catalog.<) window_start RETURNING e.*)
        SELECT COALESCE(rejects, '{}') OPERATOR(pg_catalog.||) COALESCE(pg_catalog.array_agg(
                   ROW(mailstatus.content_key(mailstatus.event_payload(ROW(e.*)::mailstatus.event)), e.received_at,
                       pg_catalog.format('the event occurred at %s+00, before the retention window: events before %s+00 are no longer kept',
                                         e.occurred_at::timestamp, window_start::timestamp),
                       mailstatus.event_payload(ROW(e.*)::mailstatus.event))::mailstatus.landed_reject), '{}')
          INTO rejects FROM late e;
    END IF;
    flushed := (SELECT pg_catalog.count(*) FROM pg_temp.mailstatus_flushing);
    rejected := COALESCE(pg_catalog.cardinality(rejects), 0);
    stored := 0;
    IF rejected OPERATOR(pg_catalog.>) 0 THEN
        PERFORM mailstatus.store_landed_rejects(rejects);
    END IF;
    IF flushed OPERATOR(pg_catalog.>) 0 THEN
        PERFORM mailstatus.ensure_event_default_partition();
        -- The new ones are merged from the rows moved here, by their keys.
        moved := ARRAY(SELECT ROW(m.*)::mailstatus.event
                         FROM pg_temp.mailstatus_flushing AS m
                         JOIN mailstatus.store_landed_events() AS k
                           ON k.new_message_id OPERATOR(pg_catalog.=) m.message_id
                          AND k.new_occurred_at OPERATOR(pg_catalog.=) m.occurred_at
                          AND k.new_content_hash OPERATOR(pg_catalog.=) m.content_hash);
        stored := pg_catalog.cardinality(moved);
        IF stored OPERATOR(pg_catalog.>) 0 THEN
            PERFORM mailstatus.merge_events(moved);
        END IF;
    END IF;
    duplicates := flushed OPERATOR(pg_catalog.-) stored;
    TRUNCATE pg_temp.mailstatus_flushing;
    IF flushed OPERATOR(pg_catalog.>) 0 OR rejected OPERATOR(pg_catalog.>) 0 THEN
        INSERT INTO mailstatus.landing_flush AS f (flushed_at) VALUES (pg_catalog.now())
        ON CONFLICT (single_row) DO UPDATE SET flushed_at = excluded.flushed_at;
    END IF;
END $$;
COMMENT ON FUNCTION @extschema@.flush_landed() IS
    'Moves what has landed on this node into mailstatus.event and rejected_event and merges the new events into the state; the caller holds the flush lock';
REVOKE ALL ON FUNCTION @extschema@.flush_landed() FROM PUBLIC;

CREATE FUNCTION @extschema@.flush(OUT flushed bigint, OUT stored bigint, OUT duplicates bigint, OUT rejected bigint)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM pg_catalog.pg_advisory_xact_lock(mailstatus.flush_lock_key(), 0);
    SELECT f.flushed, f.stored, f.duplicates, f.rejected INTO flushed, stored, duplicates, rejected
      FROM mailstatus.flush_landed() AS f;
END $$;
COMMENT ON FUNCTION @extschema@.flush() IS
    'Landing mode: moves every event and rejected element that has landed on this node (committed, or posted in this transaction) into the events and merges the new ones into the state, after the running flush if any; returns how many events it moved, how many were new, already stored, and rejected elements';
REVOKE ALL ON FUNCTION @extschema@.flush() FROM PUBLIC;

-- Called by every landing post: flushes when the last flush is mailstatus.flush_interval
-- old or the landing holds about mailstatus.flush_rows events, unless a flush is running
-- (that flush moves what it can see; the rest waits for the next).
CREATE FUNCTION @extschema@.flush_when_due()
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    last_flush timestamptz := (SELECT f.flushed_at FROM mailstatus.landing_flush f);
BEGIN
    IF last_flush IS NOT NULL
       AND pg_catalog.now() OPERATOR(pg_catalog.-) last_flush
           OPERATOR(pg_catalog.<) pg_catalog.current_setting('mailstatus.flush_interval')::interval
       AND pg_catalog.pg_stat_get_live_tuples('mailstatus.landed_event'::pg_catalog.regclass)
           OPERATOR(pg_catalog.<) pg_catalog.current_setting('mailstatus.flush_rows')::bigint THEN
        RETURN false;
    END IF;
    IF NOT pg_catalog.pg_try_advisory_xact_lock(mailstatus.flush_lock_key(), 0) THEN
        RETURN false;
    END IF;
    PERFORM mailstatus.flush_landed();
    RETURN true;
END $$;
COMMENT ON FUNCTION @extschema@.flush_when_due() IS
    'Flushes what has landed when the last flush is mailstatus.flush_interval old or about mailstatus.flush_rows events have landed, unless a flush is running; returns whether it flushed';
REVOKE ALL ON FUNCTION @extschema@.flush_when_due() FROM PUBLIC;
