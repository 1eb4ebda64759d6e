-- Every upgrade script, from the oldest version to the newest: a CRM's data stored under
-- 0.1.0 survives ALTER EXTENSION ... UPDATE to 0.2.0, 0.3.0 (partitioned events, message id
-- never NULL) and 0.4.0 (compact events, state merged at ingest): every event as posted, every
-- status, roll-up, suppression and deliverability figure, the grants on what an update
-- remakes, the monthly partitions; after 0.4.0 the state agrees with its recomputation and
-- re-posted batches are duplicates.
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
DROP EXTENSION mailstatus CASCADE;
CREATE EXTENSION mailstatus VERSION '0.1.0';
SELECT extversion FROM pg_extension WHERE extname = 'mailstatus';
SELECT source, target, path FROM pg_extension_update_paths('mailstatus') WHERE path IS NOT NULL ORDER BY 1, 2;

-- The installed library is 0.4.0's: its ingest refuses an older layout and says what to do.
SELECT * FROM mailstatus.ingest_sendgrid_event('[{"email":"ann@example.com","timestamp":1700000000,"event":"delivered"}]');

-- The events are stored as the ingest of 0.1.0 to 0.3.0 stored them: a row per element, keyed
-- by sg_event_id or by the element's content, the element kept whole as payload.
CREATE FUNCTION pg_temp.content_key(jsonb) RETURNS text AS '$libdir/mailstatus', 'content_key' LANGUAGE C IMMUTABLE STRICT;
CREATE FUNCTION pg_temp.ingest_as_before_0_4(body jsonb) RETURNS bigint LANGUAGE sql AS $$
  WITH stored AS (
    INSERT INTO mailstatus.event (event_key, sg_event_id, sg_message_id, message_id, email, event, status, occurred_at,
                                  received_at, reason, smtp_status, response, bounce_type, bounce_classification, url,
                                  useragent, ip, machine_open, attempt, asm_group_id, category, custom_args, payload)
    SELECT COALESCE(NULLIF(e ->> 'sg_event_id', ''), pg_temp.content_key(e)), e ->> 'sg_event_id', e ->> 'sg_message_id',
           mailstatus.message_id_of(e ->> 'sg_message_id'), mailstatus.normalize_email(e ->> 'email'), lower(e ->> 'event'),
           mailstatus.mail_status_of_event(e ->> 'event'),
           to_timestamp(CASE WHEN (e ->> 'timestamp')::numeric >= 1e11 THEN (e ->> 'timestamp')::numeric / 1000
                             ELSE (e ->> 'timestamp')::numeric END),
           '2023-11-20 00:00+00', e ->> 'reason', e ->> 'status', e ->> 'response', e ->> 'type', e ->> 'bounce_classification',
           e ->> 'url', e ->> 'useragent', e ->> 'ip', COALESCE((e ->> 'sg_machine_open')::boolean, false),
           (e ->> 'attempt')::int, (e ->> 'asm_group_id')::int,
           CASE jsonb_typeof(e -> 'category') WHEN 'array' THEN ARRAY(SELECT jsonb_array_elements_text(e -> 'category'))
                                              WHEN 'string' THEN ARRAY[e ->> 'category'] END,
           e - '{email,timestamp,event,sg_event_id,sg_message_id,smtp-id,category,reason,status,response,attempt,type,bounce_classification,url,useragent,ip,sg_machine_open,asm_group_id,tls}'::text[],
           e
      FROM jsonb_array_elements(body) AS e
    ON CONFLICT DO NOTHING RETURNING 1)
  SELECT count(*) FROM stored $$;

-- A CRM at 0.1.0: sends recorded, a month of SendGrid's events of every kind.
SELECT mailstatus.record_send('U1', ARRAY['ann@example.com', 'bob@example.com'], '{"crm_record":"U-1"}', '2023-11-14 22:00+00');
SELECT mailstatus.record_send('U2', ARRAY['dee@example.com'], '{"crm_record":"U-2"}', '2023-11-14 22:05+00');
CREATE TEMP TABLE posted_month AS SELECT $$[
  {"email":"ann@example.com","timestamp":1700000000,"event":"processed","sg_event_id":"u0","sg_message_id":"U1.filter0001-1","category":["invoice","north"],"crm_record":"U-1","smtp-id":"<U1@example.com>"},
  {"email":"ann@example.com","timestamp":1700000030,"event":"delivered","sg_event_id":"u1","sg_message_id":"U1.filter0001-1","category":["invoice","north"],"crm_record":"U-1","response":"250 OK","tls":1},
  {"email":"ann@example.com","timestamp":1700000100,"event":"open","sg_event_id":"u2","sg_message_id":"U1.filter0001-1","useragent":"Mozilla/5.0","ip":"203.0.113.9","sg_machine_open":false,"crm_record":"U-1"},
  {"email":"ann@example.com","timestamp":1700000160,"event":"click","sg_event_id":"u3","sg_message_id":"U1.filter0001-1","url":"https://example.com/pay?i=1","crm_record":"U-1"},
  {"email":"Bob@Example.com","timestamp":1700000050,"event":"bounce","type":"bounce","sg_event_id":"u4","sg_message_id":"U1.filter0001-2","reason":"550 5.1.1 gone","status":"5.1.1","bounce_classification":"Invalid Address"},
  {"email":"dee@example.com","timestamp":1700000400,"event":"deferred","sg_event_id":"u5","sg_message_id":"U2.recvd-5f8b-1","attempt":"2","response":"421 try later"},
  {"email":"dee@example.com","timestamp":1700000500000,"event":"open","sg_event_id":"u6","sg_message_id":"U2.recvd-5f8b-1","sg_machine_open":true},
  {"email":"dee@example.com","timestamp":1700000600,"event":"spamreport","sg_event_id":"u7","sg_message_id":"U2.recvd-5f8b-1"},
  {"email":"cy@example.com","timestamp":1700000060,"event":"unsubscribe"},
  {"email":"eve@example.com","timestamp":1700000070,"event":"group_unsubscribe","asm_group_id":4,"sg_event_id":"u8","sg_message_id":"U3.filter0001-1"},
  {"email":"fay@example.com","timestamp":1700000080,"event":"dropped","reason":"Bounced Address","sg_event_id":"u9","sg_message_id":"U4.filter0001-1","category":"reminder"},
  {"email":"gus@example.com","timestamp":1700000090,"event":"future_event","sg_event_id":"u10","sg_message_id":"U5.filter0001-1","note":{"nested":[1,2.50,"x"]}}
]$$::jsonb AS body;
SELECT pg_temp.ingest_as_before_0_4((SELECT body FROM posted_month)) AS stored;
-- An async bounce that names no message (0.1.0 and 0.2.0 kept its message id NULL), a reject.
SELECT mailstatus.record_send('U6', ARRAY['hal@example.com'], '{}', '2023-11-14 23:00+00');
SELECT pg_temp.ingest_as_before_0_4('[{"email":"hal@example.com","timestamp":1700003000,"event":"bounce","type":"blocked","sg_event_id":"u11","sg_message_id":"","reason":"554 policy"}]') AS stored;
INSERT INTO mailstatus.rejected_event (element_key, reason, element) VALUES ('sha256:junk', 'an element must be a JSON object, not string', '"junk"');

-- What a CRM reads, in the columns every version has, and every event as posted.
CREATE FUNCTION pg_temp.event_reads() RETURNS TABLE (item jsonb) LANGUAGE sql AS $$
  SELECT jsonb_build_object('key', e.event_key, 'payload', e.payload) FROM mailstatus.event e $$;
CREATE FUNCTION pg_temp.reads() RETURNS TABLE (kind text, item jsonb) LANGUAGE sql AS $$
  SELECT 'recipient', jsonb_build_object('message_id', COALESCE(r.message_id, ''), 'email', r.email, 'status', r.status,
                                         'status_at', r.status_at, 'opens', r.opens, 'clicks', r.clicks, 'reason', r.reason)
    FROM mailstatus.recipient_status r
  UNION ALL
  SELECT 'message', jsonb_build_object('message_id', COALESCE(m.message_id, ''), 'recipients', m.recipients, 'status', m.status)
    FROM mailstatus.message_status m
  UNION ALL
  SELECT 'event', e.item FROM pg_temp.event_reads() e
  UNION ALL
  SELECT 'reject', r.element FROM mailstatus.rejected_event r $$;
CREATE TEMP TABLE reads_at AS SELECT '0.1.0'::text AS version, r.* FROM pg_temp.reads() r;
SELECT kind, count(*) FROM reads_at GROUP BY kind ORDER BY kind;
-- What differs now from what was read at a version.
CREATE FUNCTION pg_temp.changed_since(since text, current_reads text DEFAULT 'pg_temp.reads()') RETURNS TABLE (side text, kind text, item jsonb)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format(
    'SELECT ''then'', kind, item FROM (SELECT kind, item FROM reads_at WHERE version = %L EXCEPT ALL SELECT * FROM %s) d
     UNION ALL
     SELECT ''now'', kind, item FROM (SELECT * FROM %s EXCEPT ALL SELECT kind, item FROM reads_at WHERE version = %L) d
     ORDER BY 2, 3, 1', since, current_reads, current_reads, since);
END $$;

ALTER EXTENSION mailstatus UPDATE TO '0.2.0';
SELECT extversion FROM pg_extension WHERE extname = 'mailstatus';
SELECT * FROM pg_temp.changed_since('0.1.0');
-- A CRM at 0.2.0: status tracking on, a reader role with its grants, a role that maintains.
SELECT mailstatus.track_status(true) AS tracked;
CREATE ROLE upgrade_reader;
GRANT USAGE ON SCHEMA mailstatus TO upgrade_reader;
GRANT SELECT ON mailstatus.recipient_status, mailstatus.message_status, mailstatus.event, mailstatus.deliverability_daily,
                mailstatus.suppression, mailstatus.recipient_status_current TO upgrade_reader;
GRANT EXECUTE ON FUNCTION mailstatus.recipient_status_for(jsonb), mailstatus.is_suppressed(text, integer),
                          mailstatus.record_send(text, text[], jsonb, timestamptz) TO upgrade_reader;
-- The reads 0.2.0 adds: suppressions and deliverability.
CREATE FUNCTION pg_temp.reads_0_2() RETURNS TABLE (kind text, item jsonb) LANGUAGE sql AS $$
  SELECT * FROM pg_temp.reads()
  UNION ALL
  SELECT 'suppression', jsonb_build_object('email', s.email, 'asm_group_id', s.asm_group_id, 'cause', s.cause, 'reason', s.reason,
                                           'since', s.suppressed_since)
    FROM mailstatus.suppression s
  UNION ALL
  SELECT 'deliverability', to_jsonb(d) FROM mailstatus.deliverability_daily d $$;
INSERT INTO reads_at SELECT '0.2.0', r.* FROM pg_temp.reads_0_2() r;
SELECT kind, count(*) FROM reads_at WHERE version = '0.2.0' AND kind IN ('suppression', 'deliverability') GROUP BY kind ORDER BY kind;

ALTER EXTENSION mailstatus UPDATE TO '0.3.0';
SELECT extversion FROM pg_extension WHERE extname = 'mailstatus';
-- 0.3.0 names "no message" '' instead of NULL: the only change.
SELECT * FROM pg_temp.changed_since('0.2.0', 'pg_temp.reads_0_2()');
-- A CRM at 0.3.0: monthly partitions, the grants on what 0.3.0 added.
SELECT mailstatus.create_event_partitions(0) > 0 AS partitioned;
SELECT tableoid::regclass AS partition, count(*) FROM mailstatus.event GROUP BY 1 ORDER BY 1;
GRANT EXECUTE ON FUNCTION mailstatus.deliverability_daily_by(text, timestamptz, timestamptz) TO upgrade_reader;
SELECT pg_temp.ingest_as_before_0_4('[{"email":"ann@example.com","timestamp":1700090000,"event":"open","sg_event_id":"u12","sg_message_id":"U1.filter0001-1","crm_record":"U-1"}]') AS stored;
CREATE FUNCTION pg_temp.reads_0_3() RETURNS TABLE (kind text, item jsonb) LANGUAGE sql AS $$
  SELECT * FROM pg_temp.reads_0_2()
  UNION ALL
  SELECT 'recipient_full', to_jsonb(r) FROM mailstatus.recipient_status r
  UNION ALL
  SELECT 'message_full', to_jsonb(m) FROM mailstatus.message_status m
  UNION ALL
  SELECT 'by_category', to_jsonb(d) FROM mailstatus.deliverability_daily_by('category') d
  UNION ALL
  SELECT 'by_crm_record', to_jsonb(d) FROM mailstatus.deliverability_daily_by('crm_record') d
  UNION ALL
  SELECT 'for_record', to_jsonb(f) FROM mailstatus.recipient_status_for('{"crm_record":"U-1"}') f
  UNION ALL
  SELECT 'is_suppressed', jsonb_build_object(a, mailstatus.is_suppressed(a, 4))
    FROM unnest(ARRAY['ann@example.com', 'BOB@example.com', 'cy@example.com', 'dee@example.com', 'eve@example.com',
                      'fay@example.com', 'hal@example.com', 'nobody@example.com']) AS a $$;
INSERT INTO reads_at SELECT '0.3.0', r.* FROM pg_temp.reads_0_3() r;

-- What the conversion to 0.4.0 must keep of each event, beyond the event as posted: when it
-- occurred and was received, its message and address, its name.
CREATE TEMP TABLE events_at_0_3 AS
SELECT e.event_key AS key, e.occurred_at, e.received_at, e.message_id, e.email, e.event, e.payload FROM mailstatus.event e;

ALTER EXTENSION mailstatus UPDATE TO '0.4.0';
SELECT extversion FROM pg_extension WHERE extname = 'mailstatus';
-- Each event kept, every one of those under its key (an async bounce's message: '' still,
-- attributed apart).
SELECT count(*) AS events_at_0_3,
       count(*) FILTER (WHERE n.key IS NOT NULL) AS kept_whole
  FROM events_at_0_3 o
  LEFT JOIN (SELECT mailstatus.event_key(e) AS key, e.occurred_at, e.received_at, e.message_id, e.email, e.event,
                    mailstatus.event_payload(e) AS payload FROM mailstatus.event e) n
    ON n.key = o.key AND n.occurred_at = o.occurred_at AND n.received_at = o.received_at AND n.message_id = o.message_id
   AND n.email = o.email AND n.event = o.event AND n.payload = o.payload;
SELECT count(*) AS converted_events, count(DISTINCT e.content_hash) AS distinct_hashes,
       count(*) FILTER (WHERE e.content_hash = mailstatus.content_hash(mailstatus.event_payload(e))) AS hashed_as_posted
  FROM mailstatus.event e;
-- Every read of 0.3.0 is the same, each event as posted under its key, but for what 0.4.0
-- means to change: the async bounce that named no message is attributed to the send it
-- answers (hal's, U6, 50 minutes before it); a recipient counts under the categories and the
-- custom args of all its events and of its send (0.3.0 took each day's events alone: ann's
-- later open carried no category, the events of dee and bob no crm_record, their sends did).
CREATE OR REPLACE FUNCTION pg_temp.event_reads() RETURNS TABLE (item jsonb) LANGUAGE sql AS $$
  SELECT jsonb_build_object('key', mailstatus.event_key(e), 'payload', mailstatus.event_payload(e)) FROM mailstatus.event e $$;
SELECT * FROM pg_temp.changed_since('0.3.0', 'pg_temp.reads_0_3()');
SELECT message_id, attributed_message_id, email, event FROM mailstatus.event WHERE attributed_message_id IS NOT NULL;
-- Each event keeps the time it was received at (0.1.0 to 0.3.0 received all of them on the 20th).
SELECT received_at, count(*) FROM mailstatus.event GROUP BY 1;
-- The state agrees with what the events recompute; the partitions are the same months, each
-- with the new primary key.
SELECT * FROM mailstatus.state_differences();
SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound,
       pg_get_indexdef(x.indexrelid) LIKE '%(message_id, occurred_at, content_hash)' AS has_the_primary_key
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
  LEFT JOIN pg_index x ON x.indrelid = c.oid AND x.indisprimary
 WHERE i.inhparent = 'mailstatus.event'::regclass AND (c.relname < 'event_p2024' OR c.relname = 'event_default')
 ORDER BY 1;
SELECT count(*) AS old_tables_left FROM pg_class WHERE relnamespace = 'mailstatus'::regnamespace AND relname LIKE '%before_0_4%';
SELECT count(*) AS extension_members FROM pg_depend d JOIN pg_inherits i ON i.inhrelid = d.objid
 WHERE d.refclassid = 'pg_extension'::regclass AND i.inhparent = 'mailstatus.event'::regclass;
-- The grants were given back, to what replaced what they were on.
SELECT has_table_privilege('upgrade_reader', 'mailstatus.recipient_status', 'SELECT') AS recipient_status,
       has_table_privilege('upgrade_reader', 'mailstatus.message_status', 'SELECT') AS message_status,
       has_table_privilege('upgrade_reader', 'mailstatus.event', 'SELECT') AS event,
       has_table_privilege('upgrade_reader', 'mailstatus.suppression', 'SELECT') AS suppression,
       has_table_privilege('upgrade_reader', 'mailstatus.deliverability_daily', 'SELECT') AS deliverability_daily,
       has_table_privilege('upgrade_reader', 'mailstatus.status_counts', 'SELECT') AS status_counts_never_granted,
       has_function_privilege('upgrade_reader', 'mailstatus.deliverability_daily_by(text, timestamptz, timestamptz)', 'EXECUTE') AS deliverability_daily_by,
       has_function_privilege('upgrade_reader', 'mailstatus.recipient_status_for(jsonb)', 'EXECUTE') AS recipient_status_for,
       has_function_privilege('upgrade_reader', 'mailstatus.is_suppressed(text, integer)', 'EXECUTE') AS is_suppressed,
       has_function_privilege('upgrade_reader', 'mailstatus.record_send(text, text[], jsonb, timestamptz)', 'EXECUTE') AS record_send;
SELECT count(*) AS tracking_left FROM pg_proc WHERE pronamespace = 'mailstatus'::regnamespace AND proname IN ('track_status', 'recipient_status_changed');

-- 0.4.0's schema works on the old data with 0.5.0's library installed (before ALTER EXTENSION
-- ... UPDATE): the whole month posted again is duplicates (dedup holds across the
-- conversion), a new event merges into the converted state and logs its status change.
SELECT * FROM mailstatus.ingest_sendgrid_event((SELECT body FROM posted_month) || $$[
  {"email":"hal@example.com","timestamp":1700003000,"event":"bounce","type":"blocked","sg_event_id":"u11","sg_message_id":"","reason":"554 policy"},
  "junk"
]$$::jsonb);
SELECT * FROM mailstatus.ingest_sendgrid_event('[{"email":"bob@example.com","timestamp":1700100000,"event":"delivered","sg_event_id":"u13","sg_message_id":"U1.filter0001-2"},
  {"email":"gus@example.com","timestamp":1700100000,"event":"delivered","sg_event_id":"u14","sg_message_id":"U5.filter0001-1"}]');
SELECT message_id, email, old_status, new_status FROM mailstatus.status_change ORDER BY id;

-- The update to 0.5.0: each recipient counted once, on its send day, its send (record_send)
-- a hand-off as SendGrid's processed (0.4.0 counted processed alone, each event on its own
-- day: 2023-11-16 showed sent 0 | delivered 2); every counter recomputed from the state; the
-- names 0.4.0 removed back for one version, deprecated.
ALTER EXTENSION mailstatus UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'mailstatus';
SELECT * FROM mailstatus.state_differences();
SELECT day, sent, delivered, bounced, blocked, dropped, deferred, delivery_rate FROM mailstatus.deliverability_daily ORDER BY day;
SELECT count(*) AS status_counts_differing FROM (
  (SELECT status, recipients FROM mailstatus.status_counts EXCEPT
   SELECT status, count(*) FROM mailstatus.recipient_status GROUP BY status)
  UNION ALL
  (SELECT status, count(*) FROM mailstatus.recipient_status GROUP BY status EXCEPT
   SELECT status, recipients FROM mailstatus.status_counts)) d;
-- The deprecated names are back: recipient_status_current is recipient_status, readable by
-- whoever reads that; track_status changes nothing and says so.
SELECT mailstatus.track_status(true) AS tracked, (SELECT count(*) FROM mailstatus.recipient) AS recipients;
SELECT mailstatus.track_status(false) AS tracked;
SELECT has_table_privilege('upgrade_reader', 'mailstatus.recipient_status_current', 'SELECT') AS reads_recipient_status_current;
SET ROLE upgrade_reader;
SELECT count(*) AS rows_differing FROM (
  (SELECT * FROM mailstatus.recipient_status_current EXCEPT ALL SELECT * FROM mailstatus.recipient_status)
  UNION ALL (SELECT * FROM mailstatus.recipient_status EXCEPT ALL SELECT * FROM mailstatus.recipient_status_current)) d;
SELECT message_id, email, status FROM mailstatus.recipient_status_current WHERE message_id = 'U1' ORDER BY 1, 2;
SELECT message_id, email, status FROM mailstatus.recipient_status_for('{"crm_record":"U-1"}') ORDER BY 1, 2;
SELECT mailstatus.is_suppressed('CY@example.com') AS cy, mailstatus.is_suppressed('bob@example.com') AS bob_delivered_since;
SELECT day, sent, delivered, bounced, blocked FROM mailstatus.deliverability_daily ORDER BY day;
RESET ROLE;
DROP OWNED BY upgrade_reader;
DROP ROLE upgrade_reader;
