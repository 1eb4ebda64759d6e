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

CREATE VIEW @extschema@.recomputed_recipient_custom_args AS
SELECT DISTINCT a.message_id, a.email, pg_catalog.jsonb_hash_extended(a.custom_args, 0) AS args_hash, a.custom_args
  FROM (SELECT COALESCE(v.attributed_message_id, v.message_id) AS message_id, v.email, v.custom_args
          FROM @extschema@.event v WHERE v.custom_args IS NOT NULL
        UNION ALL
        SELECT v.message_id, v.email, v.custom_args FROM @extschema@.send v WHERE v.custom_args OPERATOR(pg_catalog.<>) '{}'::jsonb) AS a;
COMMENT ON VIEW @extschema@.recomputed_recipient_custom_args IS
    'The custom args of each recipient, recomputed from the events and sends still kept';

-- Whether an event lies before the first day of its recipient's state, given the recipients
-- (message, address) and the first days of their states: an event of a recipient forgotten
-- and seen again, forgotten with its former state. state_differences reads them beforehand for
-- the async bounces (Citus joins distributed tables only on their distribution columns); no
-- recipient given, or not among them: false.
CREATE FUNCTION @extschema@.before_first_state_day(message_id text, email text, occurred_at timestamptz,
                                                   messages text[], emails text[], first_days timestamptz[])
    RETURNS boolean
    LANGUAGE sql IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE SET search_path = pg_catalog, pg_temp
    RETURN EXISTS (SELECT FROM ROWS FROM (pg_catalog.unnest(messages), pg_catalog.unnest(emails), pg_catalog.unnest(first_days))
                                 AS f(message_id, email, first_day)
                    WHERE f.message_id OPERATOR(pg_catalog.=) before_first_state_day.message_id
                      AND f.email OPERATOR(pg_catalog.=) before_first_state_day.email
                      AND before_first_state_day.occurred_at OPERATOR(pg_catalog.<) f.first_day);
COMMENT ON FUNCTION @extschema@.before_first_state_day(text, text, timestamptz, text[], text[], timestamptz[]) IS
    'Whether an event of the recipient (message_id, email) occurred before the first day of its state, among the recipients and first days given (state_differences)';
REVOKE ALL ON FUNCTION @extschema@.before_first_state_day(text, text, timestamptz, text[], text[], timestamptz[]) FROM PUBLIC;

-- The counters are sums over the recipient state (all of it: retention drops no state) of
-- what each recipient counts (activity_figures).
CREATE VIEW @extschema@.recomputed_deliverability_day AS
SELECT f.day,
       pg_catalog.sum(f.sent)::bigint AS sent, pg_catalog.sum(f.delivered)::bigint AS delivered,
       pg_catalog.sum(f.bounced)::bigint AS bounced, pg_catalog.sum(f.blocked)::bigint AS blocked,
       pg_catalog.sum(f.dropped)::bigint AS dropped, pg_catalog.sum(f.deferred)::bigint AS deferred,
       pg_catalog.sum(f.spam_reports)::bigint AS spam_reports,
       pg_catalog.sum(f.unique_human_opens)::bigint AS unique_human_opens,
       pg_catalog.sum(f.machine_opens)::bigint AS machine_opens, pg_catalog.sum(f.clicks)::bigint AS clicks
  FROM @extschema@.recipient r
 CROSS JOIN LATERAL @extschema@.activity_figures(r.activity) AS f
 GROUP BY f.day;
COMMENT ON VIEW @extschema@.recomputed_deliverability_day IS
    'deliverability_day recomputed from the recipient state';

CREATE VIEW @extschema@.recomputed_deliverability_category_day AS
SELECT f.day, k.category,
       pg_catalog.sum(f.sent)::bigint AS sent, pg_catalog.sum(f.delivered)::bigint AS delivered,
       pg_catalog.sum(f.bounced)::bigint AS bounced, pg_catalog.sum(f.blocked)::bigint AS blocked,
       pg_catalog.sum(f.dropped)::bigint AS dropped, pg_catalog.sum(f.deferred)::bigint AS deferred,
       pg_catalog.sum(f.spam_reports)::bigint AS spam_reports,
       pg_catalog.sum(f.unique_human_opens)::bigint AS unique_human_opens,
       pg_catalog.sum(f.machine_opens)::bigint AS machine_opens, pg_catalog.sum(f.clicks)::bigint AS clicks
  FROM @extschema@.recipient r
 CROSS JOIN LATERAL pg_catalog.unnest(COALESCE(r.categories, ARRAY[NULL::text])) AS k(category)
 CROSS JOIN LATERAL @extschema@.activity_figures(r.activity) AS f
 GROUP BY f.day, k.category;
COMMENT ON VIEW @extschema@.recomputed_deliverability_category_day IS
    'deliverability_category_day recomputed from the recipient state';

CREATE VIEW @extschema@.recomputed_recipient_count_by_status AS
SELECT v.machine_opens_counted, v.status, pg_catalog.count(*) AS recipients
  FROM @extschema@.recipient r
 CROSS JOIN LATERAL (VALUES (true, @extschema@.status_reached_status(r.reached)),
                            (false, @extschema@.status_reached_status(r.reached_human))) AS v(machine_opens_counted, status)
 GROUP BY v.machine_opens_counted, v.status;
COMMENT ON VIEW @extschema@.recomputed_recipient_count_by_status IS
    'recipient_count_by_status recomputed from the recipient state';

-- What a state row still kept must hold, when the events before kept_since are gone (retention
-- dropped their months): the stored state is what the kept events recompute merged with the
-- state of some events before kept_since. So each value the kept events decide is theirs
-- exactly, and each other value only holds what earlier events can have added. The three
-- rules below, for a latest value, a latest time and a reached state; recipient_state_holds
-- applies them with the rules of counts, categories and days.

-- A latest value (latest_timed_value): merging the recomputed one changes nothing, and when
-- the stored one was observed within the kept window it is the recomputed one.
CREATE FUNCTION @extschema@.latest_value_holds(stored @extschema@.timed_value, recomputed @extschema@.timed_value,
                                               kept_since timestamptz)
    RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN @extschema@.timed_value_merge(stored, recomputed)::text IS NOT DISTINCT FROM stored::text
   AND (COALESCE(@extschema@.timed_value_at(stored) OPERATOR(pg_catalog.<) kept_since, false)
        OR stored::text IS NOT DISTINCT FROM recomputed::text);
COMMENT ON FUNCTION @extschema@.latest_value_holds(@extschema@.timed_value, @extschema@.timed_value, timestamptz) IS
    'Whether a stored latest value agrees with its recomputation from the events since kept_since: the later of both, and the recomputed one when observed since kept_since';
REVOKE ALL ON FUNCTION @extschema@.latest_value_holds(@extschema@.timed_value, @extschema@.timed_value, timestamptz) FROM PUBLIC;

-- A latest time (of an event or a delivery): the later of both, and the recomputed one when
-- it lies within the kept window.
CREATE FUNCTION @extschema@.latest_time_holds(stored timestamptz, recomputed timestamptz, kept_since timestamptz)
    RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN GREATEST(stored, recomputed) IS NOT DISTINCT FROM stored
   AND (COALESCE(stored OPERATOR(pg_catalog.<) kept_since, false) OR stored IS NOT DISTINCT FROM recomputed);
COMMENT ON FUNCTION @extschema@.latest_time_holds(timestamptz, timestamptz, timestamptz) IS
    'Whether a stored latest time agrees with its recomputation from the events since kept_since: the later of both, and the recomputed one when since kept_since';
REVOKE ALL ON FUNCTION @extschema@.latest_time_holds(timestamptz, timestamptz, timestamptz) FROM PUBLIC;

-- A reached state (status_reached_state): the larger of both, and the recomputed one when
-- its status was first reached within the kept window.
CREATE FUNCTION @extschema@.reached_state_holds(stored bigint, recomputed bigint, kept_since timestamptz)
    RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN @extschema@.status_reached_combine(stored, recomputed) OPERATOR(pg_catalog.=) stored
   AND (COALESCE(@extschema@.mail_status_reached_at_final(stored) OPERATOR(pg_catalog.<) kept_since, false)
        OR stored OPERATOR(pg_catalog.=) recomputed);
COMMENT ON FUNCTION @extschema@.reached_state_holds(bigint, bigint, timestamptz) IS
    'Whether a stored reached state agrees with its recomputation from the events since kept_since: the larger of both, and the recomputed one when reached since kept_since';
REVOKE ALL ON FUNCTION @extschema@.reached_state_holds(bigint, bigint, timestamptz) FROM PUBLIC;

-- A day's counters (a row of deliverability_day or deliverability_category_day, as jsonb)
-- on a day partly before the kept window: each at least the recomputed one (the events
-- forgotten or dropped that day counted too). A counter is a key holding a number in either
-- row; missing or NULL, it is 0 (so a negative stored counter fails, recomputed or not).
CREATE FUNCTION @extschema@.counts_at_least(stored jsonb, recomputed jsonb)
    RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (SELECT COALESCE(pg_catalog.bool_and(COALESCE((stored OPERATOR(pg_catalog.->>) k.key)::bigint, 0)
                                            OPERATOR(pg_catalog.>=) COALESCE((recomputed OPERATOR(pg_catalog.->>) k.key)::bigint, 0)), true)
          FROM (SELECT pg_catalog.jsonb_object_keys(COALESCE(stored, '{}'::jsonb)
                                                    OPERATOR(pg_catalog.||) COALESCE(recomputed, '{}'::jsonb))) AS k(key)
         WHERE pg_catalog.jsonb_typeof(stored OPERATOR(pg_catalog.->) k.key) OPERATOR(pg_catalog.=) 'number'
            OR pg_catalog.jsonb_typeof(recomputed OPERATOR(pg_catalog.->) k.key) OPERATOR(pg_catalog.=) 'number');
COMMENT ON FUNCTION @extschema@.counts_at_least(jsonb, jsonb) IS
    'Whether every counter (a key holding a number in either row) of the stored row (jsonb) is at least the recomputed row''s, missing or NULL counting as 0';
REVOKE ALL ON FUNCTION @extschema@.counts_at_least(jsonb, jsonb) FROM PUBLIC;

-- A recipient whose first event or send precedes kept_since: the rules above for its states,
-- latest values and last event; its first event no later, its counts and categories at least
-- the recomputed ones; its activity exactly the recomputed one on the days wholly within the
-- kept window, and at least it on earlier days.
CREATE FUNCTION @extschema@.recipient_state_holds(stored @extschema@.recipient, recomputed @extschema@.recipient,
                                                  kept_since timestamptz)
    RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT @extschema@.reached_state_holds(stored.reached, recomputed.reached, kept_since)
       AND @extschema@.reached_state_holds(stored.reached_human, recomputed.reached_human, kept_since)
       AND stored.first_event_at OPERATOR(pg_catalog.<=) recomputed.first_event_at
       AND @extschema@.latest_time_holds(stored.last_event_at, recomputed.last_event_at, kept_since)
       AND stored.opens OPERATOR(pg_catalog.>=) recomputed.opens
       AND stored.machine_opens OPERATOR(pg_catalog.>=) recomputed.machine_opens
       AND stored.clicks OPERATOR(pg_catalog.>=) recomputed.clicks
       AND @extschema@.latest_value_holds(stored.reason, recomputed.reason, kept_since)
       AND @extschema@.latest_value_holds(stored.smtp_status, recomputed.smtp_status, kept_since)
       AND @extschema@.latest_value_holds(stored.bounce_classification, recomputed.bounce_classification, kept_since)
       AND @extschema@.latest_value_holds(stored.custom_args, recomputed.custom_args, kept_since)
       AND @extschema@.category_set_merge(stored.categories, recomputed.categories) IS NOT DISTINCT FROM stored.categories
       AND @extschema@.activity_subtract(recomputed.activity, stored.activity) IS NULL
       AND NOT EXISTS (SELECT FROM @extschema@.activity_days(@extschema@.activity_subtract(stored.activity, recomputed.activity)) AS a
                        WHERE a.day::timestamp AT TIME ZONE 'UTC' OPERATOR(pg_catalog.>=) kept_since);
END;
COMMENT ON FUNCTION @extschema@.recipient_state_holds(@extschema@.recipient, @extschema@.recipient, timestamptz) IS
    'Whether a stored recipient row agrees with its recomputation from the events since kept_since and every send: what those decide equal, the rest only what earlier events can add';
REVOKE ALL ON FUNCTION @extschema@.recipient_state_holds(@extschema@.recipient, @extschema@.recipient, timestamptz) FROM PUBLIC;

-- Every state row that differs from its recomputation, with both versions as text: after
-- retries, permutations, concurrent batches and retention it lists none. The window of kept
-- events starts at drop_event_partitions' boundary or at the oldest monthly partition,
-- whichever is later (events_kept_since: pg_partman's retention drops partitions without
-- telling mailstatus). A
-- row whose events all lie in the window equals its recomputation; one with events before it
-- holds what the rules above say (each value the kept events decide is theirs); one whose
-- events are all gone holds only times before the window. forget_recipients' cut-off: the
-- recipients it forgot are left out, and so are a recipient's events on the closed days
-- before its state's first day (one forgotten, then seen again: those events are forgotten,
-- even once a later cut-off closed the days it came back on); the
-- days up to the cut-off's count every forgotten recipient, so they hold at least what the
-- recipients kept make.
CREATE FUNCTION @extschema@.state_differences()
    RETURNS TABLE (state text, key text, stored text, recomputed text)
    LANGUAGE plpgsql STABLE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    SET TimeZone = 'UTC' AS $$
DECLARE
    window_start timestamptz := mailstatus.events_kept_since();
    forgotten_before timestamptz := COALESCE((SELECT r.forgotten_before FROM mailstatus.recipient_retention r), '-infinity');
    -- The days up to forgotten_before's count forgotten recipients; the first one after them.
    first_full_day date := (forgotten_before AT TIME ZONE 'UTC')::date OPERATOR(pg_catalog.+) 1;
    closed_until timestamptz := first_full_day::timestamp AT TIME ZONE 'UTC';
    -- The recipients async bounces are attributed to, and the first day of each one's state.
    async_messages text[];
    async_emails text[];
    async_first_days timestamptz[];
BEGIN
    SELECT pg_catalog.array_agg(r.message_id), pg_catalog.array_agg(r.email),
           pg_catalog.array_agg(pg_catalog.date_trunc('day', r.first_event_at, 'UTC'))
      INTO async_messages, async_emails, async_first_days
      FROM mailstatus.recipient r
     WHERE r.message_id IN (SELECT v.attributed_message_id FROM mailstatus.event v WHERE v.attributed_message_id IS NOT NULL);
    RETURN QUERY
    SELECT 'recipient', COALESCE(s.message_id, c.message_id) OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) COALESCE(s.email, c.email),
           ROW(s.reached, s.reached_human, s.first_event_at, s.last_event_at, s.opens, s.machine_opens, s.clicks,
               s.reason, s.smtp_status, s.bounce_classification, s.custom_args, s.categories, s.activity)::text,
           ROW(c.reached, c.reached_human, c.first_event_at, c.last_event_at, c.opens, c.machine_opens, c.clicks,
               c.reason, c.smtp_status, c.bounce_classification, c.custom_args, c.categories, c.activity)::text
      FROM mailstatus.recipient s
      FULL JOIN (SELECT p.*
                   FROM (SELECT COALESCE(e.message_id, d.message_id) AS message_id, e.events, d.sends
                           FROM (SELECT COALESCE(v.attributed_message_id, v.message_id) AS message_id,
                                        pg_catalog.array_agg(ROW(v.*)::mailstatus.event) AS events
                                   -- The events of each recipient's state still kept: all, but its
                                   -- events on closed days before its state's first day (a recipient
                                   -- forgotten, then seen again: they were forgotten with it; ingest
                                   -- stores none there since). An async bounce's recipient is not
                                   -- its row's (Citus joins distributed tables only on their
                                   -- distribution columns): its first day is read beforehand.
                                   FROM (SELECT v.* FROM mailstatus.event v
                                           LEFT JOIN mailstatus.recipient r
                                             ON r.message_id OPERATOR(pg_catalog.=) v.message_id AND r.email OPERATOR(pg_catalog.=) v.email
                                          WHERE v.attributed_message_id IS NULL
                                            AND (v.occurred_at OPERATOR(pg_catalog.>=) closed_until OR r.message_id IS NULL
                                                 OR v.occurred_at OPERATOR(pg_catalog.>=) pg_catalog.date_trunc('day', r.first_event_at, 'UTC'))
                                         UNION ALL
                                         SELECT v.* FROM mailstatus.event v
                                          WHERE v.attributed_message_id IS NOT NULL
                                            AND (v.occurred_at OPERATOR(pg_catalog.>=) closed_until
                                                 OR NOT mailstatus.before_first_state_day(v.attributed_message_id, v.email, v.occurred_at,
                                                                                          async_messages, async_emails, async_first_days))) AS v
                                  GROUP BY 1) AS e
                           FULL JOIN (SELECT v.message_id, pg_catalog.array_agg(v) AS sends FROM mailstatus.send v GROUP BY v.message_id) AS d
                             ON d.message_id OPERATOR(pg_catalog.=) e.message_id) AS m
                  CROSS JOIN LATERAL mailstatus.recipient_partials(COALESCE(m.events, '{}'), COALESCE(m.sends, '{}')) AS p) AS c
        ON c.message_id OPERATOR(pg_catalog.=) s.message_id AND c.email OPERATOR(pg_catalog.=) s.email
     WHERE CASE
           -- Forgotten (forget_recipients), or damage.
           WHEN s.message_id IS NULL THEN c.last_event_at OPERATOR(pg_catalog.>=) forgotten_before
           -- Every event gone, or damage.
           WHEN c.message_id IS NULL THEN s.last_event_at OPERATOR(pg_catalog.>=) window_start
           WHEN s.first_event_at OPERATOR(pg_catalog.>=) window_start THEN
                ROW(s.reached, s.reached_human, s.first_event_at, s.last_event_at, s.opens, s.machine_opens, s.clicks,
                    s.reason::text, s.smtp_status::text, s.bounce_classification::text, s.custom_args::text,
                    s.categories, s.activity::text)
                IS DISTINCT FROM
                ROW(c.reached, c.reached_human, c.first_event_at, c.last_event_at, c.opens, c.machine_opens, c.clicks,
                    c.reason::text, c.smtp_status::text, c.bounce_classification::text, c.custom_args::text,
                    c.categories, c.activity::text)
           ELSE NOT mailstatus.recipient_state_holds(ROW(s.*)::mailstatus.recipient, ROW(c.*)::mailstatus.recipient, window_start)
           END;

    RETURN QUERY
    SELECT 'suppression_state', COALESCE(s.email, c.email),
           ROW(s.decision, s.failure, s.delivered_at)::text,
           ROW(c.decision, c.failure, c.delivered_at)::text
      FROM mailstatus.suppression_state s
      FULL JOIN mailstatus.recomputed_suppression_state c ON c.email OPERATOR(pg_catalog.=) s.email
     WHERE NOT (mailstatus.latest_value_holds(s.decision, c.decision, window_start)
                AND mailstatus.latest_value_holds(s.failure, c.failure, window_start)
                AND mailstatus.latest_time_holds(s.delivered_at, c.delivered_at, window_start));

    RETURN QUERY
    SELECT 'group_suppression_state', COALESCE(s.email, c.email) OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) COALESCE(s.asm_group_id, c.asm_group_id),
           ROW(s.unsubscribe, s.resubscribed_at)::text,
           ROW(c.unsubscribe, c.resubscribed_at)::text
      FROM mailstatus.group_suppression_state s
      FULL JOIN mailstatus.recomputed_group_suppression_state c
        ON c.email OPERATOR(pg_catalog.=) s.email AND c.asm_group_id OPERATOR(pg_catalog.=) s.asm_group_id
     WHERE NOT (mailstatus.latest_value_holds(s.unsubscribe, c.unsubscribe, window_start)
                AND mailstatus.latest_time_holds(s.resubscribed_at, c.resubscribed_at, window_start));

    RETURN QUERY
    SELECT 'recipient_custom_args', c.message_id OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) c.email
               OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) c.custom_args::text, NULL::text, 'missing'
      FROM (SELECT DISTINCT a.message_id, a.email, pg_catalog.jsonb_hash_extended(a.custom_args, 0) AS args_hash, a.custom_args
              FROM (SELECT COALESCE(v.attributed_message_id, v.message_id) AS message_id, v.email, v.custom_args
                      -- The events of the recipients kept, as the recipient check reads
                      -- them: forget_recipients forgets a recipient's custom args with it.
                      FROM (SELECT v.* FROM mailstatus.event v
                              JOIN mailstatus.recipient r
                                ON r.message_id OPERATOR(pg_catalog.=) v.message_id AND r.email OPERATOR(pg_catalog.=) v.email
                             WHERE v.attributed_message_id IS NULL
                               AND (v.occurred_at OPERATOR(pg_catalog.>=) closed_until
                                    OR v.occurred_at OPERATOR(pg_catalog.>=) pg_catalog.date_trunc('day', r.first_event_at, 'UTC'))
                            UNION ALL
                            SELECT v.* FROM mailstatus.event v
                             WHERE v.attributed_message_id IS NOT NULL
                               AND (v.occurred_at OPERATOR(pg_catalog.>=) closed_until
                                    OR NOT mailstatus.before_first_state_day(v.attributed_message_id, v.email, v.occurred_at,
                                                                             async_messages, async_emails, async_first_days))) AS v
                     WHERE v.custom_args IS NOT NULL
                    UNION ALL
                    SELECT v.message_id, v.email, v.custom_args FROM mailstatus.send v
                     WHERE v.custom_args OPERATOR(pg_catalog.<>) '{}'::jsonb) AS a) AS c
      LEFT JOIN mailstatus.recipient_custom_args a
        ON a.message_id OPERATOR(pg_catalog.=) c.message_id AND a.email OPERATOR(pg_catalog.=) c.email
       AND a.args_hash OPERATOR(pg_catalog.=) c.args_hash
     WHERE a.message_id IS NULL
       AND (c.message_id, c.email) IN (SELECT r.message_id, r.email FROM mailstatus.recipient r);

    RETURN QUERY
    SELECT 'deliverability_day', COALESCE(s.day, c.day)::text, ROW(s.*)::text, ROW(c.*)::text
      FROM (SELECT * FROM mailstatus.deliverability_day d
             WHERE (d.sent, d.delivered, d.bounced, d.blocked, d.dropped, d.deferred, d.spam_reports,
                    d.unique_human_opens, d.machine_opens, d.clicks) IS DISTINCT FROM (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)) AS s
      FULL JOIN mailstatus.recomputed_deliverability_day c ON c.day OPERATOR(pg_catalog.=) s.day
     WHERE CASE WHEN COALESCE(s.day, c.day) OPERATOR(pg_catalog.>=) first_full_day THEN ROW(s.*) IS DISTINCT FROM ROW(c.*)
                ELSE NOT mailstatus.counts_at_least(pg_catalog.to_jsonb(s), pg_catalog.to_jsonb(c)) END;

    RETURN QUERY
    SELECT 'deliverability_category_day', COALESCE(s.day, c.day)::text OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) COALESCE(s.category, c.category, '(none)'),
           ROW(s.*)::text, ROW(c.*)::text
      FROM (SELECT * FROM mailstatus.deliverability_category_day d
             WHERE (d.sent, d.delivered, d.bounced, d.blocked, d.dropped, d.deferred, d.spam_reports,
                    d.unique_human_opens, d.machine_opens, d.clicks) IS DISTINCT FROM (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)) AS s
      FULL JOIN mailstatus.recomputed_deliverability_category_day c
        ON c.day OPERATOR(pg_catalog.=) s.day AND c.category IS NOT DISTINCT FROM s.category
     WHERE CASE WHEN COALESCE(s.day, c.day) OPERATOR(pg_catalog.>=) first_full_day THEN ROW(s.*) IS DISTINCT FROM ROW(c.*)
                ELSE NOT mailstatus.counts_at_least(pg_catalog.to_jsonb(s), pg_catalog.to_jsonb(c)) END;

    RETURN QUERY
    SELECT 'recipient_count_by_status', COALESCE(s.machine_opens_counted, c.machine_opens_counted)::text OPERATOR(pg_catalog.||) ' '
                          OPERATOR(pg_catalog.||) COALESCE(s.status::text, c.status::text, '(none)'),
           s.recipients::text, c.recipients::text
      FROM (SELECT * FROM mailstatus.recipient_count_by_status t WHERE t.recipients OPERATOR(pg_catalog.<>) 0) AS s
      FULL JOIN mailstatus.recomputed_recipient_count_by_status c
        ON c.machine_opens_counted OPERATOR(pg_catalog.=) s.machine_opens_counted AND c.status::text IS NOT DISTINCT FROM s.status::text
     WHERE s.recipients IS DISTINCT FROM c.recipients;
END $$;
COMMENT ON FUNCTION @extschema@.state_differences() IS
    'Each state row that differs from its recomputation over the raw rows still kept (both as text); none when the state is right';
REVOKE ALL ON FUNCTION @extschema@.state_differences() FROM PUBLIC;

-----------------------------------------------------------------------------
