-- The update to 0.4.0 where pg_partman (4.7, Debian's postgresql-15-partman) took over the
-- monthly partitions at 0.3.0, as README's hand-over does: the partitions come back under
-- partman's names with their rows converted, partman's template gets the new layout, and
-- partman's maintenance and retention go on, the state keeping what retention drops.
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
DROP EXTENSION mailstatus CASCADE;
CREATE EXTENSION mailstatus VERSION '0.3.0';

-- The events are stored as the ingest of 0.3.0 stored them (the library installed is 0.4.0's).
SELECT mailstatus.ensure_event_default_partition() AS made;
CREATE FUNCTION pg_temp.content_key(jsonb) RETURNS text AS '$libdir/mailstatus', 'content_key' LANGUAGE C IMMUTABLE STRICT;
CREATE FUNCTION pg_temp.ingest_as_0_3(body jsonb) RETURNS bigint LANGUAGE sql AS $$
  WITH stored AS (
    INSERT INTO mailstatus.event (event_key, sg_event_id, sg_message_id, message_id, email, event, status, occurred_at,
                                  received_at, reason, bounce_type, machine_open, category, custom_args, payload)
    SELECT COALESCE(NULLIF(e ->> 'sg_event_id', ''), pg_temp.content_key(e)), e ->> 'sg_event_id', e ->> 'sg_message_id',
           COALESCE(mailstatus.message_id_of(e ->> 'sg_message_id'), ''), mailstatus.normalize_email(e ->> 'email'),
           e ->> 'event', mailstatus.mail_status_of_event(e ->> 'event'), to_timestamp((e ->> 'timestamp')::numeric),
           '2023-12-20 00:00+00', e ->> 'reason', e ->> 'type', false,
           CASE WHEN e ? 'category' THEN ARRAY[e ->> 'category'] END,
           e - '{email,timestamp,event,sg_event_id,sg_message_id,category,reason,type}'::text[], e
      FROM jsonb_array_elements(body) AS e
    ON CONFLICT DO NOTHING RETURNING 1)
  SELECT count(*) FROM stored $$;
SELECT pg_temp.ingest_as_0_3($$[
  {"email":"oct@example.com","timestamp":1696150000,"event":"delivered","sg_event_id":"pu-oct","sg_message_id":"PU1.filter.0"},
  {"email":"oct@example.com","timestamp":1696150100,"event":"spamreport","sg_event_id":"pu-oct-spam","sg_message_id":"PU1.filter.0"},
  {"email":"nov@example.com","timestamp":1699000000,"event":"delivered","sg_event_id":"pu-nov","sg_message_id":"PU2.filter.0","category":"invoice"},
  {"email":"dec@example.com","timestamp":1701500000,"event":"bounce","type":"bounce","reason":"550","sg_event_id":"pu-dec","sg_message_id":"PU3.filter.0"}
]$$) AS stored;

-- README's hand-over at 0.3.0.
CREATE SCHEMA partman;
CREATE EXTENSION pg_partman SCHEMA partman;
BEGIN;
LOCK TABLE mailstatus.event IN SHARE ROW EXCLUSIVE MODE;
SELECT mailstatus.create_event_partitions() >= 0 AS done;
DROP TABLE mailstatus.event_default;
CREATE TABLE partman.template_mailstatus_event (LIKE mailstatus.event);
SELECT mailstatus.add_event_partition_indexes('partman.template_mailstatus_event');
SELECT partman.create_parent('mailstatus.event', 'occurred_at', 'native', 'monthly', p_premake := 2);
COMMIT;
CREATE TEMP TABLE statuses_at_0_3 AS SELECT message_id, email, status::text FROM mailstatus.recipient_status;
CREATE TEMP TABLE suppressions_at_0_3 AS SELECT email, cause FROM mailstatus.suppression;
SELECT (SELECT count(*) FROM statuses_at_0_3) AS statuses, (SELECT count(*) FROM suppressions_at_0_3) AS suppressions;

ALTER EXTENSION mailstatus UPDATE;
-- The same partitions, each with the new primary key and its rows; partman's template has the
-- columns and keys of the new event table.
SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound,
       (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %s', c.oid::regclass), false, true, '')))[1]::text::int AS events,
       pg_get_indexdef(x.indexrelid) LIKE '%(message_id, occurred_at, content_hash)' AS has_the_primary_key
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
  LEFT JOIN pg_index x ON x.indrelid = c.oid AND x.indisprimary
 WHERE i.inhparent = 'mailstatus.event'::regclass AND (c.relname < 'event_p2024' OR c.relname = 'event_default')
 ORDER BY 1;
SELECT (SELECT array_agg(attname || ' ' || format_type(atttypid, atttypmod) ORDER BY attnum) FROM pg_attribute
         WHERE attrelid = 'partman.template_mailstatus_event'::regclass AND attnum > 0 AND NOT attisdropped)
     = (SELECT array_agg(attname || ' ' || format_type(atttypid, atttypmod) ORDER BY attnum) FROM pg_attribute
         WHERE attrelid = 'mailstatus.event'::regclass AND attnum > 0 AND NOT attisdropped) AS template_has_the_new_columns,
       EXISTS (SELECT FROM pg_index x WHERE x.indrelid = 'partman.template_mailstatus_event'::regclass AND x.indisprimary
                  AND pg_get_indexdef(x.indexrelid) LIKE '%(message_id, occurred_at, content_hash)') AS template_has_the_primary_key,
       NOT EXISTS (SELECT FROM pg_depend d WHERE d.refclassid = 'pg_extension'::regclass
                      AND d.objid = 'partman.template_mailstatus_event'::regclass) AS template_is_the_users;
-- Statuses and suppressions as they were.
SELECT (SELECT count(*) FROM (SELECT * FROM statuses_at_0_3 EXCEPT SELECT message_id, email, status::text FROM mailstatus.recipient_status) a)
     + (SELECT count(*) FROM (SELECT message_id, email, status::text FROM mailstatus.recipient_status EXCEPT SELECT * FROM statuses_at_0_3) b)
       AS status_differences,
       (SELECT count(*) FROM (SELECT * FROM suppressions_at_0_3 EXCEPT SELECT email, cause FROM mailstatus.suppression) a)
     + (SELECT count(*) FROM (SELECT email, cause FROM mailstatus.suppression EXCEPT SELECT * FROM suppressions_at_0_3) b)
       AS suppression_differences;

-- pg_partman's maintenance makes new months from the new template: ingest dedups in them.
SELECT partman.run_maintenance('mailstatus.event');
SELECT c.relname AS partition_without_the_primary_key
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'mailstatus.event'::regclass
   AND NOT EXISTS (SELECT FROM pg_index x WHERE x.indrelid = c.oid AND x.indisprimary
                      AND pg_get_indexdef(x.indexrelid) LIKE '%(message_id, occurred_at, content_hash)');
SELECT * FROM mailstatus.ingest_sendgrid_event(jsonb_build_array(
  jsonb_build_object('email', 'now@example.com', 'timestamp', extract(epoch FROM date_trunc('month', now()))::bigint + 3600,
                     'event', 'delivered', 'sg_event_id', 'pu-now', 'sg_message_id', 'PU9.filter.0'),
  jsonb_build_object('email', 'dec@example.com', 'timestamp', 1701500000, 'event', 'bounce', 'type', 'bounce', 'reason', '550',
                     'sg_event_id', 'pu-dec', 'sg_message_id', 'PU3.filter.0')));
SELECT * FROM mailstatus.ingest_sendgrid_event(jsonb_build_array(
  jsonb_build_object('email', 'now@example.com', 'timestamp', extract(epoch FROM date_trunc('month', now()))::bigint + 3600,
                     'event', 'delivered', 'sg_event_id', 'pu-now', 'sg_message_id', 'PU9.filter.0')));

-- pg_partman's retention drops the old months; the state keeps what they made.
UPDATE partman.part_config SET retention = '12 months', retention_keep_table = false WHERE parent_table = 'mailstatus.event';
SELECT partman.run_maintenance('mailstatus.event');
SELECT count(*) AS events_of_2023 FROM mailstatus.event WHERE occurred_at < '2024-01-01';
SELECT message_id, email, status FROM mailstatus.recipient_status ORDER BY 1, 2;
SELECT email, cause FROM mailstatus.suppression ORDER BY 1;
SELECT * FROM mailstatus.state_differences();

DROP EXTENSION mailstatus CASCADE;
DROP EXTENSION pg_partman;
DROP SCHEMA partman CASCADE;
CREATE EXTENSION mailstatus;
