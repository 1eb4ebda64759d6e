-- The peer: the same job in plain SQL, as a CRM developer would write it, on the same table
-- shape and indexes: jsonb_array_elements + INSERT ... ON CONFLICT DO NOTHING, a CASE for
-- the status, and max() over a SQL enum in precedence order.
-- And the limit: a table like mailstatus.event that COPY loads with the already-parsed rows.
CREATE TYPE bench.peer_status AS ENUM
  ('sent', 'deferred', 'delivered', 'opened', 'clicked', 'unsubscribed', 'spam_report', 'bounced', 'dropped');

-- Partitioned by month like mailstatus.event, the rows in a default partition with the same
-- key and indexes as mailstatus.event_default.
CREATE TABLE bench.peer_event (LIKE mailstatus.event INCLUDING ALL) PARTITION BY RANGE (occurred_at);
CREATE TABLE bench.peer_event_default PARTITION OF bench.peer_event DEFAULT;
SELECT mailstatus.add_event_partition_indexes('bench.peer_event_default');
ALTER TABLE bench.peer_event ALTER COLUMN status TYPE bench.peer_status USING NULL;
CREATE TABLE bench.copy_event (LIKE mailstatus.event INCLUDING ALL) PARTITION BY RANGE (occurred_at);
CREATE TABLE bench.copy_event_default PARTITION OF bench.copy_event DEFAULT;
SELECT mailstatus.add_event_partition_indexes('bench.copy_event_default');

CREATE FUNCTION bench.peer_ingest(body jsonb) RETURNS bigint LANGUAGE sql AS $$
  WITH inserted AS (
    INSERT INTO bench.peer_event (event_key, sg_event_id, sg_message_id, message_id, email, event, status,
                                  occurred_at, received_at, reason, smtp_status, response, bounce_type,
                                  bounce_classification, url, useragent, ip, machine_open, attempt,
                                  asm_group_id, category, custom_args, payload)
    SELECT coalesce(nullif(e ->> 'sg_event_id', ''), 'sha256:' || encode(sha256(convert_to(e::text, 'UTF8')), 'hex')),
           e ->> 'sg_event_id',
           e ->> 'sg_message_id',
           coalesce(split_part(split_part(split_part(e ->> 'sg_message_id', '.filter', 1), '.recvd', 1), '.', 1), ''),
           lower(trim(e ->> 'email')),
           lower(e ->> 'event'),
           CASE lower(e ->> 'event')
             WHEN 'processed' THEN 'sent' WHEN 'deferred' THEN 'deferred' WHEN 'delivered' THEN 'delivered'
             WHEN 'open' THEN 'opened' WHEN 'click' THEN 'clicked' WHEN 'unsubscribe' THEN 'unsubscribed'
             WHEN 'group_unsubscribe' THEN 'unsubscribed' WHEN 'spamreport' THEN 'spam_report'
             WHEN 'bounce' THEN 'bounced' WHEN 'dropped' THEN 'dropped' END::bench.peer_status,
           CASE WHEN (e ->> 'timestamp')::numeric >= 1e11 THEN to_timestamp((e ->> 'timestamp')::numeric / 1000)
                ELSE to_timestamp((e ->> 'timestamp')::numeric) END,
           now(),
           e ->> 'reason', e ->> 'status', e ->> 'response', e ->> 'type', e ->> 'bounce_classification',
           e ->> 'url', e ->> 'useragent', e ->> 'ip',
           coalesce((e ->> 'sg_machine_open')::boolean, false),
           (e ->> 'attempt')::int,
           (e ->> 'asm_group_id')::int,
           CASE jsonb_typeof(e -> 'category')
             WHEN 'array' THEN ARRAY(SELECT jsonb_array_elements_text(e -> 'category'))
             WHEN 'string' THEN ARRAY[e ->> 'category'] END,
           e - '{email,timestamp,event,sg_event_id,sg_message_id,smtp-id,category,reason,status,response,attempt,type,bounce_classification,url,url_offset,useragent,ip,sg_machine_open,asm_group_id,tls,cert_err,pool,marketing_campaign_id,marketing_campaign_name,marketing_campaign_split_id,marketing_campaign_version,mc_stats,newsletter,phase_id,post_type,send_at,sg_content_type,sg_template_id,sg_template_name,sg_user_id,singlesend_id,singlesend_name,template_id,template_version_id}'::text[],
           e
      FROM jsonb_array_elements(body) AS e
    ON CONFLICT DO NOTHING
    RETURNING 1)
  SELECT count(*) FROM inserted $$;
