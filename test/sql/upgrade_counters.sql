-- The update to 0.5.0 counts deliverability by its rule (a recipient once, on its send day,
-- its send a hand-off): every day recomputed from the recipient state, and the days before
-- forget_recipients' horizon, which also count recipients forgotten since, converted
-- recipient by recipient (the kept ones' 0.4.0 figures taken away, their 0.5.0 figures
-- added; the forgotten keep what 0.4.0 counted).
SET search_path = public;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS mailstatus CASCADE;
RESET client_min_messages;
CREATE EXTENSION mailstatus VERSION '0.4.0';

-- Old, forgotten below: sent 2023-11-01 (by the CRM, and processed), delivered the next day.
SELECT mailstatus.record_send('OLD', ARRAY['old1@example.com', 'old2@example.com'], '{}', '2023-11-01 10:00+00');
SELECT stored FROM mailstatus.ingest_sendgrid_event($$[
  {"email":"old1@example.com","timestamp":1698832800,"event":"processed","sg_message_id":"OLD.filter.0","category":"invoice"},
  {"email":"old1@example.com","timestamp":1698919200,"event":"delivered","sg_message_id":"OLD.filter.0","category":"invoice"},
  {"email":"old2@example.com","timestamp":1698919200,"event":"delivered","sg_message_id":"OLD.filter.1"}
]$$);
-- Forgotten below too, though on the cut-off's own day: sent and delivered 2023-11-10 06:00,
-- before the cut-off at noon (the update keeps that day's figures, not the state's).
SELECT stored FROM mailstatus.ingest_sendgrid_event($$[
  {"email":"cut@example.com","timestamp":1699596000,"event":"processed","sg_message_id":"CUT.filter.0"},
  {"email":"cut@example.com","timestamp":1699596000,"event":"delivered","sg_message_id":"CUT.filter.0"}
]$$);
-- Kept across the horizon: sent 2023-11-08 (one by the CRM only, one processed only),
-- delivered 2023-11-09, opened or clicked 2023-11-12.
SELECT mailstatus.record_send('SPAN', ARRAY['span1@example.com'], '{}', '2023-11-08 10:00+00');
SELECT stored FROM mailstatus.ingest_sendgrid_event($$[
  {"email":"span1@example.com","timestamp":1699524000,"event":"delivered","sg_message_id":"SPAN.filter.0","category":"invoice"},
  {"email":"span1@example.com","timestamp":1699783200,"event":"open","sg_message_id":"SPAN.filter.0","category":"invoice"},
  {"email":"span2@example.com","timestamp":1699437600,"event":"processed","sg_message_id":"SPAN.filter.1"},
  {"email":"span2@example.com","timestamp":1699524000,"event":"delivered","sg_message_id":"SPAN.filter.1"},
  {"email":"span2@example.com","timestamp":1699783200,"event":"click","sg_message_id":"SPAN.filter.1"}
]$$);
-- New: sent and bounced after the horizon.
SELECT mailstatus.record_send('NEW', ARRAY['new1@example.com'], '{}', '2023-11-20 10:00+00');
SELECT stored FROM mailstatus.ingest_sendgrid_event($$[
  {"email":"new1@example.com","timestamp":1700474400,"event":"bounce","type":"blocked","sg_message_id":"NEW.filter.0","category":"news"}
]$$);
-- The counters as 0.4.0's library kept them: 0.4.0's own recomputation (this server runs
-- 0.5.0's library, which would count by 0.5.0's rule already).
TRUNCATE mailstatus.deliverability_day, mailstatus.deliverability_category_day;
INSERT INTO mailstatus.deliverability_day SELECT * FROM mailstatus.recomputed_deliverability_day;
INSERT INTO mailstatus.deliverability_category_day SELECT * FROM mailstatus.recomputed_deliverability_category_day;
SELECT day, sent, delivered, blocked, unique_human_opens, clicks FROM mailstatus.deliverability_day ORDER BY day;

-- What the recipients forgotten below counted under 0.4.0, per day and category: it stays.
CREATE TEMP TABLE forgotten_figures AS
SELECT a.day, c.category, a.processed::int AS sent, a.delivered::int AS delivered, a.bounced::int AS bounced,
       a.blocked::int AS blocked, a.dropped::int AS dropped, a.deferred::int AS deferred,
       a.spam_reported::int AS spam_reports, a.opened_by_human::int AS unique_human_opens, a.machine_opens, a.clicks
  FROM mailstatus.recipient r,
       unnest(COALESCE(r.categories, ARRAY[NULL::text])) AS c(category),
       mailstatus.activity_days(r.activity) AS a
 WHERE r.last_event_at < '2023-11-10 12:00+00';
SELECT mailstatus.forget_recipients('2023-11-10 12:00+00');

ALTER EXTENSION mailstatus UPDATE TO '0.5.0';
-- Days from the horizon on (2023-11-11): the state's recomputation.
SELECT * FROM mailstatus.state_differences();
-- Days before: the forgotten's 0.4.0 figures and the kept recipients' 0.5.0 figures (a
-- recipient here has one category at most: a day's figures are the sum of its categories').
CREATE TEMP TABLE expected_category_day AS
SELECT day, category, sum(sent) AS sent, sum(delivered) AS delivered, sum(bounced) AS bounced, sum(blocked) AS blocked,
       sum(dropped) AS dropped, sum(deferred) AS deferred, sum(spam_reports) AS spam_reports,
       sum(unique_human_opens) AS unique_human_opens, sum(machine_opens) AS machine_opens, sum(clicks) AS clicks
  FROM (SELECT * FROM forgotten_figures
        UNION ALL
        SELECT f.day, c.category, f.sent, f.delivered, f.bounced, f.blocked, f.dropped, f.deferred, f.spam_reports,
               f.unique_human_opens, f.machine_opens, f.clicks
          FROM mailstatus.recipient r, unnest(COALESCE(r.categories, ARRAY[NULL::text])) AS c(category),
               mailstatus.activity_figures(r.activity) AS f
         WHERE f.day < '2023-11-11') AS x
 GROUP BY day, category;
SELECT 'deliverability_category_day' AS counter, count(*) AS days_differing_before_the_horizon
  FROM ((SELECT * FROM mailstatus.deliverability_category_day WHERE day < '2023-11-11'
           AND (sent, delivered, bounced, blocked, dropped, deferred, spam_reports, unique_human_opens, machine_opens, clicks)
               IS DISTINCT FROM (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
         EXCEPT SELECT * FROM expected_category_day)
        UNION ALL
        (SELECT * FROM expected_category_day
         EXCEPT SELECT * FROM mailstatus.deliverability_category_day)) d
UNION ALL
SELECT 'deliverability_day', count(*)
  FROM ((SELECT * FROM mailstatus.deliverability_day WHERE day < '2023-11-11'
           AND (sent, delivered, bounced, blocked, dropped, deferred, spam_reports, unique_human_opens, machine_opens, clicks)
               IS DISTINCT FROM (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
         EXCEPT SELECT day, sum(sent), sum(delivered), sum(bounced), sum(blocked), sum(dropped), sum(deferred),
                       sum(spam_reports), sum(unique_human_opens), sum(machine_opens), sum(clicks)
                  FROM expected_category_day GROUP BY day)
        UNION ALL
        (SELECT day, sum(sent), sum(delivered), sum(bounced), sum(blocked), sum(dropped), sum(deferred),
                sum(spam_reports), sum(unique_human_opens), sum(machine_opens), sum(clicks)
           FROM expected_category_day GROUP BY day
         EXCEPT SELECT * FROM mailstatus.deliverability_day)) d;
-- As a CRM reads them: the kept recipients of 2023-11-08 counted there, sent and delivered,
-- their open and click with them; the forgotten ones' figures as 0.4.0 counted them.
SELECT day, sent, delivered, blocked, unique_human_opens, clicks, delivery_rate FROM mailstatus.deliverability_daily ORDER BY day;

DROP EXTENSION mailstatus;
CREATE EXTENSION mailstatus;
