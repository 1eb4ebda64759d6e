-- Webhook bodies for the load test: 200 batches of 1000 events; batch b holds events
-- 500*b .. 500*b + 999, shuffled, so neighbouring batches overlap by half, in different orders.
CREATE EXTENSION IF NOT EXISTS mailstatus;
CREATE TABLE load_batch AS
SELECT b AS batch_no,
       E'[\r\n' || string_agg(jsonb_build_object(
         'email', 'r' || (e % 3000) || '@example.com', 'timestamp', 1700000000 + e,
         'event', (ARRAY['processed', 'delivered', 'open', 'click', 'bounce'])[1 + e % 5],
         'sg_event_id', 'load-' || e, 'sg_message_id', 'Load' || (e / 3) || '.filter0001.0',
         'crm_record', 'REC-' || (e / 3))::text, E',\r\n' ORDER BY md5(b || ':' || e)) || E'\r\n]\r\n' AS body
  FROM generate_series(0, 199) b, generate_series(500 * b, 500 * b + 999) e
 GROUP BY b;
CREATE TABLE load_posted (batch_no int);
