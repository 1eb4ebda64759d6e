-- Status views, read from the state.
-----------------------------------------------------------------------------

-- The state the session's setting picks is written out in each column, not taken from a
-- LATERAL subquery: Citus pushes down no FROM-less subquery that calls a STABLE function.
CREATE VIEW @extschema@.recipient_status AS
SELECT r.message_id,
       r.email,
       @extschema@.mail_status_reached_status(CASE WHEN @extschema@.machine_opens_counted() THEN r.reached ELSE r.reached_human END) AS status,
       @extschema@.mail_status_label(@extschema@.mail_status_reached_status(
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
  FROM @extschema@.status_count s
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
    messages := ARRAY(SELECT DISTINCT a.message_id FROM mailstatus.message_custom_args a
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

-----------------------------------------------------------------------------
