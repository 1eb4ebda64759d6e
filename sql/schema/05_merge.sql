-----------------------------------------------------------------------------
-- The merge: partial states of raw rows, merged into the state tables.
-----------------------------------------------------------------------------

-- The partial states of raw rows, the one definition used everywhere: ingest and
-- record_send merge the partial states of what they store; state_differences recomputes
-- the state from every row still kept with the same functions.
CREATE FUNCTION @extschema@.recipient_partials(events @extschema@.event[], sends @extschema@.send[])
    RETURNS SETOF @extschema@.recipient
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT f.message_id, f.email,
           @extschema@.status_reached_state(f.status, f.occurred_at),
           @extschema@.status_reached_state(f.status, f.occurred_at) FILTER (WHERE NOT f.machine_open),
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
            -- A send is a hand-off, as SendGrid's processed: the recipient's send day in the figures.
            SELECT s.message_id, s.email, 'sent'::@extschema@.mail_status, s.sent_at, 'processed'::text, false, false,
                   NULL::text, NULL::text, NULL::text, NULLIF(s.custom_args, '{}'::jsonb), NULL::jsonb, NULL::text
              FROM pg_catalog.unnest(recipient_partials.sends) AS s) AS f
     GROUP BY f.message_id, f.email;
END;
COMMENT ON FUNCTION @extschema@.recipient_partials(@extschema@.event[], @extschema@.send[]) IS
    'The partial state of each recipient of these events and sends, as rows of recipient';
REVOKE ALL ON FUNCTION @extschema@.recipient_partials(@extschema@.event[], @extschema@.send[]) FROM PUBLIC;

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
REVOKE ALL ON FUNCTION @extschema@.suppression_partials(@extschema@.event[]) FROM PUBLIC;

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
REVOKE ALL ON FUNCTION @extschema@.group_suppression_partials(@extschema@.event[]) FROM PUBLIC;

CREATE FUNCTION @extschema@.recipient_merge_counts(merged @extschema@.recipient[], inserted boolean[],
                                                   OUT days @extschema@.deliverability_day[],
                                                   OUT category_days @extschema@.deliverability_category_day[],
                                                   OUT statuses @extschema@.recipient_count_by_status[])
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.recipient_merge_counts(@extschema@.recipient[], boolean[]) IS
    'What a merge into recipient (its rows as merged, and whether each was new) adds to the counters: a recipient''s added activity to its days, to each of its categories (a new category: all of it; its first categories take it from NULL), and its change of status';
REVOKE ALL ON FUNCTION @extschema@.recipient_merge_counts(@extschema@.recipient[], boolean[]) FROM PUBLIC;

-- Adds counts to the daily counters, rows in key order (the merge's lock order): the one place
-- that spells the ten counters out for writing, used by every merge and by the updates' recounts.
CREATE FUNCTION @extschema@.add_deliverability_counts(days @extschema@.deliverability_day[],
                                                      category_days @extschema@.deliverability_category_day[])
    RETURNS void
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO mailstatus.deliverability_day AS d
    SELECT a.* FROM pg_catalog.unnest(add_deliverability_counts.days) AS a ORDER BY a.day
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
    SELECT a.* FROM pg_catalog.unnest(add_deliverability_counts.category_days) AS a ORDER BY a.day, a.category
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
END $$;
COMMENT ON FUNCTION @extschema@.add_deliverability_counts(@extschema@.deliverability_day[], @extschema@.deliverability_category_day[]) IS
    'Adds each row''s counts to deliverability_day and deliverability_category_day (rows made where missing), in key order';
REVOKE ALL ON FUNCTION @extschema@.add_deliverability_counts(@extschema@.deliverability_day[], @extschema@.deliverability_category_day[]) FROM PUBLIC;

-- Merges partial states into the recipient state, with each aggregate's combine function, in
-- one statement, rows in key order (the lock order; count_and_notify_merge then brings the
-- counters and the status-change log up to date from what it changed). Ingest stores a post's
-- events first, in key order, then merges all the new ones in one call; record_send likewise:
-- concurrent posts lock the same rows in the same order and never deadlock. Returns each
-- merged row, whether it was new, and its custom args when the merge left them as they were:
-- those are in recipient_custom_args already (every value a recipient ever had went there when
-- merged).
CREATE FUNCTION @extschema@.merge_recipients(partials @extschema@.recipient[])
    RETURNS TABLE (merged @extschema@.recipient, was_inserted boolean, unchanged_custom_args jsonb)
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN QUERY
    WITH upserted AS (
        INSERT INTO mailstatus.recipient AS r
        SELECT p.* FROM pg_catalog.unnest(partials) AS p ORDER BY p.message_id, p.email
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
                                  IS DISTINCT FROM mailstatus.timed_value_jsonb(r.custom_args)
        RETURNING ROW(r.*)::mailstatus.recipient AS r, r.xmax OPERATOR(pg_catalog.=) '0'::xid AS was_inserted)
    SELECT v.r, v.was_inserted,
           CASE WHEN NOT v.was_inserted AND NOT (v.r).custom_args_changed
                THEN mailstatus.timed_value_jsonb((v.r).custom_args) END
      FROM upserted v;
END $$;
COMMENT ON FUNCTION @extschema@.merge_recipients(@extschema@.recipient[]) IS
    'Merges partial states into recipient with the aggregates'' combine functions; returns each merged row, whether it was new, and its custom args when the merge left them unchanged';
REVOKE ALL ON FUNCTION @extschema@.merge_recipients(@extschema@.recipient[]) FROM PUBLIC;

-- What a merge into recipient changed, counted and told: the daily and per-status counters
-- (recipient_merge_counts: what the merge added to each, a few rows each, in key order), then
-- each change of status, as this session counts machine opens, logged and notified by id (no
-- personal data in the payload). A notification queue half full (a listener that stopped
-- reading) stops the notifying, never the batch: the log keeps every change. Tables in the
-- merge's lock order, after recipient. (Not STRICT: a merge of no rows takes the same locks.)
CREATE FUNCTION @extschema@.count_and_notify_merge(merged @extschema@.recipient[], inserted boolean[])
    RETURNS void
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    days mailstatus.deliverability_day[];
    category_days mailstatus.deliverability_category_day[];
    statuses mailstatus.recipient_count_by_status[];
    notified bigint;
BEGIN
    SELECT c.days, c.category_days, c.statuses INTO days, category_days, statuses
      FROM mailstatus.recipient_merge_counts(merged, inserted) AS c;
    PERFORM mailstatus.add_deliverability_counts(days, category_days);
    INSERT INTO mailstatus.recipient_count_by_status AS s
    SELECT a.* FROM pg_catalog.unnest(statuses) AS a ORDER BY a.machine_opens_counted, a.status
    ON CONFLICT ON CONSTRAINT recipient_count_by_status_key DO UPDATE SET recipients = s.recipients OPERATOR(pg_catalog.+) excluded.recipients;

    WITH changes AS (
        INSERT INTO mailstatus.status_change (message_id, email, old_status, new_status, status_at)
        SELECT m.message_id, m.email, t.old_status, mailstatus.status_reached_status(t.reached),
               mailstatus.mail_status_reached_at_final(t.reached)
          FROM pg_catalog.unnest(merged) AS m
         CROSS JOIN LATERAL (SELECT CASE WHEN mailstatus.machine_opens_counted() THEN m.reached ELSE m.reached_human END,
                                    CASE WHEN mailstatus.machine_opens_counted() THEN m.status_before ELSE m.human_status_before END)
                            AS t(reached, old_status)
         WHERE mailstatus.status_reached_status(t.reached)::text IS DISTINCT FROM t.old_status::text
         ORDER BY 1, 2
        RETURNING id)
    SELECT pg_catalog.count(*) INTO notified
      FROM (SELECT pg_catalog.pg_notify('mailstatus_status_changed', c.id::text)
              FROM changes c
             WHERE pg_catalog.pg_notification_queue_usage() OPERATOR(pg_catalog.<) 0.5) AS n;
END $$;
COMMENT ON FUNCTION @extschema@.count_and_notify_merge(@extschema@.recipient[], boolean[]) IS
    'What a merge into recipient changed (its rows as merged, and whether each was new): added to the daily and per-status counters, and each change of status logged in status_change and notified on mailstatus_status_changed';
REVOKE ALL ON FUNCTION @extschema@.count_and_notify_merge(@extschema@.recipient[], boolean[]) FROM PUBLIC;

CREATE FUNCTION @extschema@.merge_events(events @extschema@.event[])
    RETURNS void
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    merged mailstatus.recipient[];
    inserted boolean[];
    known_messages text[];
    known_emails text[];
    known_args jsonb[];
BEGIN
    SELECT pg_catalog.array_agg(k.merged), pg_catalog.array_agg(k.was_inserted),
           pg_catalog.array_agg((k.merged).message_id) FILTER (WHERE k.unchanged_custom_args IS NOT NULL),
           pg_catalog.array_agg((k.merged).email) FILTER (WHERE k.unchanged_custom_args IS NOT NULL),
           pg_catalog.array_agg(k.unchanged_custom_args) FILTER (WHERE k.unchanged_custom_args IS NOT NULL)
      INTO merged, inserted, known_messages, known_emails, known_args
      FROM mailstatus.merge_recipients(ARRAY(SELECT p FROM mailstatus.recipient_partials(events, '{}') AS p)) AS k;
    PERFORM mailstatus.count_and_notify_merge(merged, inserted);
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
    -- The custom args of each recipient, but for those its state had already.
    INSERT INTO mailstatus.recipient_custom_args (message_id, email, args_hash, custom_args)
    SELECT DISTINCT a.message_id, a.email, pg_catalog.jsonb_hash_extended(a.custom_args, 0), a.custom_args
      FROM (SELECT COALESCE(e.attributed_message_id, e.message_id) AS message_id, e.email, e.custom_args
              FROM pg_catalog.unnest(events) AS e WHERE e.custom_args IS NOT NULL) AS a
      LEFT JOIN ROWS FROM (pg_catalog.unnest(known_messages), pg_catalog.unnest(known_emails), pg_catalog.unnest(known_args))
                AS k(message_id, email, custom_args)
        ON k.message_id OPERATOR(pg_catalog.=) a.message_id AND k.email OPERATOR(pg_catalog.=) a.email
     WHERE a.custom_args IS DISTINCT FROM k.custom_args
     ORDER BY 1, 2, 3
    ON CONFLICT ON CONSTRAINT recipient_custom_args_pkey DO NOTHING;
END $$;
COMMENT ON FUNCTION @extschema@.merge_events(@extschema@.event[]) IS
    'Merges newly stored events into every state: recipients, suppressions, the custom args of each recipient';
REVOKE ALL ON FUNCTION @extschema@.merge_events(@extschema@.event[]) FROM PUBLIC;

CREATE FUNCTION @extschema@.merge_sends(sends @extschema@.send[])
    RETURNS void
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    merged mailstatus.recipient[];
    inserted boolean[];
    known_messages text[];
    known_emails text[];
    known_args jsonb[];
BEGIN
    SELECT pg_catalog.array_agg(k.merged), pg_catalog.array_agg(k.was_inserted),
           pg_catalog.array_agg((k.merged).message_id) FILTER (WHERE k.unchanged_custom_args IS NOT NULL),
           pg_catalog.array_agg((k.merged).email) FILTER (WHERE k.unchanged_custom_args IS NOT NULL),
           pg_catalog.array_agg(k.unchanged_custom_args) FILTER (WHERE k.unchanged_custom_args IS NOT NULL)
      INTO merged, inserted, known_messages, known_emails, known_args
      FROM mailstatus.merge_recipients(ARRAY(SELECT p FROM mailstatus.recipient_partials('{}', sends) AS p)) AS k;
    PERFORM mailstatus.count_and_notify_merge(merged, inserted);
    INSERT INTO mailstatus.recipient_custom_args (message_id, email, args_hash, custom_args)
    SELECT DISTINCT s.message_id, s.email, pg_catalog.jsonb_hash_extended(s.custom_args, 0), s.custom_args
      FROM pg_catalog.unnest(sends) AS s
      LEFT JOIN ROWS FROM (pg_catalog.unnest(known_messages), pg_catalog.unnest(known_emails), pg_catalog.unnest(known_args))
                AS k(message_id, email, custom_args)
        ON k.message_id OPERATOR(pg_catalog.=) s.message_id AND k.email OPERATOR(pg_catalog.=) s.email
     WHERE s.custom_args OPERATOR(pg_catalog.<>) '{}'::jsonb AND s.custom_args IS DISTINCT FROM k.custom_args
     ORDER BY 1, 2, 3
    ON CONFLICT ON CONSTRAINT recipient_custom_args_pkey DO NOTHING;
END $$;
COMMENT ON FUNCTION @extschema@.merge_sends(@extschema@.send[]) IS
    'Merges newly recorded sends into the recipient state and the custom args of each recipient';
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
