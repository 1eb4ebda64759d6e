-- Reads at scale (included by run.sql when scale_events > 0): the four reads a CRM makes
-- all day, timed on the traffic of run.sql, then again once the database holds scale_events
-- events (more traffic ingested the same way), and against recomputing them from the raw
-- events at that scale. Reads from the state should not grow with the events.
\echo == Reads: at the size of the traffic, at :scale_events events, and recomputed from raw events
CALL bench.empty_mailstatus();
SELECT count(*) > 0 AS posted FROM (SELECT mailstatus.ingest_sendgrid_event(body::jsonb) FROM bench.batch ORDER BY batch_no, copy) p;

-- A read repeated until it has taken a measurable time: seconds per call.
CREATE FUNCTION bench.seconds_per_call(query text, calls int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE started timestamptz := clock_timestamp();
BEGIN
  FOR i IN 1..calls LOOP
    EXECUTE query;
  END LOOP;
  RETURN extract(epoch FROM clock_timestamp() - started) / calls;
END $$;
-- The reads, each with the arguments a CRM would pass: the last 30 days of the dashboard,
-- an address that reported spam, one message, the roll-up of every recipient by status.
CREATE TABLE bench.read (name text PRIMARY KEY, query text, raw_query text, calls int);
CREATE PROCEDURE bench.time_reads(scale text, reps int) LANGUAGE plpgsql AS $$
DECLARE
  r record;
BEGIN
  FOR rep IN 1..reps LOOP
    FOR r IN SELECT * FROM bench.read ORDER BY name LOOP
      PERFORM bench.seconds_per_call(r.query, 10);  -- warm: plans made, pages cached
      INSERT INTO bench.timing VALUES (r.name || ' @' || scale, rep, bench.seconds_per_call(r.query, r.calls));
      IF scale = 'large' THEN
        INSERT INTO bench.timing VALUES (r.name || ' raw @' || scale, rep, bench.seconds_per_call(r.raw_query, 1));
      END IF;
      COMMIT;
    END LOOP;
  END LOOP;
END $$;
SELECT (SELECT email FROM mailstatus.suppression WHERE cause = 'spamreport' ORDER BY email LIMIT 1) AS spam_address,
       (SELECT message_id FROM mailstatus.recipient WHERE message_id <> '' ORDER BY message_id LIMIT 1) AS one_message,
       (SELECT max(day) FROM mailstatus.deliverability_day) AS last_day \gset
INSERT INTO bench.read VALUES
  ('deliverability_daily, 30 days',
   format('SELECT * FROM mailstatus.deliverability_daily_by(NULL, %L::date - 29, %L::date + 1)', :'last_day', :'last_day'),
   format($q$SELECT r.day, count(*), count(*) FILTER (WHERE r.delivered), count(*) FILTER (WHERE r.bounced),
                    count(*) FILTER (WHERE r.opened_by_human), sum(r.clicks)
               FROM (SELECT (COALESCE(min(e.occurred_at) FILTER (WHERE e.event = 'processed'), min(e.occurred_at))
                             AT TIME ZONE 'UTC')::date AS day,
                            bool_or(e.event IN ('delivered', 'open', 'click', 'spamreport')) AS delivered,
                            bool_or(e.event = 'bounce') AS bounced,
                            bool_or(e.event = 'open' AND e.machine_open IS NOT TRUE) AS opened_by_human,
                            count(*) FILTER (WHERE e.event = 'click') AS clicks
                       FROM mailstatus.event e WHERE e.occurred_at >= %L::date - 29
                      GROUP BY e.message_id, e.email) AS r
              WHERE r.day < %L::date + 1 GROUP BY 1$q$,
          :'last_day', :'last_day'), 200),
  ('is_suppressed', format('SELECT mailstatus.is_suppressed(%L)', :'spam_address'),
   format($q$SELECT p.* FROM mailstatus.suppression_partials(ARRAY(SELECT e FROM mailstatus.event e WHERE e.email = %L)) p$q$,
          :'spam_address'), 2000),
  ('message_status, one message', format('SELECT * FROM mailstatus.message_status WHERE message_id = %L', :'one_message'),
   format($q$SELECT p.* FROM mailstatus.recipient_partials(ARRAY(SELECT e FROM mailstatus.event e WHERE e.message_id = %L),
                                                           ARRAY(SELECT s FROM mailstatus.send s WHERE s.message_id = %L)) p$q$,
          :'one_message', :'one_message'), 2000),
  ('status roll-up', 'SELECT * FROM mailstatus.status_counts',
   $q$SELECT mailstatus.status_reached_status(p.reached_human), count(*)
        FROM mailstatus.recomputed_recipient p GROUP BY 1$q$, 2000);
VACUUM ANALYZE;
CALL bench.time_reads('small', :reps);
SELECT (SELECT count(*) FROM mailstatus.event) AS events_small \gset

-- More traffic, ingested the same way, until the database holds scale_events events: each
-- round a new month of traffic for other customers (another seed).
CREATE PROCEDURE bench.grow(target bigint, chunk int) LANGUAGE plpgsql AS $$
DECLARE
  b record;
  round int := 1;
BEGIN
  WHILE (SELECT count(*) FROM mailstatus.event) < target LOOP
    round := round + 1;
    PERFORM bench.generate_traffic(least(chunk, (target - (SELECT count(*) FROM mailstatus.event))::int + 1000), round);
    COMMIT;
    FOR b IN SELECT body FROM bench.batch ORDER BY batch_no, copy LOOP
      PERFORM mailstatus.ingest_sendgrid_event(b.body::jsonb);
      COMMIT;
    END LOOP;
  END LOOP;
END $$;
CALL bench.grow(:scale_events, 1000000);
VACUUM ANALYZE;
SELECT (SELECT count(*) FROM mailstatus.event) AS events_large \gset
CALL bench.time_reads('large', :reps);
SELECT :events_small AS events_small, :events_large AS events_large, (SELECT count(*) FROM mailstatus.recipient) AS recipients_large;
SELECT r.name AS read,
       round((bench.median(r.name || ' @small') * 1e6)::numeric, 1) AS microseconds_small,
       round((bench.median(r.name || ' @large') * 1e6)::numeric, 1) AS microseconds_large,
       bench.ratio(r.name || ' @large', r.name || ' @small') AS "large / small (target <= 1.5)",
       bench.ratio(r.name || ' raw @large', r.name || ' @large') AS "raw recompute / state, large (target >= 30)"
  FROM bench.read r ORDER BY r.name;
