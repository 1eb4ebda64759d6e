-----------------------------------------------------------------------------
-- Landing mode: a post lands on the node that receives it; a flush merges per interval.
-- Here the landing tables, a flush's working tables and lock, and when a post flushes
-- (the flush itself: 12_flush.sql).
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

-- What a flush moves, while it runs: tables emptied by every flush (rows only ever seen by
-- the flush that wrote them: one flush at a time), where each step of the merge reads them
-- from. On Citus they are distributed like the state they feed (citus_layout): every step is
-- then one INSERT ... SELECT that each shard runs on its own rows, on its worker; only the
-- counters' sums, the changes of status and the few events that go to another shard (those
-- counting in suppressions, the attributed async bounces) pass through the coordinator.
-- (No keys to maintain: the rows come from landed_event, each once. Citus moves a shard by
-- logical replication, which needs a replica identity: the whole row, the tables being
-- empty but while a flush runs.)
CREATE TABLE @extschema@.flushing_event (LIKE @extschema@.event);
ALTER TABLE @extschema@.flushing_event REPLICA IDENTITY FULL;
COMMENT ON TABLE @extschema@.flushing_event IS
    'The events a flush moves, while it runs (then only the new ones); on Citus distributed by message_id with event';

CREATE TABLE @extschema@.flushing_attributed_event (LIKE @extschema@.event);
ALTER TABLE @extschema@.flushing_attributed_event REPLICA IDENTITY FULL;
COMMENT ON TABLE @extschema@.flushing_attributed_event IS
    'The new events of a flush that name no message but are attributed to one (async bounces), their message_id the attributed message''s: beside that message''s state on Citus';

CREATE TABLE @extschema@.flushing_suppression_event (LIKE @extschema@.event);
ALTER TABLE @extschema@.flushing_suppression_event REPLICA IDENTITY FULL;
COMMENT ON TABLE @extschema@.flushing_suppression_event IS
    'The new events of a flush that count in the suppression states; on Citus distributed by email with suppression_state';

-- The new events of a flush by the message whose recipient state they go to.
CREATE VIEW @extschema@.flushing_recipient_event AS
SELECT e.* FROM @extschema@.flushing_event e WHERE e.attributed_message_id IS NULL
UNION ALL
SELECT a.* FROM @extschema@.flushing_attributed_event a;
COMMENT ON VIEW @extschema@.flushing_recipient_event IS
    'The new events of a running flush, each under the message of the recipient state it goes to (an attributed async bounce under its attributed message)';
REVOKE ALL ON @extschema@.flushing_recipient_event FROM PUBLIC;

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
