-- The aggregates under forced parallel plans: Partial Aggregate, same answers.
SET search_path = mailstatus, public;

CREATE TABLE par_event AS
SELECT g::bigint % 5000 AS recipient,
       (ARRAY['sent','deferred','delivered','opened','clicked','unsubscribed','spam_report','bounced','dropped'])
         [1 + (g * 7919) % 9]::mail_status AS status,
       '2024-01-01 00:00+00'::timestamptz + ((g::bigint * 104729) % 100000) * interval '1 second' AS at,
       'reason ' || (g * 31) % 1000 AS reason
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

DROP TABLE par_event, serial_answer, serial_grouped;
