-- Webhook bodies for the load test: 200 batches of 1000 events; batch b holds events
-- 500*b .. 500*b + 999, shuffled, so neighbouring batches overlap by half, in different orders.
-- Every kind of event: the recipient, suppression and group-suppression state, the custom
-- args and the counters are all merged concurrently. Message Load<m> goes to r0..r999, and
-- each recipient gets three events 1000 apart, so never two of them in one batch: every
-- recipient row is merged from several batches, every address's row from all of them.
CREATE EXTENSION IF NOT EXISTS mailstatus;
CREATE TABLE load_batch AS
SELECT b AS batch_no,
       E'[\r\n' || string_agg(jsonb_build_object(
         'email', 'r' || (e % 1000) || '@example.com', 'timestamp', 1700000000 + e,
         'event', (ARRAY['processed', 'delivered', 'open', 'click', 'bounce', 'deferred', 'dropped',
                         'spamreport', 'unsubscribe', 'group_unsubscribe', 'group_resubscribe'])[1 + e % 11],
         'type', (ARRAY['bounce', 'blocked'])[1 + e % 2], 'reason', 'reason ' || e,
         'sg_machine_open', e % 4 = 0, 'asm_group_id', 1 + e % 3, 'category', 'cat' || e % 5,
         'sg_event_id', 'load-' || e, 'sg_message_id', 'Load' || (e / 3000) || '.filter0001.' || e,
         'crm_record', 'REC-' || (e / 3000))::text, E',\r\n' ORDER BY md5(b || ':' || e)) || E'\r\n]\r\n' AS body
  FROM generate_series(0, 199) b, generate_series(500 * b, 500 * b + 999) e
 GROUP BY b;
CREATE TABLE load_posted (batch_no int);
