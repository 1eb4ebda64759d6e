-- The aggregates under forced parallel plans: Partial Aggregate, same answers.
SET search_path = mailstatus, public;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

CREATE TABLE par_event AS
SELECT g::bigint % 5000 AS recipient,
       (ARRAY['sent','deferred','delivered','opened','clicked','unsubscribed','spam_report','bounced','dropped'])
         [1 + (g * 7919) % 9]::mail_status AS status,
       '2024-01-01 00:00+00'::timestamptz + ((g::bigint * 104729) % 100000) * interval '1 second' AS at,
       'reason ' || (g * 31) % 1000 AS reason,
       (ARRAY['processed','delivered','open','click','bounce','dropped','deferred','spamreport','unsubscribe'])
         [1 + (g * 31) % 9] AS event,
       CASE WHEN g % 3 = 0 THEN 'blocked' ELSE 'bounce' END AS bounce_type,
       g % 4 = 0 AS machine_open,
       CASE g % 5 WHEN 0 THEN NULL WHEN 1 THEN to_jsonb('cat ' || g % 7)
                  ELSE jsonb_build_array('cat ' || g % 11, 'cat ' || g % 13) END AS category,
       jsonb_build_object('crm_id', g % 97, 'n', g % 3) AS args
  FROM generate_series(1, 100000) g;
ANALYZE par_event;

-- Serial answers first.
SET max_parallel_workers_per_gather = 0;
CREATE TABLE serial_answer AS
SELECT mail_status_agg(status) AS status, mail_status_reached_at(status, at) AS reached,
       latest_value(reason, at) AS reason, count(*) AS n FROM par_event;
CREATE TABLE serial_grouped AS
SELECT recipient, mail_status_agg(status) AS status, mail_status_reached_at(status, at) AS reached,
       latest_value(reason, at) AS reason FROM par_event GROUP BY recipient;
-- The aggregates whose states the state tables keep (timed_value, activity, text[]), as text:
-- their types have no equality operator.
CREATE TABLE serial_states AS
SELECT latest_value(args, at)::text AS args, latest_timed_value(reason, at)::text AS timed_reason,
       latest_timed_value(args, at)::text AS timed_args, status_reached_state(status, at) AS reached_state,
       activity_state(event, bounce_type, machine_open, at)::text AS activity, category_set(category) AS categories
  FROM par_event;
CREATE TABLE serial_grouped_states AS
SELECT recipient, latest_value(args, at)::text AS args, latest_timed_value(reason, at)::text AS timed_reason,
       latest_timed_value(args, at)::text AS timed_args, status_reached_state(status, at) AS reached_state,
       activity_state(event, bounce_type, machine_open, at)::text AS activity, category_set(category) AS categories
  FROM par_event GROUP BY recipient;

-- Forced parallel plans.
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET parallel_leader_participation = off;

EXPLAIN (COSTS OFF)
SELECT mail_status_agg(status), mail_status_reached_at(status, at), latest_value(reason, at) FROM par_event;
SELECT (SELECT row(mail_status_agg(status), mail_status_reached_at(status, at), latest_value(reason, at), count(*))
          FROM par_event)
       IS NOT DISTINCT FROM (SELECT row(status, reached, reason, n) FROM serial_answer) AS parallel_equals_serial;

SET enable_hashagg = off;
EXPLAIN (COSTS OFF)
SELECT recipient, mail_status_agg(status), mail_status_reached_at(status, at), latest_value(reason, at)
  FROM par_event GROUP BY recipient;
RESET enable_hashagg;
SELECT count(*) AS groups_differing FROM (
  SELECT recipient, mail_status_agg(status) AS status, mail_status_reached_at(status, at) AS reached,
         latest_value(reason, at) AS reason FROM par_event GROUP BY recipient
  EXCEPT
  SELECT * FROM serial_grouped) d;


-- The same for the state aggregates: partial states made by the workers, merged by the
-- combine functions (timed_value_merge, status_reached_combine, activity_merge,
-- category_set_merge), equal the serial ones.
EXPLAIN (COSTS OFF)
SELECT latest_value(args, at), latest_timed_value(reason, at), latest_timed_value(args, at),
       status_reached_state(status, at), activity_state(event, bounce_type, machine_open, at), category_set(category)
  FROM par_event;
SELECT (SELECT row(latest_value(args, at)::text, latest_timed_value(reason, at)::text, latest_timed_value(args, at)::text,
                   status_reached_state(status, at), activity_state(event, bounce_type, machine_open, at)::text,
                   category_set(category))
          FROM par_event)
       IS NOT DISTINCT FROM (SELECT row(s.*) FROM serial_states s) AS parallel_equals_serial;
-- What they hold: not NULL, and many days and categories.
SELECT args IS NOT NULL AND timed_reason IS NOT NULL AND timed_args IS NOT NULL AS have_values,
       status_reached_status(reached_state) AS status, mail_status_reached_at_final(reached_state) AS reached_at,
       (SELECT count(*) FROM activity_days(activity::activity)) AS days, cardinality(categories) AS categories
  FROM serial_states;
SET enable_hashagg = off;
EXPLAIN (COSTS OFF)
SELECT recipient, latest_value(args, at), latest_timed_value(reason, at), latest_timed_value(args, at),
       status_reached_state(status, at), activity_state(event, bounce_type, machine_open, at), category_set(category)
  FROM par_event GROUP BY recipient;
RESET enable_hashagg;
SELECT count(*) AS groups_differing FROM (
  SELECT recipient, latest_value(args, at)::text, latest_timed_value(reason, at)::text, latest_timed_value(args, at)::text,
         status_reached_state(status, at), activity_state(event, bounce_type, machine_open, at)::text,
         category_set(category)
    FROM par_event GROUP BY recipient
  EXCEPT
  SELECT * FROM serial_grouped_states) d;
SELECT count(*) AS groups FROM serial_grouped_states;

DROP TABLE par_event, serial_answer, serial_grouped, serial_states, serial_grouped_states;
