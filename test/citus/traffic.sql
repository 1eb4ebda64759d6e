-- Deterministic SendGrid webhook traffic for the Citus check (test/citus/check.sql), made in
-- temporary tables of the session that reads it: the same bodies go to the Citus cluster and
-- to the single server, so their answers can be compared.
--   pg_temp.traffic (n, at, event)      one row per posted element, in arrival order
--   pg_temp.batch (batch_no, path, body)  webhook bodies of 250 elements as SendGrid frames
--                                          them (",\r\n" between events), each with the entry
--                                          point it is posted to: jsonb, text or webhook
--   pg_temp.send_call (message_id, emails, custom_args, sent_at)  the CRM's record_send calls
-- Recipients r = 1..:recipients, three per message; from 2023-11-15 on, over three days:
-- deferrals, deliveries, bounces, blocks, drops, opens (machine opens among them), clicks,
-- spam reports, unsubscribes (half without sg_event_id), group unsubscribes and resubscribes,
-- deliveries after a bounce, async bounces naming no message (attributed to a send),
-- millisecond timestamps, addresses posted in capitals with spaces, categories as a string or
-- an array, custom args, and a few elements that are rejected.
CREATE FUNCTION pg_temp.rnd(key bigint, salt integer) RETURNS float8
LANGUAGE sql IMMUTABLE AS
$$ SELECT ((hashint8(key * 1000003 + salt) & 2147483647)::float8 / 2147483648.0) $$;

CREATE TEMPORARY TABLE traffic AS
WITH recipient AS (
  SELECT r, r / 3 AS m,
         1700006400::bigint + (r * 611) % 259200 AS t0,
         pg_temp.rnd(r, 1) AS fate, pg_temp.rnd(r, 2) AS engagement
    FROM generate_series(1, :recipients) AS r
), lifecycle AS (
  SELECT rc.*, ev.step, ev.name, ev.dt, ev.extra
    FROM recipient rc,
    LATERAL (VALUES
      (1, 'processed', 0, '{}'::jsonb),
      (2, CASE WHEN rc.fate < 0.10 THEN 'deferred' END, 60,
          '{"response": "451 4.7.1 greylisted, try again later", "attempt": "1"}'),
      (3, CASE WHEN rc.fate < 0.85 THEN 'delivered'
               WHEN rc.fate < 0.90 THEN 'bounce'
               WHEN rc.fate < 0.94 THEN 'blocked'
               WHEN rc.fate < 0.97 THEN 'dropped' END, 300, '{}'),
      (4, CASE WHEN rc.fate < 0.85 AND rc.engagement < 0.50 THEN 'open' END, 3600,
          jsonb_build_object('sg_machine_open', pg_temp.rnd(rc.r, 3) < 0.3)),
      (5, CASE WHEN rc.fate < 0.85 AND rc.engagement < 0.20 THEN 'open' END, 7200, '{"sg_machine_open": false}'),
      (6, CASE WHEN rc.fate < 0.85 AND rc.engagement < 0.15 THEN 'click' END, 3700,
          '{"url": "https://pay.acme-plumbing.example/i/42"}'),
      (7, CASE WHEN rc.fate < 0.85 AND rc.engagement > 0.99 THEN 'spamreport' END, 9000, '{}'),
      (8, CASE WHEN rc.fate < 0.85 AND rc.engagement > 0.975 AND rc.engagement <= 0.99 THEN 'unsubscribe' END, 9500, '{}'),
      (9, CASE WHEN rc.fate < 0.85 AND rc.engagement > 0.95 AND rc.engagement <= 0.975 THEN 'group_unsubscribe' END, 9600,
          jsonb_build_object('asm_group_id', 1 + rc.r % 3)),
      (10, CASE WHEN rc.fate < 0.85 AND rc.engagement > 0.95 AND rc.engagement <= 0.975 AND pg_temp.rnd(rc.r, 4) < 0.5
                THEN 'group_resubscribe' END, 20000, jsonb_build_object('asm_group_id', 1 + rc.r % 3)),
      (11, CASE WHEN rc.fate >= 0.85 AND rc.fate < 0.90 AND rc.r % 2 = 0 THEN 'delivered' END, 172800, '{}'),
      (12, CASE WHEN rc.fate < 0.85 AND rc.r % 40 = 0 THEN 'async_bounce' END, 5000, '{}')
    ) AS ev(step, name, dt, extra)
   WHERE ev.name IS NOT NULL
), element AS (
  SELECT l.t0 + l.dt + (pg_temp.rnd(l.r * 16 + l.step, 5) * 1800)::int AS at, l.r, l.step,
         jsonb_strip_nulls(jsonb_build_object(
           'email', CASE WHEN l.r % 11 = 0 THEN ' User' || l.r || '@Example' || (l.r % 7) || '.COM'
                         ELSE 'user' || l.r || '@example' || (l.r % 7) || '.com' END,
           'timestamp', CASE WHEN l.r % 13 = 0 THEN (l.t0 + l.dt) * 1000 + 123 ELSE l.t0 + l.dt END,
           'event', CASE l.name WHEN 'blocked' THEN 'bounce' WHEN 'async_bounce' THEN 'bounce' ELSE l.name END,
           'sg_event_id', CASE WHEN l.name = 'unsubscribe' AND l.r % 2 = 0 THEN NULL
                               ELSE md5('event:' || l.r || ':' || l.step) END,
           'sg_message_id', CASE WHEN l.name <> 'async_bounce'
                                 THEN 'Msg' || l.m || '.filterdrecv-7bf5c69d5-4nn7r-1-65A9F4D1-' || (l.r % 40) || '.0' END,
           'smtp-id', CASE WHEN l.name <> 'async_bounce' THEN '<Msg' || l.m || '@geopod-ismtpd-3>' END,
           'category', CASE WHEN l.name = 'async_bounce' THEN NULL
                            WHEN l.m % 3 = 0 THEN to_jsonb('invoice'::text)
                            WHEN l.m % 3 = 1 THEN '["acme-crm", "job-reminder"]'::jsonb END,
           'crm_record', CASE WHEN l.name <> 'async_bounce' THEN 'REC-' || l.m END,
           'crm_tenant', CASE WHEN l.name <> 'async_bounce' THEN 'tenant-' || (l.m % 4) END,
           'ip', CASE WHEN l.name IN ('delivered', 'open', 'click') THEN '149.72.' || (l.r % 255) || '.' || (l.m % 255) END,
           'useragent', CASE WHEN l.name IN ('open', 'click') THEN 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X)' END,
           'type', CASE l.name WHEN 'bounce' THEN 'bounce' WHEN 'blocked' THEN 'blocked' WHEN 'async_bounce' THEN 'bounce' END,
           'status', CASE l.name WHEN 'bounce' THEN '5.1.1' WHEN 'blocked' THEN '5.7.1' WHEN 'dropped' THEN '5.0.0'
                                 WHEN 'async_bounce' THEN '5.2.2' END,
           'reason', CASE l.name WHEN 'bounce' THEN '550 5.1.1 The email account that you tried to reach does not exist'
                                 WHEN 'blocked' THEN '550 5.7.1 Message rejected due to local policy'
                                 WHEN 'dropped' THEN 'Bounced Address'
                                 WHEN 'async_bounce' THEN '552 5.2.2 Mailbox full' END,
           'bounce_classification', CASE l.name WHEN 'bounce' THEN 'Invalid Address' WHEN 'blocked' THEN 'Reputation'
                                                WHEN 'async_bounce' THEN 'Mailbox Unavailable' END
         ) || l.extra) AS event
    FROM lifecycle l
  UNION ALL
  -- Elements that cannot be stored: rejected, with the reason, once each.
  SELECT 1700006400 + j * 20000, 0, j, e
    FROM (VALUES (1, '"junk"'::jsonb), (2, '{"event": "open", "timestamp": 1700010000}'),
                 (3, '{"email": "x@example.com", "event": "delivered", "timestamp": "soon"}')) AS v(j, e)
)
SELECT row_number() OVER (ORDER BY at, r, step) AS n, at, event FROM element;

-- 250 elements a body, in time order with jitter: events arrive out of order across bodies.
-- The entry point goes round: ingest_sendgrid_event(jsonb), ingest_sendgrid_event(text), and
-- the raw body of ingest_sendgrid_webhook.
CREATE TEMPORARY TABLE batch AS
SELECT (n - 1) / 250 AS batch_no,
       (ARRAY['jsonb', 'text', 'webhook'])[(n - 1) / 250 % 3 + 1] AS path,
       E'[\r\n' || string_agg(event::text, E',\r\n' ORDER BY n) || E'\r\n]\r\n' AS body
  FROM traffic GROUP BY (n - 1) / 250;

-- The CRM records every fourth message's send a minute before SendGrid processes it.
CREATE TEMPORARY TABLE send_call AS
SELECT 'Msg' || r / 3 AS message_id,
       array_agg('user' || r || '@example' || (r % 7) || '.com' ORDER BY r) AS emails,
       jsonb_build_object('crm_record', 'REC-' || r / 3, 'crm_tenant', 'tenant-' || (r / 3 % 4)) AS custom_args,
       to_timestamp(min(1700006400 + (r * 611) % 259200) - 60) AS sent_at
  FROM generate_series(1, :recipients) AS r
 WHERE r / 3 % 4 = 0
 GROUP BY r / 3;
