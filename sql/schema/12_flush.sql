-----------------------------------------------------------------------------
-- The flush: what has landed on this node moved into the events and merged into the state.
-----------------------------------------------------------------------------

-- Stores the moved events (flushing_event: flushed of them) in event, once each, and leaves
-- in flushing_event only those this flush stored: an event already there (stored by an
-- earlier flush or a direct post, or by another transaction meanwhile) was inserted by
-- another transaction, or earlier in this one. Returns how many were new.
CREATE FUNCTION @extschema@.store_flushing_events(flushed bigint)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    already_stored bigint;
BEGIN
    INSERT INTO mailstatus.event AS e
    SELECT f.* FROM mailstatus.flushing_event f ORDER BY f.message_id, f.email, f.occurred_at, f.content_hash
    ON CONFLICT DO NOTHING;
    -- Each moved event looked up by its key (a subquery per row: one index probe in its
    -- month's partition, whatever the size of event; as a join, the planner may hash every
    -- stored event instead, on each flush). bool_or: a partition made without the key may
    -- hold an event twice.
    DELETE FROM mailstatus.flushing_event f
     WHERE (SELECT pg_catalog.bool_or(NOT (e.xmin OPERATOR(pg_catalog.=) f.xmin
                                          AND e.cmin::text::bigint OPERATOR(pg_catalog.>) f.cmin::text::bigint))
              FROM mailstatus.event e
             WHERE e.message_id OPERATOR(pg_catalog.=) f.message_id AND e.occurred_at OPERATOR(pg_catalog.=) f.occurred_at
               AND e.content_hash OPERATOR(pg_catalog.=) f.content_hash);
    GET DIAGNOSTICS already_stored = ROW_COUNT;
    RETURN flushed OPERATOR(pg_catalog.-) already_stored;
END $$;
COMMENT ON FUNCTION @extschema@.store_flushing_events(bigint) IS
    'Stores the events of a running flush (flushing_event, this many) in mailstatus.event, once each, keeps in flushing_event only those it stored, and returns their count';
REVOKE ALL ON FUNCTION @extschema@.store_flushing_events(bigint) FROM PUBLIC;

-- Copies the new events of a flush attributed to a message (async bounces: few) under that
-- message's id to flushing_attributed_event, through the coordinator (Citus would otherwise
-- repartition them between every pair of shards). Returns how many.
CREATE FUNCTION @extschema@.move_attributed_events()
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
    SET citus.enable_repartitioned_insert_select = off AS $$
DECLARE
    moved_count bigint;
BEGIN
    INSERT INTO mailstatus.flushing_attributed_event
           (occurred_at, content_hash, received_at, attempt, asm_group_id, machine_open, attributed_message_id,
            message_id, email, event, sg_event_id, sg_message_suffix, smtp_host, reason, smtp_status, response,
            bounce_type, bounce_classification, url, useragent, ip, category, custom_args, residual)
    SELECT f.occurred_at, f.content_hash, f.received_at, f.attempt, f.asm_group_id, f.machine_open,
           f.attributed_message_id, f.attributed_message_id, f.email, f.event, f.sg_event_id, f.sg_message_suffix,
           f.smtp_host, f.reason, f.smtp_status, f.response, f.bounce_type, f.bounce_classification, f.url,
           f.useragent, f.ip, f.category, f.custom_args, f.residual
      FROM mailstatus.flushing_event f WHERE f.attributed_message_id IS NOT NULL;
    GET DIAGNOSTICS moved_count = ROW_COUNT;
    RETURN moved_count;
END $$;
COMMENT ON FUNCTION @extschema@.move_attributed_events() IS
    'Copies the new events of a running flush that are attributed to a message to flushing_attributed_event, under that message''s id; returns how many';
REVOKE ALL ON FUNCTION @extschema@.move_attributed_events() FROM PUBLIC;

-- Copies the new events of a flush that count in suppressions (about a third) to
-- flushing_suppression_event, beside each address's state, through the coordinator: Citus
-- would otherwise repartition them worker to worker, every shard writing a file for every
-- other, which made a flush of 5 000 events cost half as much again.
CREATE FUNCTION @extschema@.move_suppression_events()
    RETURNS void
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
    SET citus.enable_repartitioned_insert_select = off AS $$
BEGIN
    INSERT INTO mailstatus.flushing_suppression_event
    SELECT f.* FROM mailstatus.flushing_event f
     WHERE f.event OPERATOR(pg_catalog.=) ANY ('{spamreport,unsubscribe,bounce,dropped,delivered,group_unsubscribe,group_resubscribe}'::text[]);
END $$;
COMMENT ON FUNCTION @extschema@.move_suppression_events() IS
    'Copies the new events of a running flush that count in suppressions to flushing_suppression_event';
REVOKE ALL ON FUNCTION @extschema@.move_suppression_events() FROM PUBLIC;

-- Merges a flush's new events (flushing_event, and flushing_attributed_event filled by
-- move_attributed_events) into every state, as merge_events merges a post's, tables in the
-- same order and rows in key order: recipients, the counters, the status-change log,
-- suppressions, the custom args of their messages. On Citus every statement runs shard by
-- shard; the counters' sums and the status changes come back to the coordinator.
CREATE FUNCTION @extschema@.merge_flushing_events()
    RETURNS void
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    counted boolean := mailstatus.machine_opens_counted();
    days mailstatus.deliverability_day[];
    category_days mailstatus.deliverability_category_day[];
    statuses mailstatus.recipient_count_by_status[];
    notified bigint;
BEGIN
    -- Recipients: each message's partial states, merged with the combine functions (the
    -- combine of merge_recipients, which records what each merge changed).
    INSERT INTO mailstatus.recipient AS r
    SELECT m.message_id, p.email, p.reached, p.reached_human, p.first_event_at, p.last_event_at, p.opens,
           p.machine_opens, p.clicks, p.reason, p.smtp_status, p.bounce_classification, p.custom_args,
           p.categories, p.activity
      FROM (SELECT e.message_id, pg_catalog.array_agg(ROW(e.*)::mailstatus.event) AS events
              FROM mailstatus.flushing_recipient_event e GROUP BY e.message_id) AS m,
           LATERAL mailstatus.recipient_partials(m.events, '{}') AS p
     ORDER BY m.message_id, p.email
    ON CONFLICT ON CONSTRAINT recipient_pkey DO UPDATE SET
        reached = mailstatus.status_reached_combine(r.reached, excluded.reached),
        reached_human = mailstatus.status_reached_combine(r.reached_human, excluded.reached_human),
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
        status_before = mailstatus.status_reached_status(r.reached),
        human_status_before = mailstatus.status_reached_status(r.reached_human),
        activity_added = mailstatus.activity_added(r.activity, excluded.activity),
        categories_added = mailstatus.category_set_added(r.categories, excluded.categories),
        custom_args_changed = mailstatus.timed_value_jsonb(excluded.custom_args)
                              IS DISTINCT FROM mailstatus.timed_value_jsonb(r.custom_args);

    -- The counters: what the merge added, per message where its rows are (a row the merge
    -- inserted has custom_args_changed NULL, as the partial states carry it; one it updated
    -- has true or false), in one statement: each message's rows of the three counters side
    -- by side (ROWS FROM: one row per position, NULLs where a counter has fewer), summed on
    -- each shard by all their keys, then per day, category and status.
    WITH added AS (
        SELECT x.day, x.category_day, x.category, x.machine_opens_counted, x.status,
               pg_catalog.sum(x.sent) AS sent, pg_catalog.sum(x.delivered) AS delivered,
               pg_catalog.sum(x.bounced) AS bounced, pg_catalog.sum(x.blocked) AS blocked,
               pg_catalog.sum(x.dropped) AS dropped, pg_catalog.sum(x.deferred) AS deferred,
               pg_catalog.sum(x.spam_reports) AS spam_reports, pg_catalog.sum(x.unique_human_opens) AS unique_human_opens,
               pg_catalog.sum(x.machine_opens) AS machine_opens, pg_catalog.sum(x.clicks) AS clicks,
               pg_catalog.sum(x.category_sent) AS category_sent, pg_catalog.sum(x.category_delivered) AS category_delivered,
               pg_catalog.sum(x.category_bounced) AS category_bounced, pg_catalog.sum(x.category_blocked) AS category_blocked,
               pg_catalog.sum(x.category_dropped) AS category_dropped, pg_catalog.sum(x.category_deferred) AS category_deferred,
               pg_catalog.sum(x.category_spam_reports) AS category_spam_reports,
               pg_catalog.sum(x.category_unique_human_opens) AS category_unique_human_opens,
               pg_catalog.sum(x.category_machine_opens) AS category_machine_opens,
               pg_catalog.sum(x.category_clicks) AS category_clicks, pg_catalog.sum(x.recipients) AS recipients
          FROM (SELECT r.message_id,
                       mailstatus.recipient_merge_counts(pg_catalog.array_agg(ROW(r.*)::mailstatus.recipient ORDER BY r.email),
                                                         pg_catalog.array_agg(r.custom_args_changed IS NULL ORDER BY r.email)) AS counts
                  FROM mailstatus.recipient r
                  JOIN (SELECT DISTINCT e.message_id, e.email FROM mailstatus.flushing_recipient_event e) AS k
                    ON k.message_id OPERATOR(pg_catalog.=) r.message_id AND k.email OPERATOR(pg_catalog.=) r.email
                 GROUP BY r.message_id) AS m,
               LATERAL ROWS FROM (pg_catalog.unnest((m.counts).days), pg_catalog.unnest((m.counts).category_days),
                                  pg_catalog.unnest((m.counts).statuses))
                 AS x(day, sent, delivered, bounced, blocked, dropped, deferred, spam_reports, unique_human_opens,
                      machine_opens, clicks,
                      category_day, category, category_sent, category_delivered, category_bounced, category_blocked,
                      category_dropped, category_deferred, category_spam_reports, category_unique_human_opens,
                      category_machine_opens, category_clicks,
                      machine_opens_counted, status, recipients)
         GROUP BY x.day, x.category_day, x.category, x.machine_opens_counted, x.status)
    SELECT ARRAY(SELECT ROW(a.day, pg_catalog.sum(a.sent), pg_catalog.sum(a.delivered), pg_catalog.sum(a.bounced),
                            pg_catalog.sum(a.blocked), pg_catalog.sum(a.dropped), pg_catalog.sum(a.deferred),
                            pg_catalog.sum(a.spam_reports), pg_catalog.sum(a.unique_human_opens),
                            pg_catalog.sum(a.machine_opens), pg_catalog.sum(a.clicks))::mailstatus.deliverability_day
                   FROM added a WHERE a.day IS NOT NULL GROUP BY a.day),
           ARRAY(SELECT ROW(a.category_day, a.category, pg_catalog.sum(a.category_sent), pg_catalog.sum(a.category_delivered),
                            pg_catalog.sum(a.category_bounced), pg_catalog.sum(a.category_blocked),
                            pg_catalog.sum(a.category_dropped), pg_catalog.sum(a.category_deferred),
                            pg_catalog.sum(a.category_spam_reports), pg_catalog.sum(a.category_unique_human_opens),
                            pg_catalog.sum(a.category_machine_opens),
                            pg_catalog.sum(a.category_clicks))::mailstatus.deliverability_category_day
                   FROM added a WHERE a.category_day IS NOT NULL GROUP BY a.category_day, a.category),
           ARRAY(SELECT ROW(a.machine_opens_counted, a.status, pg_catalog.sum(a.recipients))::mailstatus.recipient_count_by_status
                   FROM added a WHERE a.machine_opens_counted IS NOT NULL GROUP BY a.machine_opens_counted, a.status)
      INTO days, category_days, statuses;
    PERFORM mailstatus.add_deliverability_counts(days, category_days);
    INSERT INTO mailstatus.recipient_count_by_status AS s
    SELECT a.machine_opens_counted, a.status, a.recipients FROM pg_catalog.unnest(statuses) AS a
     ORDER BY a.machine_opens_counted, a.status
    ON CONFLICT ON CONSTRAINT recipient_count_by_status_key DO UPDATE SET recipients = s.recipients OPERATOR(pg_catalog.+) excluded.recipients;

    -- Each change of status, as this session counts machine opens, logged and notified by id,
    -- as merge_recipients does: a recipient's changes within one flush are one change.
    WITH changes AS (
        INSERT INTO mailstatus.status_change (message_id, email, old_status, new_status, status_at)
        SELECT c.message_id, c.email, c.old_status, c.new_status, c.status_at
          FROM (SELECT r.message_id, r.email, t.old_status, mailstatus.status_reached_status(t.reached) AS new_status,
                       mailstatus.mail_status_reached_at_final(t.reached) AS status_at
                  FROM mailstatus.recipient r
                  JOIN (SELECT DISTINCT e.message_id, e.email FROM mailstatus.flushing_recipient_event e) AS k
                    ON k.message_id OPERATOR(pg_catalog.=) r.message_id AND k.email OPERATOR(pg_catalog.=) r.email
                 CROSS JOIN LATERAL (SELECT CASE WHEN counted THEN r.reached ELSE r.reached_human END,
                                            CASE WHEN counted THEN r.status_before ELSE r.human_status_before END)
                                    AS t(reached, old_status)
                 WHERE mailstatus.status_reached_status(t.reached)::text IS DISTINCT FROM t.old_status::text) AS c
         ORDER BY 1, 2
        RETURNING id)
    SELECT pg_catalog.count(*) INTO notified
      FROM (SELECT pg_catalog.pg_notify('mailstatus_status_changed', c.id::text)
              FROM changes c
             WHERE pg_catalog.pg_notification_queue_usage() OPERATOR(pg_catalog.<) 0.5) AS n;

    -- Suppressions: the events that count in them, beside each address's state.
    PERFORM mailstatus.move_suppression_events();
    INSERT INTO mailstatus.suppression_state AS s
    SELECT a.email, p.decision, p.failure, p.delivered_at, p.lifted_at
      FROM (SELECT e.email, pg_catalog.array_agg(ROW(e.*)::mailstatus.event) AS events
              FROM mailstatus.flushing_suppression_event e GROUP BY e.email) AS a,
           LATERAL mailstatus.suppression_partials(a.events) AS p
     ORDER BY a.email
    ON CONFLICT ON CONSTRAINT suppression_state_pkey DO UPDATE SET
        decision = mailstatus.timed_value_merge(s.decision, excluded.decision),
        failure = mailstatus.timed_value_merge(s.failure, excluded.failure),
        delivered_at = GREATEST(s.delivered_at, excluded.delivered_at);
    INSERT INTO mailstatus.group_suppression_state AS g
    SELECT a.email, p.asm_group_id, p.unsubscribe, p.resubscribed_at, p.lifted_at
      FROM (SELECT e.email, pg_catalog.array_agg(ROW(e.*)::mailstatus.event) AS events
              FROM mailstatus.flushing_suppression_event e GROUP BY e.email) AS a,
           LATERAL mailstatus.group_suppression_partials(a.events) AS p
     ORDER BY a.email, p.asm_group_id
    ON CONFLICT ON CONSTRAINT group_suppression_state_pkey DO UPDATE SET
        unsubscribe = mailstatus.timed_value_merge(g.unsubscribe, excluded.unsubscribe),
        resubscribed_at = GREATEST(g.resubscribed_at, excluded.resubscribed_at);

    -- The custom args of each recipient, but for those its state had already (a recipient
    -- the merge updated without changing its custom args: every value it ever had went to
    -- recipient_custom_args when merged).
    INSERT INTO mailstatus.recipient_custom_args (message_id, email, args_hash, custom_args)
    SELECT DISTINCT e.message_id, e.email, pg_catalog.jsonb_hash_extended(e.custom_args, 0), e.custom_args
      FROM mailstatus.flushing_recipient_event e
      LEFT JOIN mailstatus.recipient r
        ON r.message_id OPERATOR(pg_catalog.=) e.message_id AND r.email OPERATOR(pg_catalog.=) e.email
       AND r.custom_args_changed IS FALSE
     WHERE e.custom_args IS NOT NULL
       AND e.custom_args IS DISTINCT FROM mailstatus.timed_value_jsonb(r.custom_args)
     ORDER BY 1, 2, 3
    ON CONFLICT ON CONSTRAINT recipient_custom_args_pkey DO NOTHING;
END $$;
COMMENT ON FUNCTION @extschema@.merge_flushing_events() IS
    'Merges the new events of a running flush (flushing_event) into every state, as merge_events does a post''s: recipients, counters, status changes (logged and notified), suppressions, custom args';
REVOKE ALL ON FUNCTION @extschema@.merge_flushing_events() FROM PUBLIC;

-- Moves every landed event (committed, or landed in this transaction) to flushing_event: on
-- Citus one copy to the shards, from a function of its own (Citus writes out the variables
-- of the PL/pgSQL function calling a statement that runs a task on the coordinator).
CREATE FUNCTION @extschema@.move_landed_events()
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    moved_count bigint;
BEGIN
    WITH moved AS (DELETE FROM mailstatus.landed_event l RETURNING l.*)
    INSERT INTO mailstatus.flushing_event SELECT m.* FROM moved m;
    GET DIAGNOSTICS moved_count = ROW_COUNT;
    RETURN moved_count;
END $$;
COMMENT ON FUNCTION @extschema@.move_landed_events() IS
    'Moves every landed event of this node into flushing_event, for the flush that holds the flush lock; returns how many';
REVOKE ALL ON FUNCTION @extschema@.move_landed_events() FROM PUBLIC;

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
-- keep and commit in two phases; and its TRUNCATE of the working tables reaches their shards
-- even in a session that switched Citus' DDL propagation off (left there, their rows would be
-- merged again by the next flush). The settings mean nothing without Citus.
CREATE FUNCTION @extschema@.flush_landed(OUT flushed bigint, OUT stored bigint, OUT duplicates bigint, OUT rejected bigint)
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp
    SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD' SET citus.max_adaptive_executor_pool_size = 1
    SET citus.enable_ddl_propagation = on AS $$
DECLARE
    window_start timestamptz;
    rejects mailstatus.landed_reject[];
    attributed bigint := 0;
BEGIN
    SELECT r.retained_since INTO window_start FROM mailstatus.event_retention r FOR SHARE;
    WITH m AS (DELETE FROM mailstatus.landed_reject l RETURNING l.*)
    SELECT pg_catalog.array_agg(ROW(m.*)::mailstatus.landed_reject) INTO rejects FROM m;
    -- Late events of dropped months join the rejects; the others are moved.
    IF window_start IS NOT NULL THEN
        WITH late AS (DELETE FROM mailstatus.landed_event e WHERE e.occurred_at OPERATOR(pg_catalog.<) window_start RETURNING e.*)
        SELECT COALESCE(rejects, '{}') OPERATOR(pg_catalog.||) COALESCE(pg_catalog.array_agg(
                   ROW(mailstatus.content_key(mailstatus.event_payload(ROW(e.*)::mailstatus.event)), e.received_at,
                       pg_catalog.format('the event occurred at %s+00, before the retention window: events before %s+00 are no longer kept',
                                         e.occurred_at::timestamp, window_start::timestamp),
                       mailstatus.event_payload(ROW(e.*)::mailstatus.event))::mailstatus.landed_reject), '{}')
          INTO rejects FROM late e;
    END IF;
    rejected := COALESCE(pg_catalog.cardinality(rejects), 0);
    -- The event table's default partition before the rejects, the order of a direct post
    -- (which makes it, then stores its rejects): in the other order a flush and a direct post
    -- of the same rejected element on a table without partitions waited for each other.
    PERFORM mailstatus.ensure_event_default_partition();
    IF rejected OPERATOR(pg_catalog.>) 0 THEN
        PERFORM mailstatus.store_landed_rejects(rejects);
    END IF;
    -- The landed events go to flushing_event (on Citus: copied once to the shards).
    flushed := mailstatus.move_landed_events();
    stored := 0;
    IF flushed OPERATOR(pg_catalog.>) 0 THEN
        stored := mailstatus.store_flushing_events(flushed);
        IF stored OPERATOR(pg_catalog.>) 0 THEN
            attributed := mailstatus.move_attributed_events();
            PERFORM mailstatus.merge_flushing_events();
        END IF;
        TRUNCATE mailstatus.flushing_event, mailstatus.flushing_suppression_event;
        -- On Citus emptying a table costs a task on every shard: not when nothing was
        -- attributed, as in most flushes.
        IF attributed OPERATOR(pg_catalog.>) 0 THEN
            TRUNCATE mailstatus.flushing_attributed_event;
        END IF;
    END IF;
    duplicates := flushed OPERATOR(pg_catalog.-) stored;
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
