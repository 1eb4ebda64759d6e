-- Deliverability per day: counts of recipients, opens and clicks, and the rates a sender watches.
SET search_path = mailstatus, public;
SET datestyle = 'ISO, YMD';
TRUNCATE event, rejected_event, send, recipient, suppression_state, group_suppression_state, message_custom_args,
         deliverability_day, deliverability_category_day, status_count, status_change;
-- Categories and custom args ride on the events (SendGrid repeats them on every event of a message).
SELECT stored FROM ingest_sendgrid_event($$[
  {"email":"a@example.com","timestamp":1700000000,"event":"processed","sg_event_id":"d1","sg_message_id":"D1.filter.0","category":["invoice","reminder"],"branch":"north"},
  {"email":"a@example.com","timestamp":1700000060,"event":"delivered","sg_event_id":"d2","sg_message_id":"D1.filter.0","category":["invoice","reminder"],"branch":"north"},
  {"email":"a@example.com","timestamp":1700000100,"event":"open","sg_event_id":"d3","sg_message_id":"D1.filter.0","category":["invoice","reminder"],"branch":"north"},
  {"email":"a@example.com","timestamp":1700000200,"event":"open","sg_event_id":"d4","sg_message_id":"D1.filter.0","category":["invoice","reminder"],"branch":"north"},
  {"email":"a@example.com","timestamp":1700000300,"event":"click","sg_event_id":"d5","sg_message_id":"D1.filter.0","category":["invoice","reminder"],"branch":"north"},
  {"email":"b@example.com","timestamp":1700000000,"event":"processed","sg_event_id":"d6","sg_message_id":"D1.filter.1","category":["invoice","reminder"],"branch":"south"},
  {"email":"b@example.com","timestamp":1700000010,"event":"deferred","sg_event_id":"d7","sg_message_id":"D1.filter.1","category":["invoice","reminder"],"branch":"south"},
  {"email":"b@example.com","timestamp":1700000020,"event":"deferred","sg_event_id":"d8","sg_message_id":"D1.filter.1","category":["invoice","reminder"],"branch":"south"},
  {"email":"b@example.com","timestamp":1700000060,"event":"delivered","sg_event_id":"d9","sg_message_id":"D1.filter.1","category":["invoice","reminder"],"branch":"south"},
  {"email":"b@example.com","timestamp":1700000070,"event":"open","sg_machine_open":true,"sg_event_id":"d10","sg_message_id":"D1.filter.1","category":["invoice","reminder"],"branch":"south"},
  {"email":"b@example.com","timestamp":1700000400,"event":"spamreport","sg_event_id":"d11","sg_message_id":"D1.filter.1","category":["invoice","reminder"],"branch":"south"},
  {"email":"c@example.com","timestamp":1700000000,"event":"processed","sg_event_id":"d12","sg_message_id":"D1.filter.2","category":"quote","branch":"north"},
  {"email":"c@example.com","timestamp":1700000005,"event":"bounce","type":"bounce","sg_event_id":"d13","sg_message_id":"D1.filter.2","category":"quote","branch":"north"},
  {"email":"d@example.com","timestamp":1700000000,"event":"processed","sg_event_id":"d14","sg_message_id":"D1.filter.3"},
  {"email":"d@example.com","timestamp":1700000005,"event":"bounce","type":"blocked","sg_event_id":"d15","sg_message_id":"D1.filter.3"},
  {"email":"e@example.com","timestamp":1700000000,"event":"dropped","sg_event_id":"d16","sg_message_id":"D1.filter.4"},
  {"email":"a@example.com","timestamp":1700090000,"event":"open","sg_event_id":"d17","sg_message_id":"D1.filter.0","category":["invoice","reminder"],"branch":"north"}
]$$);
SELECT * FROM deliverability_daily ORDER BY day;
-- Per category: a recipient counts under each of its categories; one without any under NULL.
SELECT * FROM deliverability_daily_by('category') ORDER BY day, value;
-- Per value of a custom arg; recipients without it under NULL.
SELECT day, value, sent, delivered, bounced, blocked, dropped, spam_reports, unique_human_opens, clicks
  FROM deliverability_daily_by('branch') ORDER BY day, value;
-- A time range: only those days (any part of the range's days).
SELECT day, sent, delivered, unique_human_opens FROM deliverability_daily_by(NULL, '2023-11-15 00:00-08', '2023-11-16 00:00-08');
SELECT day, value, unique_human_opens FROM deliverability_daily_by('category', '2023-11-15 12:00+00') ORDER BY 1, 2;
SELECT day, value, unique_human_opens FROM deliverability_daily_by('branch', NULL, '2023-11-15 00:00-08') ORDER BY 1, 2;
-- The whole-day view is the NULL dimension.
SELECT (SELECT count(*) FROM (SELECT * FROM deliverability_daily EXCEPT
        SELECT day, sent, delivered, bounced, blocked, dropped, deferred, spam_reports, unique_human_opens,
               machine_opens, clicks, bounce_rate, spam_report_rate, delivery_rate FROM deliverability_daily_by(NULL)) d) AS differences;

-- The counters are the events' counts, recomputed from the raw rows the plain-SQL way.
SELECT (e.occurred_at AT TIME ZONE 'UTC')::date AS day,
       count(DISTINCT (e.message_id, e.email)) FILTER (WHERE e.event = 'processed') AS sent,
       count(DISTINCT (e.message_id, e.email)) FILTER (WHERE e.event = 'delivered') AS delivered,
       count(DISTINCT (e.message_id, e.email)) FILTER (WHERE e.event = 'open' AND e.machine_open IS NOT TRUE) AS unique_human_opens,
       count(*) FILTER (WHERE e.event = 'click') AS clicks
  FROM event e GROUP BY 1 ORDER BY 1;
SELECT * FROM state_differences();

-- A re-posted batch and a late event in another order change nothing but the late event.
SELECT stored, duplicates FROM ingest_sendgrid_event($$[
  {"email":"a@example.com","timestamp":1700090000,"event":"open","sg_event_id":"d17","sg_message_id":"D1.filter.0","category":["invoice","reminder"],"branch":"north"},
  {"email":"b@example.com","timestamp":1700090100,"event":"click","sg_event_id":"d18","sg_message_id":"D1.filter.1","category":["invoice","reminder"],"branch":"south"},
  {"email":"a@example.com","timestamp":1700000000,"event":"processed","sg_event_id":"d1","sg_message_id":"D1.filter.0","category":["invoice","reminder"],"branch":"north"}
]$$);
SELECT day, value, clicks FROM deliverability_daily_by('category') WHERE day = '2023-11-15' ORDER BY 2;

-- Figures are state: the day's counts stay when its events are gone (retention), and are
-- read without the event table.
CREATE TEMP TABLE before_retention AS
SELECT 'day' AS dimension, * FROM deliverability_daily_by(NULL)
UNION ALL SELECT 'category', * FROM deliverability_daily_by('category')
UNION ALL SELECT 'branch', * FROM deliverability_daily_by('branch');
DELETE FROM event;
SELECT count(*) AS differences FROM (
  (SELECT * FROM before_retention
   EXCEPT ALL (SELECT 'day', * FROM deliverability_daily_by(NULL)
               UNION ALL SELECT 'category', * FROM deliverability_daily_by('category')
               UNION ALL SELECT 'branch', * FROM deliverability_daily_by('branch')))
  UNION ALL
  ((SELECT 'day', * FROM deliverability_daily_by(NULL)
    UNION ALL SELECT 'category', * FROM deliverability_daily_by('category')
    UNION ALL SELECT 'branch', * FROM deliverability_daily_by('branch'))
   EXCEPT ALL SELECT * FROM before_retention)) d;

-- A recipient whose category set grows in a later post (issue 19, defect 1): its events
-- without a category first, then one with a category. It leaves the no-category row (0
-- there, not 2^32: the counters once multiplied a signed sign by an unsigned flag) and counts
-- under its category, as when the same events come in one post or the categorized one first.
CREATE FUNCTION pg_temp.by_category_after(posts jsonb[]) RETURNS TABLE (day date, value text, sent bigint, delivered bigint,
                                                                          unique_human_opens bigint, differences bigint)
LANGUAGE plpgsql AS $$
DECLARE
  post jsonb;
BEGIN
  TRUNCATE mailstatus.event, mailstatus.rejected_event, mailstatus.send, mailstatus.recipient, mailstatus.suppression_state,
           mailstatus.group_suppression_state, mailstatus.message_custom_args, mailstatus.deliverability_day,
           mailstatus.deliverability_category_day, mailstatus.status_count, mailstatus.status_change;
  FOREACH post IN ARRAY posts LOOP
    PERFORM mailstatus.ingest_sendgrid_event(post);
  END LOOP;
  RETURN QUERY SELECT d.day, d.value, d.sent, d.delivered, d.unique_human_opens, (SELECT count(*) FROM mailstatus.state_differences())
                 FROM mailstatus.deliverability_daily_by('category') d ORDER BY d.day, d.value;
END $$;
CREATE TEMP TABLE growing AS SELECT
  '[{"email":"g@example.com","timestamp":1700000000,"event":"processed","sg_event_id":"g1","sg_message_id":"G1.filter.0"},
    {"email":"g@example.com","timestamp":1700000060,"event":"delivered","sg_event_id":"g2","sg_message_id":"G1.filter.0"}]'::jsonb AS plain,
  '[{"email":"g@example.com","timestamp":1700000100,"event":"open","sg_event_id":"g3","sg_message_id":"G1.filter.0","category":"invoice"}]'::jsonb AS categorized;
SELECT 'plain, then categorized' AS posts, b.* FROM growing, pg_temp.by_category_after(ARRAY[plain, categorized]) b
UNION ALL
SELECT 'one post', b.* FROM growing, pg_temp.by_category_after(ARRAY[plain || categorized]) b
UNION ALL
SELECT 'categorized, then plain', b.* FROM growing, pg_temp.by_category_after(ARRAY[categorized, plain]) b;
-- The stored no-category row of the first order holds zeros only.
SELECT count(*) AS rows_read FROM growing, pg_temp.by_category_after(ARRAY[plain, categorized]);
SELECT day, category, sent, delivered, unique_human_opens FROM deliverability_category_day ORDER BY day, category;
-- A recipient whose category set grows in a later post: a category new to it takes its whole
-- activity (the days before too), one it had takes what the post adds; as in one post.
CREATE TEMP TABLE grown AS SELECT
  '[{"email":"g@example.com","timestamp":1700000000,"event":"processed","sg_event_id":"h1","sg_message_id":"H1.filter.0","category":"invoice"},
    {"email":"g@example.com","timestamp":1700000060,"event":"delivered","sg_event_id":"h2","sg_message_id":"H1.filter.0","category":"invoice"}]'::jsonb AS first,
  '[{"email":"g@example.com","timestamp":1700090100,"event":"open","sg_event_id":"h3","sg_message_id":"H1.filter.0","category":["invoice","reminder"]}]'::jsonb AS later;
SELECT 'invoice, then invoice and reminder' AS posts, b.* FROM grown, pg_temp.by_category_after(ARRAY[first, later]) b
UNION ALL
SELECT 'one post', b.* FROM grown, pg_temp.by_category_after(ARRAY[first || later]) b
UNION ALL
SELECT 'invoice and reminder, then invoice', b.* FROM grown, pg_temp.by_category_after(ARRAY[later, first]) b;
SELECT day, category, sent, delivered, unique_human_opens FROM deliverability_category_day ORDER BY day, category;

-- Days are UTC days, whatever the session's time zone, when events are posted and when they
-- are read: the same events posted and read in each zone give the same days, ranges of days,
-- partition names and activity as in UTC (a zone east of UTC puts 23:30 UTC on the next
-- local day, one west of it 00:30 UTC on the previous one).
CREATE FUNCTION pg_temp.days_posted_and_read_in(zone text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE mailstatus.event, mailstatus.rejected_event, mailstatus.send, mailstatus.recipient, mailstatus.suppression_state,
           mailstatus.group_suppression_state, mailstatus.message_custom_args, mailstatus.deliverability_day,
           mailstatus.deliverability_category_day, mailstatus.status_count, mailstatus.status_change;
  PERFORM pg_catalog.set_config('timezone', zone, true);
  PERFORM mailstatus.ingest_sendgrid_event('[
    {"email":"z@example.com","timestamp":1700004600,"event":"processed","sg_event_id":"z1","sg_message_id":"Z1.filter.0","category":"invoice","branch":"north"},
    {"email":"z@example.com","timestamp":1700008200,"event":"delivered","sg_event_id":"z2","sg_message_id":"Z1.filter.0","category":"invoice","branch":"north"},
    {"email":"z@example.com","timestamp":1700092799,"event":"open","sg_event_id":"z3","sg_message_id":"Z1.filter.0","category":"invoice","branch":"north"},
    {"email":"z@example.com","timestamp":1700092800,"event":"click","sg_event_id":"z4","sg_message_id":"Z1.filter.0","category":"invoice","branch":"north"}]');
  RETURN concat_ws(E'\n',
    'days: ' || (SELECT string_agg(format('%s %s/%s/%s/%s', d.day, d.sent, d.delivered, d.unique_human_opens, d.clicks), ', ' ORDER BY d.day)
                   FROM mailstatus.deliverability_daily d),
    'by category, 23:30 to 00:30 UTC: ' || (SELECT string_agg(d.day || ' ' || d.value, ', ' ORDER BY d.day)
                   FROM mailstatus.deliverability_daily_by('category', '2023-11-14 23:30+00', '2023-11-15 00:30+00') d),
    'by branch, from 00:00 UTC on the 16th: ' || (SELECT string_agg(d.day || ' ' || d.value, ', ' ORDER BY d.day)
                   FROM mailstatus.deliverability_daily_by('branch', '2023-11-16 00:00+00') d),
    'by branch, until 00:00 UTC on the 15th: ' || (SELECT string_agg(d.day || ' ' || d.value, ', ' ORDER BY d.day)
                   FROM mailstatus.deliverability_daily_by('branch', NULL, '2023-11-15 00:00+00') d),
    'partitions: ' || mailstatus.event_partition_name('2023-11-30 23:30+00') || ' ' || mailstatus.event_partition_name('2023-12-01 00:00+00'),
    'activity: ' || (SELECT r.activity::text FROM mailstatus.recipient r),
    'status at: ' || (SELECT extract(epoch FROM r.status_at) FROM mailstatus.recipient_status r),
    'differences: ' || (SELECT count(*) FROM mailstatus.state_differences()));
END $$;
SELECT pg_temp.days_posted_and_read_in('UTC') AS in_utc;
SELECT zone, pg_temp.days_posted_and_read_in(zone) = pg_temp.days_posted_and_read_in('UTC') AS as_in_utc
  FROM unnest(ARRAY['Asia/Kolkata', 'Pacific/Kiritimati', 'Pacific/Chatham', 'America/St_Johns', 'Pacific/Pago_Pago', 'PST8PDT']) AS zone;
