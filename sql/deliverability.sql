-- Deliverability per day: counts of recipients, opens and clicks, and the rates a sender watches.
SET search_path = mailstatus, public;
SET datestyle = 'ISO, YMD';
TRUNCATE event, rejected_event, send;
SELECT stored FROM ingest_sendgrid_event($$[
  {"email":"a@example.com","timestamp":1700000000,"event":"processed","sg_event_id":"d1","sg_message_id":"D1.filter.0"},
  {"email":"a@example.com","timestamp":1700000060,"event":"delivered","sg_event_id":"d2","sg_message_id":"D1.filter.0"},
  {"email":"a@example.com","timestamp":1700000100,"event":"open","sg_event_id":"d3","sg_message_id":"D1.filter.0"},
  {"email":"a@example.com","timestamp":1700000200,"event":"open","sg_event_id":"d4","sg_message_id":"D1.filter.0"},
  {"email":"a@example.com","timestamp":1700000300,"event":"click","sg_event_id":"d5","sg_message_id":"D1.filter.0"},
  {"email":"b@example.com","timestamp":1700000000,"event":"processed","sg_event_id":"d6","sg_message_id":"D1.filter.1"},
  {"email":"b@example.com","timestamp":1700000010,"event":"deferred","sg_event_id":"d7","sg_message_id":"D1.filter.1"},
  {"email":"b@example.com","timestamp":1700000020,"event":"deferred","sg_event_id":"d8","sg_message_id":"D1.filter.1"},
  {"email":"b@example.com","timestamp":1700000060,"event":"delivered","sg_event_id":"d9","sg_message_id":"D1.filter.1"},
  {"email":"b@example.com","timestamp":1700000070,"event":"open","sg_machine_open":true,"sg_event_id":"d10","sg_message_id":"D1.filter.1"},
  {"email":"b@example.com","timestamp":1700000400,"event":"spamreport","sg_event_id":"d11","sg_message_id":"D1.filter.1"},
  {"email":"c@example.com","timestamp":1700000000,"event":"processed","sg_event_id":"d12","sg_message_id":"D1.filter.2"},
  {"email":"c@example.com","timestamp":1700000005,"event":"bounce","type":"bounce","sg_event_id":"d13","sg_message_id":"D1.filter.2"},
  {"email":"d@example.com","timestamp":1700000000,"event":"processed","sg_event_id":"d14","sg_message_id":"D1.filter.3"},
  {"email":"d@example.com","timestamp":1700000005,"event":"bounce","type":"blocked","sg_event_id":"d15","sg_message_id":"D1.filter.3"},
  {"email":"e@example.com","timestamp":1700000000,"event":"dropped","sg_event_id":"d16","sg_message_id":"D1.filter.4"},
  {"email":"a@example.com","timestamp":1700090000,"event":"open","sg_event_id":"d17","sg_message_id":"D1.filter.0"}
]$$);
-- Categories and custom args on the events (SendGrid repeats them on every event of a message).
UPDATE event SET category = CASE WHEN email IN ('a@example.com', 'b@example.com') THEN '{invoice,reminder}'::text[]
                                 WHEN email = 'c@example.com' THEN '{quote}'::text[] END,
                 custom_args = CASE WHEN email IN ('a@example.com', 'c@example.com') THEN '{"branch":"north"}'::jsonb
                                    WHEN email = 'b@example.com' THEN '{"branch":"south"}'::jsonb ELSE '{}'::jsonb END;
SELECT * FROM deliverability_daily ORDER BY day;
-- Per category: a recipient counts under each of its categories; one without any under NULL.
SELECT * FROM deliverability_daily_by('category') ORDER BY day, value;
-- Per value of a custom arg; recipients without it under NULL.
SELECT day, value, sent, delivered, bounced, blocked, dropped, spam_reports, unique_human_opens, clicks
  FROM deliverability_daily_by('branch') ORDER BY day, value;
-- A time range: only those events (and, partitioned, only those months are read).
SELECT day, sent, delivered, unique_human_opens FROM deliverability_daily_by(NULL, '2023-11-15', '2023-11-16');
-- The whole-day view is the NULL dimension.
SELECT (SELECT count(*) FROM (SELECT * FROM deliverability_daily EXCEPT
        SELECT day, sent, delivered, bounced, blocked, dropped, deferred, spam_reports, unique_human_opens,
               machine_opens, clicks, bounce_rate, spam_report_rate, delivery_rate FROM deliverability_daily_by(NULL)) d) AS differences;

-- The plan on 20 000 events: hash aggregations, no sort of the table; the dimensions not asked
-- for are not computed; a time range reads only its months' partitions.
CREATE FUNCTION pg_temp.plan(query text, with_details boolean DEFAULT false) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format('EXPLAIN (COSTS OFF, VERBOSE %s) ', with_details::text) || query;
END $$;
SELECT stored FROM ingest_sendgrid_event((
  SELECT jsonb_agg(jsonb_build_object('email', 'r' || (g % 5000) || '@example.com', 'timestamp', 1700000000 + g * 60,
                                      'event', (ARRAY['processed','delivered','open','click'])[1 + g % 4],
                                      'sg_event_id', 'bulk-' || g, 'sg_message_id', 'Bulk' || (g % 5000) || '.filter.0',
                                      'category', 'bulk', 'branch', 'b' || (g % 7)))
    FROM generate_series(1, 20000) g));
ANALYZE event;
SELECT pg_temp.plan(deliverability_daily_by_query(NULL, NULL, NULL));
SELECT bool_or(line ~ 'latest_value') AS values_computed
  FROM pg_temp.plan(deliverability_daily_by_query(NULL, NULL, NULL), true) AS line;
SELECT bool_or(line ~ 'latest_value') AS values_computed
  FROM pg_temp.plan(deliverability_daily_by_query('branch', NULL, NULL), true) AS line;
SELECT create_event_partitions(0) > 0 AS partitioned;
SELECT pg_temp.plan(deliverability_daily_by_query('category', '2023-11-20', '2023-11-21'));
