-- Deliverability.
-----------------------------------------------------------------------------

-- What one recipient counts in the figures: everything on its send day (its first send or
-- processed; without either, its first event), so that a day's figures are those of the mail
-- handed off that day and every rate's numerator is a part of its denominator.
CREATE FUNCTION @extschema@.activity_figures(@extschema@.activity)
    RETURNS SETOF @extschema@.deliverability_day
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1;
COMMENT ON FUNCTION @extschema@.activity_figures(@extschema@.activity) IS
    'What a recipient''s activity counts in deliverability_day: one row on its send day (the first day of its send or processed, else its first day with an event), counting it sent; delivered when it has a delivery, an open, a click or a spam report; bounced, blocked (only without a bounce), dropped, deferred, reported as spam, opened by a human when it was, whenever; its machine opens and clicks summed. No row for an activity without events';

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
               -- (a day whose recipients all moved to an earlier send day keeps a row of zeros)
               AND (d.sent, d.delivered, d.bounced, d.blocked, d.dropped, d.deferred, d.spam_reports,
                    d.unique_human_opens, d.machine_opens, d.clicks) IS DISTINCT FROM (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            UNION ALL
            SELECT d.day, d.category, d.sent, d.delivered, d.bounced, d.blocked, d.dropped, d.deferred,
                   d.spam_reports, d.unique_human_opens, d.machine_opens, d.clicks
              FROM mailstatus.deliverability_category_day d
             WHERE dimension OPERATOR(pg_catalog.=) 'category'
               AND (d.sent, d.delivered, d.bounced, d.blocked, d.dropped, d.deferred, d.spam_reports,
                    d.unique_human_opens, d.machine_opens, d.clicks) IS DISTINCT FROM (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            UNION ALL
            -- Any other custom arg: from the recipients' state, a row per recipient.
            SELECT f.day, mailstatus.timed_value_jsonb(r.custom_args) OPERATOR(pg_catalog.->>) dimension,
                   pg_catalog.sum(f.sent)::bigint, pg_catalog.sum(f.delivered)::bigint,
                   pg_catalog.sum(f.bounced)::bigint, pg_catalog.sum(f.blocked)::bigint,
                   pg_catalog.sum(f.dropped)::bigint, pg_catalog.sum(f.deferred)::bigint,
                   pg_catalog.sum(f.spam_reports)::bigint, pg_catalog.sum(f.unique_human_opens)::bigint,
                   pg_catalog.sum(f.machine_opens)::bigint, pg_catalog.sum(f.clicks)::bigint
              FROM mailstatus.recipient r, mailstatus.activity_figures(r.activity) AS f
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
