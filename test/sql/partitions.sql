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
SELECT e.tableoid::regclass, event_key(e) FROM event e WHERE e.sg_event_id = 'p-2020';

-- Retention: every month before November 2023 is dropped whole (and older rows of the default partition).
SELECT drop_event_partitions('2023-11-15 12:00+00') AS dropped;
SELECT * FROM pg_temp.partitions();
SELECT retained_since FROM event_retention;
-- The statuses of the dropped months' recipients are state: they stay.
SELECT message_id, email, status FROM recipient_status ORDER BY 1, 2;
-- The window starts exactly at the first kept month: an event at that instant is stored, one
-- a microsecond before it is rejected.
SELECT * FROM ingest_sendgrid_event('[{"email":"edge@example.com","timestamp":1698796800,"event":"delivered","sg_event_id":"p-edge-in","sg_message_id":"PE.filter.0"},
  {"email":"edge@example.com","timestamp":"1698796799.999999","event":"processed","sg_event_id":"p-edge-out","sg_message_id":"PE.filter.0"}]');
SELECT e.occurred_at, e.sg_event_id FROM event e WHERE e.email = 'edge@example.com';
SELECT element->>'sg_event_id' AS sg_event_id, reason FROM rejected_event ORDER BY id;
-- A late event for a dropped month is rejected with the reason, by both entry points, once.
SELECT * FROM ingest_sendgrid_event('{"email":"oct@example.com","timestamp":1696150100,"event":"open","sg_event_id":"p-oct-late","sg_message_id":"P1.filter.0"}');
SELECT * FROM ingest_sendgrid_webhook('[{"email":"oct@example.com","timestamp":1696150200,"event":"click","sg_event_id":"p-oct-later","sg_message_id":"P1.filter.0"}]');
SELECT * FROM ingest_sendgrid_event('{"email":"oct@example.com","timestamp":1696150100,"event":"open","sg_event_id":"p-oct-late","sg_message_id":"P1.filter.0"}');
SELECT element->>'sg_event_id' AS sg_event_id, reason FROM rejected_event WHERE element->>'sg_event_id' LIKE 'p-oct%' ORDER BY id;
-- Events inside the window are stored as before.
SELECT stored FROM ingest_sendgrid_event('{"email":"nov@example.com","timestamp":1699000200,"event":"click","sg_event_id":"p-nov-click","sg_message_id":"P2.filter.0"}');
-- The window only moves forward.
SELECT drop_event_partitions('2023-01-01 00:00+00') AS dropped;
SELECT retained_since FROM event_retention;

-- Mistakes are refused with the reason.
SELECT drop_event_partitions(now() + interval '40 days');
SELECT create_event_partitions(-1);
SELECT create_event_partitions(121);
SELECT drop_event_partitions('2023-01-01 00:00+00', lock_wait => '0');

-- Without a default partition (dropped by hand), the next ingest makes it again.
DROP TABLE event_default;
SELECT stored FROM ingest_sendgrid_event('{"email":"again@example.com","timestamp":1717200000,"event":"delivered","sg_event_id":"p-again","sg_message_id":"P9.filter.0"}');
SELECT e.tableoid::regclass, event_key(e) FROM event e WHERE e.sg_event_id = 'p-again';
SELECT ensure_event_default_partition() AS made;

-- Retention keeps every view: dropping every month but the current one changes no status,
-- roll-up, suppression or deliverability figure, and the state still agrees with what the
-- kept events recompute.
SELECT stored FROM ingest_sendgrid_event($$[
  {"email":"r1@example.com","timestamp":1699000300,"event":"spamreport","sg_event_id":"p-spam","sg_message_id":"P2.filter.1"},
  {"email":"r2@example.com","timestamp":1701500300,"event":"bounce","type":"blocked","sg_event_id":"p-block","sg_message_id":"P3.filter.1","category":"invoice"},
  {"email":"r3@example.com","timestamp":1701500300,"event":"group_unsubscribe","asm_group_id":4,"sg_event_id":"p-group","sg_message_id":"P3.filter.2","crm_record":"INV-9"}]$$);
SELECT record_send('P10', ARRAY['now@example.com'], '{"crm_record":"INV-10"}', now());
-- Every row of every view, as jsonb.
CREATE FUNCTION pg_temp.view_rows() RETURNS TABLE (view text, item jsonb) LANGUAGE sql AS $$
SELECT 'recipient_status' AS view, to_jsonb(v) AS row FROM mailstatus.recipient_status v
UNION ALL SELECT 'message_status', to_jsonb(v) FROM mailstatus.message_status v
UNION ALL SELECT 'status_counts', to_jsonb(v) FROM mailstatus.status_counts v
UNION ALL SELECT 'suppression', to_jsonb(v) FROM mailstatus.suppression v
UNION ALL SELECT 'deliverability_daily', to_jsonb(v) FROM mailstatus.deliverability_daily v
UNION ALL SELECT 'deliverability_daily_by category', to_jsonb(v) FROM mailstatus.deliverability_daily_by('category') v
UNION ALL SELECT 'deliverability_daily_by crm_record', to_jsonb(v) FROM mailstatus.deliverability_daily_by('crm_record') v
UNION ALL SELECT 'recipient_status_for', to_jsonb(v) FROM mailstatus.recipient_status_for('{"crm_record":"INV-9"}') v $$;
CREATE TEMP TABLE views_before AS SELECT * FROM pg_temp.view_rows();
SELECT count(*) > 20 AS enough_rows, count(*) FILTER (WHERE view = 'suppression') AS suppressions FROM views_before;
SELECT drop_event_partitions(date_trunc('month', now(), 'UTC')) > 0 AS dropped;
SELECT count(*) AS events_left FROM event;
CREATE TEMP TABLE views_after AS SELECT * FROM pg_temp.view_rows();
SELECT view, item, 'before only' AS side FROM (SELECT * FROM views_before EXCEPT ALL SELECT * FROM views_after) d
UNION ALL
SELECT view, item, 'after only' FROM (SELECT * FROM views_after EXCEPT ALL SELECT * FROM views_before) d;
SELECT * FROM state_differences();

-- A recipient whose events span the retention boundary (issue 19, defect 4): sent on
-- October 31, opened and clicked on November 1; October dropped. 0.4.0's check compared the
-- state of every such recipient with what November's events recompute alone and reported a
-- difference after every retention run. It now checks exactly what the kept events decide:
-- every field they decide equal (the status and when it was reached, once reached in the
-- window; the latest values; the last event; the activity of the kept days), the rest only
-- what earlier events can add (counts, categories, earlier days). Real damage is still found.
DROP EXTENSION mailstatus CASCADE;
CREATE EXTENSION mailstatus;
SELECT stored FROM ingest_sendgrid_event($$[
  {"email":"span@example.com","timestamp":1698796799,"event":"processed","sg_event_id":"b1","sg_message_id":"B1.filter.0","category":"invoice","crm_record":"B-1"},
  {"email":"span@example.com","timestamp":1698796799,"event":"delivered","sg_event_id":"b2","sg_message_id":"B1.filter.0","category":"invoice"},
  {"email":"span@example.com","timestamp":1698796800,"event":"open","sg_event_id":"b3","sg_message_id":"B1.filter.0","category":"reminder"},
  {"email":"span@example.com","timestamp":1698796900,"event":"click","sg_event_id":"b4","sg_message_id":"B1.filter.0","crm_record":"B-2"},
  {"email":"before@example.com","timestamp":1698700000,"event":"bounce","type":"bounce","reason":"gone","sg_event_id":"b5","sg_message_id":"B2.filter.0"},
  {"email":"span@example.com","timestamp":1698700000,"event":"unsubscribe","sg_event_id":"b6","sg_message_id":"B3.filter.0"},
  {"email":"span@example.com","timestamp":1698796900,"event":"delivered","sg_event_id":"b7","sg_message_id":"B3.filter.0"},
  {"email":"after@example.com","timestamp":1698800000,"event":"delivered","sg_event_id":"b8","sg_message_id":"B4.filter.0"}]$$);
SELECT create_event_partitions(0) > 0 AS partitioned;
SELECT * FROM pg_temp.partitions();
SELECT count(*) AS differences_before_retention FROM state_differences();
SELECT drop_event_partitions('2023-11-01 00:00+00') AS dropped;
SELECT count(*) AS events_left FROM event;
SELECT * FROM state_differences();
-- Damage to each field of the recipient that spans the boundary, or of one whose events are
-- all gone, is named (each in a transaction rolled back), but for what only the dropped
-- events decided (span's unsubscribe of October 30, taken away: nothing kept says it was
-- there; a status reached in October: the roll-up still counts the status it had).
CREATE FUNCTION pg_temp.damage_found(damage text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  found text;
BEGIN
  EXECUTE damage;
  SELECT string_agg(d.state || ' ' || d.key, ', ' ORDER BY d.state, d.key) INTO found FROM mailstatus.state_differences() d;
  RAISE EXCEPTION USING MESSAGE = COALESCE(found, 'nothing found');
EXCEPTION WHEN raise_exception THEN
  GET STACKED DIAGNOSTICS found = MESSAGE_TEXT;
  RETURN found;
END $$;
SELECT damage, pg_temp.damage_found(format('UPDATE mailstatus.recipient SET %s WHERE message_id = %L', damage, m)) AS found
  FROM (VALUES
    ('B1', 'reached = (SELECT mailstatus.status_reached_state(''opened'', ''2023-11-01 00:00:00+00''))'),
    ('B1', 'reached_human = (SELECT mailstatus.status_reached_state(''clicked'', ''2023-11-01 00:01:00+00''))'),
    ('B1', 'reached_human = (SELECT mailstatus.status_reached_state(''dropped'', ''2023-10-30 00:00:00+00''))'),
    ('B1', 'last_event_at = last_event_at + interval ''1 second'''),
    ('B1', 'last_event_at = ''2023-10-31 00:00:00+00'''),
    ('B1', 'first_event_at = ''2023-11-01 00:00:00+00'''),
    ('B1', 'opens = 0'),
    ('B1', 'clicks = 0'),
    ('B1', 'categories = ''{invoice}'''),
    ('B1', 'custom_args = ''{"at": "2023-11-01 00:01:40+00", "jsonb": {"crm_record": "B-3"}}'''),
    ('B1', 'activity = mailstatus.activity_subtract(activity, ''[{"day": "2023-11-01", "events": [], "machine_opens": 0, "clicks": 1}]'')'),
    ('B1', 'activity = mailstatus.activity_merge(activity, ''[{"day": "2023-11-01", "events": ["bounced"], "machine_opens": 0, "clicks": 0}]'')'),
    ('B2', 'last_event_at = ''2023-11-02 00:00:00+00''')) AS d(m, damage)
 ORDER BY 1;
SELECT damage, pg_temp.damage_found(format('UPDATE mailstatus.suppression_state SET %s WHERE email = %L', damage, e)) AS found
  FROM (VALUES
    ('span@example.com', 'delivered_at = NULL'),
    ('span@example.com', 'decision = NULL'),
    ('span@example.com', 'decision = ''{"at": "2023-11-01 00:00:00+00", "jsonb": {"cause": "unsubscribe"}}'''),
    ('before@example.com', 'failure = ''{"at": "2023-11-02 00:00:00+00", "jsonb": {"cause": "bounce"}}''')) AS d(e, damage)
 ORDER BY 1;
-- Nothing was left damaged.
SELECT count(*) AS differences FROM state_differences();
