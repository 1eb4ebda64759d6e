-- Deliverability.
-----------------------------------------------------------------------------

-- Rates and day range shared by every dimension. A day is in [since, until) when any part
-- of it is.
CREATE FUNCTION @extschema@.deliverability_daily_by(dimension text,
                                                    since timestamptz DEFAULT NULL,
                                                    until timestamptz DEFAULT NULL)
    RETURNS TABLE (day date, value text, sent bigint, delivered bigint, bounced bigint, blocked bigint,
                   dropped bigint, deferred bigint, spam_reports bigint, unique_human_opens bigint,
                   machine_opens bigint, clicks bigint, bounce_rate numeric, spam_report_rate numeric,
                   delivery_rate numeric)
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    first_day date := (since AT TIME ZONE 'UTC')::date;
BEGIN
    RETURN QUERY
    SELECT c.day, c.value, c.sent, c.delivered, c.bounced, c.blocked, c.dropped, c.deferred, c.spam_reports,
           c.unique_human_opens, c.machine_opens, c.clicks,
           pg_catalog.round((c.bounced OPERATOR(pg_catalog.+) c.blocked)::numeric OPERATOR(pg_catalog./) NULLIF(c.sent, 0), 4),
           pg_catalog.round(c.spam_reports::numeric OPERATOR(pg_catalog./) NULLIF(c.delivered, 0), 4),
           pg_catalog.round(c.delivered::numeric OPERATOR(pg_catalog./) NULLIF(c.sent, 0), 4)
      FROM (SELECT d.day, NULL::text AS value, d.sent, d.delivered, d.bounced, d.blocked, d.dropped, d.deferred,
                   d.spam_reports, d.unique_human_opens, d.machine_opens, d.clicks
              FROM mailstatus.deliverability_day d
             WHERE dimension IS NULL
            UNION ALL
            SELECT d.day, d.category, d.sent, d.delivered, d.bounced, d.blocked, d.dropped, d.deferred,
                   d.spam_reports, d.unique_human_opens, d.machine_opens, d.clicks
              FROM mailstatus.deliverability_category_day d
             WHERE dimension OPERATOR(pg_catalog.=) 'category'
               AND (d.sent, d.delivered, d.bounced, d.blocked, d.dropped, d.deferred, d.spam_reports,
                    d.unique_human_opens, d.machine_opens, d.clicks) IS DISTINCT FROM (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            UNION ALL
            -- Any other custom arg: from the recipients' state, a row per recipient.
            SELECT a.day, mailstatus.timed_value_jsonb(r.custom_args) OPERATOR(pg_catalog.->>) dimension,
                   pg_catalog.count(*) FILTER (WHERE a.processed), pg_catalog.count(*) FILTER (WHERE a.delivered),
                   pg_catalog.count(*) FILTER (WHERE a.bounced), pg_catalog.count(*) FILTER (WHERE a.blocked),
                   pg_catalog.count(*) FILTER (WHERE a.dropped), pg_catalog.count(*) FILTER (WHERE a.deferred),
                   pg_catalog.count(*) FILTER (WHERE a.spam_reported), pg_catalog.count(*) FILTER (WHERE a.opened_by_human),
                   pg_catalog.sum(a.machine_opens)::bigint, pg_catalog.sum(a.clicks)::bigint
              FROM mailstatus.recipient r, mailstatus.activity_days(r.activity) AS a
             WHERE dimension OPERATOR(pg_catalog.<>) 'category'
               AND (since IS NULL OR r.last_event_at OPERATOR(pg_catalog.>=) first_day::timestamp AT TIME ZONE 'UTC')
             GROUP BY 1, 2) AS c
     WHERE (since IS NULL OR c.day OPERATOR(pg_catalog.>=) first_day)
       AND (until IS NULL OR c.day::timestamp AT TIME ZONE 'UTC' OPERATOR(pg_catalog.<) until);
END $$;
-- Like the views, it reads the state with the owner's rights: whom to show the figures to
-- is granted on it (and on the deliverability_daily view, which calls it).
REVOKE ALL ON FUNCTION @extschema@.deliverability_daily_by(text, timestamptz, timestamptz) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.deliverability_daily_by(text, timestamptz, timestamptz) IS
    'Deliverability per UTC day and value of a dimension: ''category'' (a recipient counts under each of its categories) or the name of a custom arg (the recipient''s latest custom args); NULL for the whole day. Only the days of [since, until) when given';

CREATE VIEW @extschema@.deliverability_daily AS
SELECT d.day, d.sent, d.delivered, d.bounced, d.blocked, d.dropped, d.deferred, d.spam_reports,
       d.unique_human_opens, d.machine_opens, d.clicks, d.bounce_rate, d.spam_report_rate, d.delivery_rate
  FROM @extschema@.deliverability_daily_by(NULL) AS d;
COMMENT ON VIEW @extschema@.deliverability_daily IS
    'Per UTC day: recipients sent, delivered, bounced, blocked, dropped, deferred, spam reports, unique human opens, machine opens, clicks, and the bounce, spam-report and delivery rates';

-----------------------------------------------------------------------------
