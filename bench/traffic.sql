-- Deterministic, realistic SendGrid webhook traffic for the benchmarks.
--   bench.generate_traffic(events, seed, spread, first_unix) fills bench.traffic (one row per event) and
--   bench.batch (webhook bodies of ~1000 events, as SendGrid frames them: ",\r\n" between
--   events), with several recipients per X-Message-Id (22 characters, as SendGrid makes them),
--   customers mailed more than once a month, deferrals, bounces and blocks, drops, opens (some
--   machine opens), clicks, spam reports, unsubscribes (some without sg_event_id), events out of
--   order across batches, and about 2% of the batches posted twice.
CREATE SCHEMA IF NOT EXISTS bench;

-- A uniform number in [0, 1) from a key and a seed.
CREATE OR REPLACE FUNCTION bench.rnd(key bigint, salt int) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT ((hashint8(key * 1000003 + salt) & 2147483647)::float8 / 2147483648.0) $$;

-- An X-Message-Id as SendGrid makes them: 22 characters of URL-safe base64.
CREATE OR REPLACE FUNCTION bench.x_message_id(seed int, message bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT translate(substr(encode(decode(md5(seed || ':' || message), 'hex'), 'base64'), 1, 22), '+/', '-_') $$;

CREATE OR REPLACE FUNCTION bench.generate_traffic(events int, seed int DEFAULT 1, spread bigint DEFAULT NULL,
                                                   first_unix bigint DEFAULT 1791014400) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  recipients int := greatest(1, (events / 3.3)::int);
BEGIN
  DROP TABLE IF EXISTS bench.traffic, bench.batch;
  CREATE UNLOGGED TABLE bench.traffic AS
  WITH recipient AS (
    SELECT r, r / 2 + (bench.rnd(r, seed) < 0.3)::int AS m,  -- ~2 recipients per message
           (bench.rnd(r, seed + 7) * recipients * 0.6)::bigint AS customer,  -- ~1.7 messages per customer
           first_unix + (r * COALESCE(spread, 2592000 / recipients + 1)) % 2592000 AS t0,  -- within 30 days
           bench.rnd(r, seed + 1) AS fate, bench.rnd(r, seed + 2) AS engagement
      FROM generate_series(1, recipients) r
  ), lifecycle AS (
    SELECT rc.*, ev.step, ev.name, ev.dt, ev.extra
      FROM recipient rc,
      LATERAL (VALUES
        (1, 'processed', 0, '{}'::jsonb),
        (2, CASE WHEN rc.fate < 0.10 THEN 'deferred' END, 60, '{"response": "451 4.7.1 greylisted, try again later", "attempt": "1"}'),
        (3, CASE WHEN rc.fate < 0.05 THEN 'deferred' END, 600, '{"response": "451 4.7.1 greylisted, try again later", "attempt": "2"}'),
        (4, CASE WHEN rc.fate < 0.88 THEN 'delivered'
                 WHEN rc.fate < 0.93 THEN 'bounce'
                 WHEN rc.fate < 0.96 THEN 'blocked'
                 ELSE 'dropped' END, 900, '{}'),
        (5, CASE WHEN rc.fate < 0.88 AND rc.engagement < 0.55 THEN 'open' END, 3600, '{}'),
        (6, CASE WHEN rc.fate < 0.88 AND rc.engagement < 0.25 THEN 'open' END, 7200, '{}'),
        (7, CASE WHEN rc.fate < 0.88 AND rc.engagement < 0.18 THEN 'click' END, 3700, '{"url": "https://pay.acme-plumbing.example/i/42"}'),
        (8, CASE WHEN rc.fate < 0.88 AND rc.engagement > 0.995 THEN 'spamreport' END, 9000, '{}'),
        (9, CASE WHEN rc.fate < 0.88 AND rc.engagement BETWEEN 0.98 AND 0.995 THEN 'unsubscribe' END, 9500, '{}')
      ) AS ev(step, name, dt, extra)
     WHERE ev.name IS NOT NULL
  )
  SELECT row_number() OVER (ORDER BY l.t0 + l.dt + (bench.rnd(l.r * 16 + l.step, seed + 3) * 1800)::int, l.r, l.step) AS n,
         jsonb_strip_nulls(jsonb_build_object(
           'email', 'customer' || l.customer || '@example' || (l.customer % 97) || '.com',
           'timestamp', l.t0 + l.dt,
           'event', CASE WHEN l.name = 'blocked' THEN 'bounce' ELSE l.name END,
           'sg_event_id', CASE WHEN l.name = 'unsubscribe' AND bench.rnd(l.r, seed + 4) < 0.5 THEN NULL
                               ELSE md5(seed || ':' || l.r || ':' || l.step) END,
           'sg_message_id', bench.x_message_id(seed, l.m) || '.filterdrecv-7bf5c69d5-4nn7r-1-65A9F4D1-' || (l.r % 40) || '.0',
           'smtp-id', '<' || bench.x_message_id(seed, l.m) || '@geopod-ismtpd-3>',
           'category', CASE WHEN l.m % 3 = 0 THEN to_jsonb('invoice'::text) ELSE '["acme-crm", "job-reminder"]'::jsonb END,
           'crm_record', 'REC-' || l.m,
           'crm_tenant', 'acme-plumbing',
           'tls', CASE WHEN l.name = 'delivered' THEN 1 END,
           'ip', CASE WHEN l.name IN ('delivered', 'open', 'click') THEN '149.72.' || (l.r % 255) || '.' || (l.m % 255) END,
           'useragent', CASE WHEN l.name IN ('open', 'click') THEN 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X)' END,
           'sg_machine_open', CASE WHEN l.name = 'open' THEN bench.rnd(l.r, seed + 5) < 0.3 END,
           'type', CASE l.name WHEN 'bounce' THEN 'bounce' WHEN 'blocked' THEN 'blocked' END,
           'status', CASE l.name WHEN 'bounce' THEN '5.1.1' WHEN 'blocked' THEN '5.7.1' WHEN 'dropped' THEN '5.0.0' END,
           'reason', CASE l.name WHEN 'bounce' THEN '550 5.1.1 The email account that you tried to reach does not exist'
                                 WHEN 'blocked' THEN '550 5.7.1 Message rejected due to local policy'
                                 WHEN 'dropped' THEN 'Bounced Address' END,
           'bounce_classification', CASE l.name WHEN 'bounce' THEN 'Invalid Address' WHEN 'blocked' THEN 'Reputation' END
         ) || l.extra) AS event
    FROM lifecycle l;
  -- ~1000 events a batch, in time order with jitter: events arrive out of order across batches.
  CREATE UNLOGGED TABLE bench.batch AS
  SELECT b.batch_no, b.copy, b.body
    FROM (SELECT (n - 1) / 1000 AS batch_no,
                 E'[\r\n' || string_agg(event::text, E',\r\n' ORDER BY n) || E'\r\n]\r\n' AS body
            FROM bench.traffic GROUP BY (n - 1) / 1000) g,
         LATERAL (SELECT g.batch_no, c AS copy, g.body FROM generate_series(1, 2) c
                   WHERE c = 1 OR bench.rnd(g.batch_no, seed + 6) < 0.02) b;
  ANALYZE bench.traffic, bench.batch;
END $$;
