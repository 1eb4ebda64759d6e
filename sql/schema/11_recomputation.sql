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
-- out, and so are the days and recipients forget_recipients forgot (events_kept_since).
CREATE FUNCTION @extschema@.state_differences()
    RETURNS TABLE (state text, key text, stored text, recomputed text)
    LANGUAGE plpgsql STABLE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    SET TimeZone = 'UTC' AS $$
DECLARE
    window_start timestamptz := mailstatus.events_kept_since();
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
      FROM (SELECT * FROM mailstatus.deliverability_day d
             WHERE (d.sent, d.delivered, d.bounced, d.blocked, d.dropped, d.deferred, d.spam_reports,
                    d.unique_human_opens, d.machine_opens, d.clicks) IS DISTINCT FROM (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)) AS s
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
