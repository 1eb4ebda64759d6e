-- Status views, read from the state.
-----------------------------------------------------------------------------

-- The state the session's setting picks is written out in each column, not taken from a
-- LATERAL subquery: Citus pushes down no FROM-less subquery that calls a STABLE function.
CREATE VIEW @extschema@.recipient_status AS
SELECT r.message_id,
       r.email,
       @extschema@.status_reached_status(CASE WHEN @extschema@.machine_opens_counted() THEN r.reached ELSE r.reached_human END) AS status,
       @extschema@.mail_status_label(@extschema@.status_reached_status(
           CASE WHEN @extschema@.machine_opens_counted() THEN r.reached ELSE r.reached_human END)) AS status_label,
       @extschema@.mail_status_reached_at_final(CASE WHEN @extschema@.machine_opens_counted() THEN r.reached ELSE r.reached_human END) AS status_at,
       r.first_event_at,
       r.last_event_at,
       r.opens::bigint AS opens,
       r.machine_opens::bigint AS machine_opens,
       r.clicks::bigint AS clicks,
       @extschema@.timed_value_text(r.reason) AS reason,
       @extschema@.timed_value_text(r.smtp_status) AS smtp_status,
       @extschema@.timed_value_text(r.bounce_classification) AS bounce_classification,
       @extschema@.timed_value_jsonb(r.custom_args) AS custom_args
  FROM @extschema@.recipient r;
COMMENT ON VIEW @extschema@.recipient_status IS
    'One row per (message_id, email): the status the CRM shows, read from the recipient state; message_id '''' gathers an address''s events that named no message';

CREATE VIEW @extschema@.message_status AS
SELECT r.message_id,
       pg_catalog.count(*)::integer AS recipients,
       @extschema@.mail_status_agg(r.status) AS status,
       @extschema@.mail_status_label(@extschema@.mail_status_agg(r.status)) AS status_label,
       pg_catalog.min(r.first_event_at) AS first_event_at,
       pg_catalog.max(r.last_event_at) AS last_event_at,
       pg_catalog.count(*) FILTER (WHERE r.status OPERATOR(@extschema@.=) 'sent')::integer AS sent,
       pg_catalog.count(*) FILTER (WHERE r.status OPERATOR(@extschema@.=) 'deferred')::integer AS deferred,
       pg_catalog.count(*) FILTER (WHERE r.status OPERATOR(@extschema@.=) 'delivered')::integer AS delivered,
       pg_catalog.count(*) FILTER (WHERE r.status OPERATOR(@extschema@.=) 'opened')::integer AS opened,
       pg_catalog.count(*) FILTER (WHERE r.status OPERATOR(@extschema@.=) 'clicked')::integer AS clicked,
       pg_catalog.count(*) FILTER (WHERE r.status OPERATOR(@extschema@.=) 'unsubscribed')::integer AS unsubscribed,
       pg_catalog.count(*) FILTER (WHERE r.status OPERATOR(@extschema@.=) 'spam_report')::integer AS spam_report,
       pg_catalog.count(*) FILTER (WHERE r.status OPERATOR(@extschema@.=) 'bounced')::integer AS bounced,
       pg_catalog.count(*) FILTER (WHERE r.status OPERATOR(@extschema@.=) 'dropped')::integer AS dropped,
       pg_catalog.count(*) FILTER (WHERE r.status IS NULL)::integer AS unknown
  FROM @extschema@.recipient_status r
 WHERE r.message_id OPERATOR(pg_catalog.<>) ''
 GROUP BY r.message_id;
COMMENT ON VIEW @extschema@.message_status IS
    'One row per X-Message-Id: its recipients, the overall status (highest precedence among them) and how many recipients are at each status';

CREATE VIEW @extschema@.status_counts AS
SELECT s.status, @extschema@.mail_status_label(s.status) AS status_label, s.recipients
  FROM @extschema@.recipient_count_by_status s
 WHERE s.machine_opens_counted OPERATOR(pg_catalog.=) @extschema@.machine_opens_counted()
   AND s.recipients OPERATOR(pg_catalog.<>) 0;
COMMENT ON VIEW @extschema@.status_counts IS
    'How many recipients are at each status (the roll-up of recipient_status), maintained at ingest: it reads a row per status';

CREATE FUNCTION @extschema@.recipient_status_for(custom_args jsonb)
    RETURNS SETOF @extschema@.recipient_status
    LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    messages text[];
BEGIN
    -- The messages first (by the GIN index), then their recipients (by the primary key).
    messages := ARRAY(SELECT DISTINCT a.message_id FROM mailstatus.recipient_custom_args a
                       WHERE a.custom_args OPERATOR(pg_catalog.@>) recipient_status_for.custom_args
                         AND a.message_id OPERATOR(pg_catalog.<>) '');
    RETURN QUERY
        SELECT r.* FROM mailstatus.recipient_status r
         WHERE r.message_id OPERATOR(pg_catalog.=) ANY (messages)
         ORDER BY r.message_id, r.email;
END $$;
COMMENT ON FUNCTION @extschema@.recipient_status_for(jsonb) IS
    'Statuses of every recipient of the messages whose custom args contain the given ones: one CRM record''s emails';
REVOKE ALL ON FUNCTION @extschema@.recipient_status_for(jsonb) FROM PUBLIC;

-- One recipient's timeline, for the person reading the CRM: its send and its events as they
-- are kept, found by the event table's key (message_id, occurred_at) between the recipient's
-- first and last event (and, under message_id '', the async bounces attributed to it).
-- Retention drops months of events but never the state: when the state counts more than the
-- kept rows recompute (recipient_partials), a row says where they were dropped.
CREATE FUNCTION @extschema@.recipient_events(message_id text, email text)
    RETURNS TABLE (occurred_at timestamptz, source text, event text, status @extschema@.mail_status, url text,
                   reason text, smtp_status text, response text, attempt integer, bounce_type text,
                   bounce_classification text, machine_open boolean, useragent text, note text)
    LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp ROWS 10 AS $$
DECLARE
    address text := mailstatus.normalize_email(recipient_events.email);
    stored mailstatus.recipient;
    events mailstatus.event[];
    sends mailstatus.send[];
    dropped boolean;
BEGIN
    SELECT r.* INTO stored FROM mailstatus.recipient r
     WHERE r.message_id OPERATOR(pg_catalog.=) recipient_events.message_id AND r.email OPERATOR(pg_catalog.=) address;
    IF stored.message_id IS NULL THEN
        RETURN;
    END IF;
    -- Rows as ROW(x.*)::type and gathered by array_agg, not ARRAY(subquery): Citus runs these
    -- on a shard, whose row type is not the table's, and cannot plan the sub-select there.
    SELECT pg_catalog.array_agg(k.e) INTO events
      FROM (SELECT ROW(e.*)::mailstatus.event AS e FROM mailstatus.event e
             WHERE e.message_id OPERATOR(pg_catalog.=) recipient_events.message_id
               AND e.occurred_at OPERATOR(pg_catalog.>=) stored.first_event_at
               AND e.occurred_at OPERATOR(pg_catalog.<=) stored.last_event_at
               AND e.email OPERATOR(pg_catalog.=) address AND e.attributed_message_id IS NULL
            UNION ALL
            SELECT ROW(e.*)::mailstatus.event FROM mailstatus.event e
             WHERE recipient_events.message_id OPERATOR(pg_catalog.<>) ''
               AND e.message_id OPERATOR(pg_catalog.=) ''
               AND e.occurred_at OPERATOR(pg_catalog.>=) stored.first_event_at
               AND e.occurred_at OPERATOR(pg_catalog.<=) stored.last_event_at
               AND e.email OPERATOR(pg_catalog.=) address
               AND e.attributed_message_id OPERATOR(pg_catalog.=) recipient_events.message_id) AS k;
    events := COALESCE(events, '{}');
    SELECT COALESCE(pg_catalog.array_agg(ROW(s.*)::mailstatus.send), '{}') INTO sends FROM mailstatus.send s
     WHERE s.message_id OPERATOR(pg_catalog.=) recipient_events.message_id AND s.email OPERATOR(pg_catalog.=) address;
    -- What the kept rows make, against the state: any difference is events no longer kept.
    dropped := NOT EXISTS (
        SELECT FROM mailstatus.recipient_partials(events, sends) AS p
         WHERE ROW(p.reached, p.reached_human, p.first_event_at, p.last_event_at, p.opens, p.machine_opens, p.clicks,
                   p.reason::text, p.smtp_status::text, p.bounce_classification::text, p.custom_args::text,
                   p.categories, p.activity::text)
               IS NOT DISTINCT FROM
               ROW(stored.reached, stored.reached_human, stored.first_event_at, stored.last_event_at, stored.opens,
                   stored.machine_opens, stored.clicks, stored.reason::text, stored.smtp_status::text,
                   stored.bounce_classification::text, stored.custom_args::text, stored.categories, stored.activity::text));
    RETURN QUERY
    SELECT t.occurred_at, t.source, t.event, t.status, t.url, t.reason, t.smtp_status, t.response, t.attempt, t.bounce_type,
           t.bounce_classification, t.machine_open, t.useragent, t.note
      FROM (SELECT e.occurred_at, 'sendgrid'::text AS source, e.event, mailstatus.mail_status_of_event(e.event) AS status,
                   e.url, e.reason, e.smtp_status, e.response, e.attempt, e.bounce_type, e.bounce_classification,
                   e.machine_open, e.useragent, NULL::text AS note, 1 AS place, e.content_hash
              FROM pg_catalog.unnest(events) AS e
            UNION ALL
            SELECT s.sent_at, 'crm', 'send', 'sent', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1, NULL
              FROM pg_catalog.unnest(sends) AS s
            UNION ALL
            -- Retention drops the oldest months: the row sits where the kept events start (before
            -- the first kept event, which the default partition may hold from before that).
            SELECT LEAST(GREATEST(stored.first_event_at, mailstatus.events_kept_since()),
                         (SELECT pg_catalog.min(e.occurred_at) FROM pg_catalog.unnest(events) AS e)),
                   'retention', NULL, NULL, NULL, NULL, NULL,
                   NULL, NULL, NULL, NULL, NULL, NULL,
                   'older events are no longer kept (retention dropped them): they are not listed, but the status counts them',
                   0, NULL
             WHERE dropped) AS t
     ORDER BY t.occurred_at, t.place, t.source, t.event, t.content_hash;
END $$;
COMMENT ON FUNCTION @extschema@.recipient_events(text, text) IS
    'One recipient''s timeline in time order: the CRM''s send and each of SendGrid''s events still kept (event, status, URL, reason, SMTP status, server response, attempt, bounce type and classification, machine open, user agent), and a row (source retention, with a note) where older events were dropped by retention; nothing for an unknown or forgotten recipient';
REVOKE ALL ON FUNCTION @extschema@.recipient_events(text, text) FROM PUBLIC;

-----------------------------------------------------------------------------
