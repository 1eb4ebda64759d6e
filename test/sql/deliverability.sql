-- Deliverability per day: counts of recipients, opens and clicks, and the rates a sender watches.
-- Each recipient counts once, on its send day (its send or processed, whichever came first;
-- without either, its first event): a day's figures are what became of the mail handed off
-- that day, and no rate is ever above 1.
SET search_path = mailstatus, public;
SET datestyle = 'ISO, YMD';
\i test/sql/include/helpers.psql
CALL pg_temp.empty_state();
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
  {"email":"a@example.com","timestamp":1700090000,"event":"open","sg_event_id":"d17","sg_message_id":"D1.filter.0","category":["invoice","reminder"],"branch":"north"},
  {"email":"f@example.com","timestamp":1700049600,"event":"processed","sg_event_id":"d19","sg_message_id":"D2.filter.0","category":"invoice","branch":"north"},
  {"email":"f@example.com","timestamp":1700049660,"event":"delivered","sg_event_id":"d20","sg_message_id":"D2.filter.0","category":"invoice","branch":"north"}
]$$);
-- 2023-11-14: a, b, c and d handed off (processed), e dropped (counted sent on its drop: SendGrid
-- took it). a's second-day open counts on its send day. 2023-11-15: f.
SELECT * FROM deliverability_daily ORDER BY day;
-- Per category: a recipient counts under each of its categories; one without any under NULL.
SELECT * FROM deliverability_daily_by('category') ORDER BY day, value;
-- Per value of a custom arg; recipients without it under NULL.
SELECT day, value, sent, delivered, bounced, blocked, dropped, spam_reports, unique_human_opens, clicks
  FROM deliverability_daily_by('branch') ORDER BY day, value;
-- A time range: only those days (any part of the range's days).
SELECT day, sent, delivered, unique_human_opens FROM deliverability_daily_by(NULL, '2023-11-15 00:00-08', '2023-11-16 00:00-08');
SELECT day, value, sent FROM deliverability_daily_by('category', '2023-11-15 12:00+00') ORDER BY 1, 2;
SELECT day, value, sent FROM deliverability_daily_by('branch', NULL, '2023-11-15 00:00-08') ORDER BY 1, 2;
-- The whole-day view is the NULL dimension.
SELECT (SELECT count(*) FROM (SELECT * FROM deliverability_daily EXCEPT
        SELECT day, sent, delivered, bounced, blocked, dropped, deferred, spam_reports, unique_human_opens,
               machine_opens, clicks, bounce_rate, spam_report_rate, delivery_rate FROM deliverability_daily_by(NULL)) d) AS differences;

-- The figures, recomputed from the raw rows the plain-SQL way: per recipient (its events and
-- sends), its send day and what became of it; per send day, the recipients.
CREATE TEMP VIEW plain_recipient AS
SELECT x.message_id, x.email,
       (COALESCE(min(x.at) FILTER (WHERE x.kind IN ('processed', 'send')), min(x.at)) AT TIME ZONE 'UTC')::date AS day,
       bool_or(x.kind IN ('delivered', 'spamreport', 'open', 'click')) AS delivered,
       bool_or(x.kind = 'bounce' AND x.bounce_type IS DISTINCT FROM 'blocked') AS bounced,
       bool_or(x.kind = 'bounce' AND x.bounce_type = 'blocked') AS any_block,
       bool_or(x.kind = 'dropped') AS dropped, bool_or(x.kind = 'deferred') AS deferred,
       bool_or(x.kind = 'spamreport') AS spam_reported, bool_or(x.kind = 'open' AND NOT x.machine_open) AS opened_by_human,
       count(*) FILTER (WHERE x.kind = 'open' AND x.machine_open) AS machine_opens,
       count(*) FILTER (WHERE x.kind = 'click') AS clicks
  FROM (SELECT COALESCE(e.attributed_message_id, e.message_id) AS message_id, e.email, e.event AS kind, e.occurred_at AS at,
               e.bounce_type, COALESCE(e.machine_open, false) AS machine_open
          FROM event e
         WHERE e.event IN ('processed', 'delivered', 'bounce', 'dropped', 'deferred', 'spamreport', 'open', 'click')
        UNION ALL
        SELECT s.message_id, s.email, 'send', s.sent_at, NULL, false FROM send s) AS x
 GROUP BY x.message_id, x.email;
CREATE TEMP VIEW plain_daily AS
SELECT day, count(*) AS sent, count(*) FILTER (WHERE delivered) AS delivered, count(*) FILTER (WHERE bounced) AS bounced,
       count(*) FILTER (WHERE any_block AND NOT bounced) AS blocked, count(*) FILTER (WHERE dropped) AS dropped,
       count(*) FILTER (WHERE deferred) AS deferred, count(*) FILTER (WHERE spam_reported) AS spam_reports,
       count(*) FILTER (WHERE opened_by_human) AS unique_human_opens, sum(machine_opens) AS machine_opens, sum(clicks) AS clicks
  FROM plain_recipient GROUP BY day;
SELECT * FROM plain_daily ORDER BY day;
SELECT * FROM state_differences();

-- A re-posted batch and a late event in another order change nothing but the late event.
SELECT stored, duplicates FROM ingest_sendgrid_event($$[
  {"email":"a@example.com","timestamp":1700090000,"event":"open","sg_event_id":"d17","sg_message_id":"D1.filter.0","category":["invoice","reminder"],"branch":"north"},
  {"email":"b@example.com","timestamp":1700090100,"event":"click","sg_event_id":"d18","sg_message_id":"D1.filter.1","category":["invoice","reminder"],"branch":"south"},
  {"email":"a@example.com","timestamp":1700000000,"event":"processed","sg_event_id":"d1","sg_message_id":"D1.filter.0","category":["invoice","reminder"],"branch":"north"}
]$$);
SELECT day, value, clicks FROM deliverability_daily_by('category') WHERE day = '2023-11-14' ORDER BY 2;

-- Which hand-off counts: the CRM's send (record_send), SendGrid's processed, both (once), or
-- neither (its first event, here a deferral). Each recipient of message H is handed off on
-- 2023-11-20 and delivered on 2023-11-21: the figures are on the 20th, the rates at most 1.
CALL pg_temp.empty_state();
SELECT record_send('H', ARRAY['sends-only@example.com', 'both@example.com'], '{}', '2023-11-20 23:00+00');
SELECT stored FROM ingest_sendgrid_event($$[
  {"email":"sends-only@example.com","timestamp":1700560800,"event":"delivered","sg_message_id":"H.filter.0"},
  {"email":"processed-only@example.com","timestamp":1700521200,"event":"processed","sg_message_id":"H.filter.1"},
  {"email":"processed-only@example.com","timestamp":1700560800,"event":"delivered","sg_message_id":"H.filter.1"},
  {"email":"both@example.com","timestamp":1700521260,"event":"processed","sg_message_id":"H.filter.2"},
  {"email":"both@example.com","timestamp":1700560800,"event":"delivered","sg_message_id":"H.filter.2"},
  {"email":"neither@example.com","timestamp":1700521200,"event":"deferred","sg_message_id":"H.filter.3"},
  {"email":"neither@example.com","timestamp":1700560800,"event":"delivered","sg_message_id":"H.filter.3"}
]$$);
SELECT day, sent, delivered, deferred, delivery_rate FROM deliverability_daily ORDER BY day;
-- As 0.4.0 counted (SendGrid's processed only, each event on its own day): a day delivering
-- what an earlier day sent, and sends recorded by the CRM never counted.
SELECT (e.occurred_at AT TIME ZONE 'UTC')::date AS day,
       count(DISTINCT (e.message_id, e.email)) FILTER (WHERE e.event = 'processed') AS sent,
       count(DISTINCT (e.message_id, e.email)) FILTER (WHERE e.event = 'delivered') AS delivered
  FROM event e GROUP BY 1 ORDER BY 1;
-- A send recorded late, for an earlier time, moves a recipient to that day (and a day left
-- without recipients is no longer shown); the counters follow.
SELECT record_send('H', ARRAY['processed-only@example.com'], '{}', '2023-11-19 10:00+00');
SELECT day, sent, delivered, deferred, delivery_rate FROM deliverability_daily ORDER BY day;
SELECT record_send('H2', ARRAY['late@example.com'], '{}', '2023-11-22 10:00+00');
SELECT stored FROM ingest_sendgrid_event('[{"email":"late@example.com","timestamp":1700395200,"event":"processed","sg_message_id":"H2.filter.0"}]');
SELECT day, sent FROM deliverability_daily ORDER BY day;
SELECT day, sent, delivered FROM deliverability_day ORDER BY day;
SELECT * FROM state_differences();

-- Any events, sends and orders (a property over 300 random recipients, posted in random
-- batches in two orders): the figures equal the plain-SQL recomputation, the state its own,
-- each recipient is sent once, and no rate in any dimension exceeds 1.
CALL pg_temp.empty_state();
SELECT setseed(0.23);
CREATE TEMP TABLE random_event AS
SELECT r AS recipient, jsonb_build_object(
         'email', 'p' || r || '@example.com',
         'timestamp', 1700000000 + (random() * 5 * 86400)::integer,
         'event', k.kind,
         'sg_message_id', 'P' || (r % 40) || '.filter.' || r,
         'category', (ARRAY['invoice', 'quote', 'news'])[1 + r % 3],
         'branch', (ARRAY['north', 'south'])[1 + r % 2]) ||
       CASE WHEN k.kind = 'bounce' THEN jsonb_build_object('type', (ARRAY['bounce', 'blocked'])[1 + (random() * 1.2)::integer])
            WHEN k.kind = 'open' THEN jsonb_build_object('sg_machine_open', random() < 0.3)
            ELSE '{}' END AS body,
       random() AS position
  FROM generate_series(1, 300) AS r,
       unnest(ARRAY['processed', 'deferred', 'delivered', 'open', 'open', 'click', 'bounce', 'dropped', 'spamreport', 'unsubscribe']) AS k(kind)
 WHERE random() < 0.35;
CREATE TEMP TABLE random_send AS
SELECT r AS recipient, 'P' || (r % 40) AS message_id, 'p' || r || '@example.com' AS email,
       to_timestamp(1700000000 + (random() * 5 * 86400)::integer) AS sent_at
  FROM generate_series(1, 300) AS r WHERE random() < 0.4;
SELECT count(*) > 500 AS enough_events, count(DISTINCT recipient) > 250 AS enough_recipients FROM random_event;
CREATE FUNCTION pg_temp.post_randomly(descending boolean) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  b integer;
BEGIN
  FOR b IN 0..9 LOOP
    PERFORM mailstatus.ingest_sendgrid_event(jsonb_agg(e.body))
       FROM random_event e
      WHERE (e.position * 10)::integer % 10 = CASE WHEN descending THEN 9 - b ELSE b END;
    PERFORM mailstatus.record_send(s.message_id, ARRAY[s.email], '{}', s.sent_at)
       FROM random_send s WHERE s.recipient % 10 = CASE WHEN descending THEN 9 - b ELSE b END;
  END LOOP;
END $$;
CREATE FUNCTION pg_temp.property_holds() RETURNS TABLE (check_name text, failures bigint) LANGUAGE sql AS $$
  SELECT 'figures differ from the plain-SQL recomputation',
         (SELECT count(*) FROM ((SELECT day, sent, delivered, bounced, blocked, dropped, deferred, spam_reports,
                                        unique_human_opens, machine_opens, clicks FROM mailstatus.deliverability_daily
                                 EXCEPT SELECT * FROM plain_daily)
                                UNION ALL
                                (SELECT * FROM plain_daily
                                 EXCEPT SELECT day, sent, delivered, bounced, blocked, dropped, deferred, spam_reports,
                                               unique_human_opens, machine_opens, clicks FROM mailstatus.deliverability_daily)) d)
  UNION ALL
  SELECT 'state differs from its recomputation', (SELECT count(*) FROM mailstatus.state_differences())
  UNION ALL
  SELECT 'recipients not sent exactly once',
         (SELECT abs((SELECT sum(sent) FROM mailstatus.deliverability_daily) - (SELECT count(*) FROM plain_recipient)))
  UNION ALL
  SELECT 'rates above 1', count(*)
    FROM (SELECT bounce_rate, spam_report_rate, delivery_rate FROM mailstatus.deliverability_daily_by(NULL)
          UNION ALL SELECT bounce_rate, spam_report_rate, delivery_rate FROM mailstatus.deliverability_daily_by('category')
          UNION ALL SELECT bounce_rate, spam_report_rate, delivery_rate FROM mailstatus.deliverability_daily_by('branch')) d
   WHERE d.bounce_rate > 1 OR d.spam_report_rate > 1 OR d.delivery_rate > 1 $$;
SELECT pg_temp.post_randomly(false);
SELECT * FROM pg_temp.property_holds();
CREATE TEMP TABLE first_order AS SELECT * FROM deliverability_daily_by('category');
CALL pg_temp.empty_state();
SELECT pg_temp.post_randomly(true);
SELECT * FROM pg_temp.property_holds();
SELECT count(*) AS differing_from_the_first_order
  FROM ((SELECT * FROM first_order EXCEPT SELECT * FROM deliverability_daily_by('category'))
        UNION ALL (SELECT * FROM deliverability_daily_by('category') EXCEPT SELECT * FROM first_order)) d;
-- Without the cohort (each event on its own day) the same traffic has days above 1.
SELECT count(*) > 0 AS event_days_above_one
  FROM (SELECT (e.occurred_at AT TIME ZONE 'UTC')::date AS day,
               count(DISTINCT (e.message_id, e.email)) FILTER (WHERE e.event = 'processed') AS sent,
               count(DISTINCT (e.message_id, e.email)) FILTER (WHERE e.event = 'delivered') AS delivered
          FROM event e GROUP BY 1) d
 WHERE d.delivered > d.sent;

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
  CALL pg_temp.empty_state();
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
-- (The rows of zeros are the 15th's, where the later post, arriving first, counted the
-- recipient until its send day came with the first post; the reads skip them.)
SELECT day, category, sent, delivered, unique_human_opens FROM deliverability_category_day ORDER BY day, category;

-- Days are UTC days, whatever the session's time zone, when events are posted and when they
-- are read: the same events posted and read in each zone give the same days, ranges of days,
-- partition names and activity as in UTC (a zone east of UTC puts 23:30 UTC on the next
-- local day, one west of it 00:30 UTC on the previous one).
CREATE FUNCTION pg_temp.days_posted_and_read_in(zone text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  CALL pg_temp.empty_state();
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
