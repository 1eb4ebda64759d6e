-- The peer: the same job in plain SQL, as a CRM developer would write it. One table with a
-- bigserial id, the dedup key sg_event_id unique, an index on (message_id, email) for the
-- record's tab, the status as a SQL enum in precedence order and the event kept as jsonb;
-- ingest is jsonb_array_elements + INSERT ... ON CONFLICT (sg_event_id) DO NOTHING; reads
-- are max(status) and count(DISTINCT ...) over the events.
CREATE TYPE bench.peer_status AS ENUM
  ('sent', 'deferred', 'delivered', 'opened', 'clicked', 'unsubscribed', 'spam_report', 'bounced', 'dropped');

CREATE TABLE bench.peer_event (
  id bigserial PRIMARY KEY,
  sg_event_id text UNIQUE,
  message_id text NOT NULL,
  email text NOT NULL,
  event text NOT NULL,
  status bench.peer_status,
  machine_open boolean NOT NULL DEFAULT false,
  occurred_at timestamptz NOT NULL,
  payload jsonb NOT NULL
);
CREATE INDEX peer_event_message_email_idx ON bench.peer_event (message_id, email);

CREATE FUNCTION bench.peer_ingest(body jsonb) RETURNS bigint LANGUAGE sql AS $$
  WITH inserted AS (
    INSERT INTO bench.peer_event (sg_event_id, message_id, email, event, status, machine_open, occurred_at, payload)
    SELECT e ->> 'sg_event_id',
           split_part(split_part(e ->> 'sg_message_id', '.filter', 1), '.recvd', 1),
           lower(trim(e ->> 'email')),
           e ->> 'event',
           CASE e ->> 'event'
             WHEN 'processed' THEN 'sent' WHEN 'deferred' THEN 'deferred' WHEN 'delivered' THEN 'delivered'
             WHEN 'open' THEN 'opened' WHEN 'click' THEN 'clicked' WHEN 'unsubscribe' THEN 'unsubscribed'
             WHEN 'group_unsubscribe' THEN 'unsubscribed' WHEN 'spamreport' THEN 'spam_report'
             WHEN 'bounce' THEN 'bounced' WHEN 'dropped' THEN 'dropped' END::bench.peer_status,
           COALESCE((e ->> 'sg_machine_open')::boolean, false),
           to_timestamp((e ->> 'timestamp')::numeric),
           e
      FROM jsonb_array_elements(body) AS e
    ON CONFLICT (sg_event_id) DO NOTHING
    RETURNING 1)
  SELECT count(*) FROM inserted $$;

-- Its reads, the plain-SQL way.
CREATE VIEW bench.peer_recipient_status AS
SELECT message_id, email, max(status) FILTER (WHERE NOT machine_open) AS status
  FROM bench.peer_event GROUP BY message_id, email;

-- Deliverability as mailstatus defines it (README, "Deliverability"): each recipient once, on
-- its send day (its processed, else its first event), with what became of it.
CREATE VIEW bench.peer_deliverability AS
SELECT day, count(*) AS sent, count(*) FILTER (WHERE delivered) AS delivered,
       count(*) FILTER (WHERE bounced) AS bounced, count(*) FILTER (WHERE blocked AND NOT bounced) AS blocked,
       count(*) FILTER (WHERE dropped) AS dropped, count(*) FILTER (WHERE deferred) AS deferred,
       count(*) FILTER (WHERE spam_reported) AS spam_reports, count(*) FILTER (WHERE opened_by_human) AS unique_human_opens,
       sum(machine_opens) AS machine_opens, sum(clicks) AS clicks
  FROM (SELECT (COALESCE(min(occurred_at) FILTER (WHERE event = 'processed'), min(occurred_at)) AT TIME ZONE 'UTC')::date AS day,
               bool_or(event IN ('delivered', 'open', 'click', 'spamreport')) AS delivered,
               bool_or(event = 'bounce' AND payload ->> 'type' IS DISTINCT FROM 'blocked') AS bounced,
               bool_or(event = 'bounce' AND payload ->> 'type' = 'blocked') AS blocked,
               bool_or(event = 'dropped') AS dropped, bool_or(event = 'deferred') AS deferred,
               bool_or(event = 'spamreport') AS spam_reported, bool_or(event = 'open' AND NOT machine_open) AS opened_by_human,
               count(*) FILTER (WHERE event = 'open' AND machine_open) AS machine_opens,
               count(*) FILTER (WHERE event = 'click') AS clicks
          FROM bench.peer_event
         WHERE event IN ('processed', 'delivered', 'bounce', 'dropped', 'deferred', 'spamreport', 'open', 'click')
         GROUP BY message_id, email) AS r
 GROUP BY day;
