-- Events partitioned by month: a default partition made on first ingest, monthly partitions
-- made (moving rows out of the default), dedup across them, retention in O(1) with late
-- events for a dropped month rejected with the reason, and partitions that belong to the
-- user (pg_dump dumps them), not to the extension.
SET search_path = mailstatus, public;
SET timezone = 'UTC';
DROP EXTENSION mailstatus CASCADE;
CREATE EXTENSION mailstatus;

CREATE FUNCTION pg_temp.partitions() RETURNS TABLE (partition regclass, bound text, events bigint)
LANGUAGE sql AS $$
  SELECT c.oid::regclass, pg_get_expr(c.relpartbound, c.oid),
         (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %s', c.oid::regclass), false, true, '')))[1]::text::bigint
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
   WHERE i.inhparent = 'mailstatus.event'::regclass
     AND (pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT' OR c.relname < 'event_p2024')
   ORDER BY c.oid::regclass::text $$;

-- A fresh install has no partition; the first ingest makes the default one.
SELECT count(*) AS partitions FROM pg_inherits WHERE inhparent = 'mailstatus.event'::regclass;
SELECT * FROM ingest_sendgrid_event($$[
  {"email":"oct@example.com","timestamp":1696150000,"event":"delivered","sg_event_id":"p-oct","sg_message_id":"P1.filter.0"},
  {"email":"nov@example.com","timestamp":1699000000,"event":"delivered","sg_event_id":"p-nov","sg_message_id":"P2.filter.0"},
  {"email":"dec@example.com","timestamp":1701500000,"event":"delivered","sg_event_id":"p-dec","sg_message_id":"P3.filter.0"},
  {"email":"dec@example.com","timestamp":1701500100,"event":"open","sg_message_id":"P3.filter.0"}
]$$);
SELECT * FROM pg_temp.partitions();
-- The default partition and every partition made later are the user's tables, not members of
-- the extension: pg_dump dumps them with their rows, and pg_partman may manage them.
SELECT count(*) AS extension_members
  FROM pg_depend d JOIN pg_inherits i ON i.inhrelid = d.objid
 WHERE d.refclassid = 'pg_extension'::regclass AND i.inhparent = 'mailstatus.event'::regclass;

-- Monthly partitions, named as pg_partman names them, for this month on and every month the
-- default partition holds rows of; the rows move out of the default partition.
SELECT event_partition_name('2023-11-30 23:59:59+00'), event_partition_name('2023-12-01 00:00:00+00');
SELECT create_event_partitions(2) AS made;
SELECT * FROM pg_temp.partitions();
SELECT count(*) AS months_from_now
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'mailstatus.event'::regclass
   AND c.relname >= event_partition_name(now()) AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT';
-- Made already: nothing to do.
SELECT create_event_partitions(2) AS made;

-- Dedup holds across partitions: the whole batch again adds nothing, events still route to
-- their month.
SELECT * FROM ingest_sendgrid_event($$[
  {"email":"oct@example.com","timestamp":1696150000,"event":"delivered","sg_event_id":"p-oct","sg_message_id":"P1.filter.0"},
  {"email":"nov@example.com","timestamp":1699000000,"event":"delivered","sg_event_id":"p-nov","sg_message_id":"P2.filter.0"},
  {"email":"dec@example.com","timestamp":1701500000,"event":"delivered","sg_event_id":"p-dec","sg_message_id":"P3.filter.0"},
  {"email":"dec@example.com","timestamp":1701500100,"event":"open","sg_message_id":"P3.filter.0"},
  {"email":"nov@example.com","timestamp":1699000100,"event":"open","sg_event_id":"p-nov-open","sg_message_id":"P2.filter.0"}
]$$);
SELECT * FROM pg_temp.partitions();
-- An event older than every monthly partition goes to the default partition: stored.
SELECT stored FROM ingest_sendgrid_event('{"email":"old@example.com","timestamp":1600000000,"event":"delivered","sg_event_id":"p-2020","sg_message_id":"P0.filter.0"}');
SELECT tableoid::regclass, event_key FROM event WHERE event_key = 'p-2020';

-- Retention: every month before November 2023 is dropped whole (and older rows of the default partition).
SELECT drop_event_partitions('2023-11-15 12:00+00') AS dropped;
SELECT * FROM pg_temp.partitions();
SELECT retained_since FROM event_retention;
SELECT message_id, email, status FROM recipient_status ORDER BY 1, 2;
-- A late event for a dropped month is rejected with the reason, by both entry points, once.
SELECT * FROM ingest_sendgrid_event('{"email":"oct@example.com","timestamp":1696150100,"event":"open","sg_event_id":"p-oct-late","sg_message_id":"P1.filter.0"}');
SELECT * FROM ingest_sendgrid_webhook('[{"email":"oct@example.com","timestamp":1696150200,"event":"click","sg_event_id":"p-oct-later","sg_message_id":"P1.filter.0"}]');
SELECT * FROM ingest_sendgrid_event('{"email":"oct@example.com","timestamp":1696150100,"event":"open","sg_event_id":"p-oct-late","sg_message_id":"P1.filter.0"}');
SELECT element->>'sg_event_id' AS sg_event_id, reason FROM rejected_event ORDER BY id;
-- Events inside the window are stored as before.
SELECT stored FROM ingest_sendgrid_event('{"email":"nov@example.com","timestamp":1699000200,"event":"click","sg_event_id":"p-nov-click","sg_message_id":"P2.filter.0"}');
-- The window only moves forward.
SELECT drop_event_partitions('2023-01-01') AS dropped;
SELECT retained_since FROM event_retention;

-- Mistakes are refused with the reason.
SELECT drop_event_partitions(now() + interval '40 days');
SELECT create_event_partitions(-1);
SELECT create_event_partitions(121);

-- Without a default partition (dropped by hand), the next ingest makes it again.
DROP TABLE event_default;
SELECT stored FROM ingest_sendgrid_event('{"email":"again@example.com","timestamp":1717200000,"event":"delivered","sg_event_id":"p-again","sg_message_id":"P9.filter.0"}');
SELECT tableoid::regclass, event_key FROM event WHERE event_key = 'p-again';
SELECT ensure_event_default_partition() AS made;
