-- Status-precedence aggregates: mail_status_agg, mail_status_reached_at, latest_value.
SET search_path = mailstatus, public;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

-- Highest precedence wins, whatever the order; NULLs are ignored; no rows gives NULL.
SELECT mail_status_agg(s) FROM unnest('{delivered,sent,opened,deferred}'::mail_status[]) s;
SELECT mail_status_agg(s) FROM unnest('{opened,deferred,sent,delivered}'::mail_status[]) s;
SELECT mail_status_agg(s) FROM unnest(ARRAY['bounced', NULL, 'clicked']::mail_status[]) s;
SELECT mail_status_agg(s) FROM unnest(ARRAY[NULL, NULL]::mail_status[]) s;
SELECT mail_status_agg(s) FROM unnest('{}'::mail_status[]) s;
SELECT mail_status_agg(s ORDER BY s DESC), mail_status_agg(s ORDER BY s) FROM unnest('{sent,dropped,opened}'::mail_status[]) s;

-- The planner may answer it from a btree index (SORTOP).
CREATE TABLE agg_sample AS SELECT g AS id, (ARRAY['sent','deferred','delivered','opened'])[1 + g % 4]::mail_status AS s
  FROM generate_series(1, 1000) g;
CREATE INDEX ON agg_sample (s);
ANALYZE agg_sample;
EXPLAIN (COSTS OFF) SELECT mail_status_agg(s) FROM agg_sample;
SELECT mail_status_agg(s) FROM agg_sample;
DROP TABLE agg_sample;

-- When the winning status was first reached: the earliest time of the highest status.
SELECT mail_status_reached_at(s::mail_status, t::timestamptz)
  FROM (VALUES ('sent', '2024-01-01 10:00+00'), ('opened', '2024-01-01 12:00+00'),
               ('opened', '2024-01-01 11:00+00'), ('delivered', '2024-01-01 10:05+00')) v(s, t);
-- Same rows, another order, same answer.
SELECT mail_status_reached_at(s::mail_status, t::timestamptz)
  FROM (VALUES ('opened', '2024-01-01 11:00+00'), ('delivered', '2024-01-01 10:05+00'),
               ('opened', '2024-01-01 12:00+00'), ('sent', '2024-01-01 10:00+00')) v(s, t);
-- Rows with a NULL status or time are ignored; no rows gives NULL.
SELECT mail_status_reached_at(s::mail_status, t::timestamptz)
  FROM (VALUES ('sent', '2024-01-01 10:00+00'), (NULL, '2024-01-02 10:00+00'), ('bounced', NULL)) v(s, t);
SELECT mail_status_reached_at(s, now()) FROM unnest('{}'::mail_status[]) s;
-- Extreme but finite times survive the packing.
SELECT mail_status_reached_at('sent', '4713-01-01 00:00+00 BC'::timestamptz);
SELECT mail_status_reached_at('sent', '11000-01-01 00:00+00'::timestamptz);
-- Infinite or too distant times: 22008.
SELECT mail_status_reached_at('sent', 'infinity'::timestamptz);
SELECT mail_status_reached_at('sent', '-infinity'::timestamptz);
SELECT mail_status_reached_at('sent', '20000-01-01 00:00+00'::timestamptz);

-- latest_value: the value at the latest time; ties go to the larger value.
SELECT latest_value(v, t::timestamptz)
  FROM (VALUES ('first', '2024-01-01'), ('last', '2024-01-03'), ('middle', '2024-01-02')) x(v, t);
SELECT latest_value(v, '2024-01-01'::timestamptz) FROM (VALUES ('a'), ('c'), ('b')) x(v);
SELECT latest_value(v, '2024-01-01'::timestamptz) FROM (VALUES ('ab'), ('abc'), ('a')) x(v);
SELECT latest_value(v, t::timestamptz)
  FROM (VALUES (NULL, '2024-01-05'), ('kept', '2024-01-01'), ('no time', NULL)) x(v, t);
SELECT latest_value(v::text, now()) FROM (SELECT 1 WHERE false) x(v);
SELECT latest_value(v::jsonb, t::timestamptz)
  FROM (VALUES ('{"a": 1}', '2024-01-01'), ('{"b": 2}', '2024-01-02')) x(v, t);
-- In a GROUP BY, per group.
SELECT g, latest_value(v, t::timestamptz)
  FROM (VALUES (1, 'x', '2024-01-01'), (1, 'y', '2024-01-02'), (2, 'z', '2024-01-01')) x(g, v, t)
 GROUP BY g ORDER BY g;
