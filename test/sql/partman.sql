-- pg_partman (4.7, Debian's postgresql-15-partman) takes over the monthly partitions: the
-- README's hand-over, then partman's own maintenance and retention on mailstatus.event.
SET search_path = mailstatus, public;
-- mailstatus' months are UTC months; pg_partman's follow the session's time zone, so it runs in
-- UTC (README: the role that runs its maintenance has timezone = 'UTC').
SET timezone = 'UTC';
\i test/sql/include/helpers.psql
CALL pg_temp.empty_state();
CREATE SCHEMA partman;
CREATE EXTENSION pg_partman SCHEMA partman;

SELECT stored FROM ingest_sendgrid_event($$[
  {"email":"oct@example.com","timestamp":1696150000,"event":"delivered","sg_event_id":"pm-oct","sg_message_id":"PM1.filter.0"},
  {"email":"nov@example.com","timestamp":1699000000,"event":"delivered","sg_event_id":"pm-nov","sg_message_id":"PM2.filter.0"}
]$$);

-- The hand-over, as README gives it: in one transaction that holds ingest off, the rows of
-- the default partition move to monthly ones, and pg_partman makes its own default partition.
-- pg_partman gives new partitions the keys and indexes of its template table.
BEGIN;
LOCK TABLE mailstatus.event IN SHARE ROW EXCLUSIVE MODE;
SELECT mailstatus.create_event_partitions() >= 0 AS done;
SELECT count(*) AS left_in_default FROM mailstatus.event_default;
DROP TABLE mailstatus.event_default;
CREATE TABLE partman.template_mailstatus_event (LIKE mailstatus.event);
SELECT mailstatus.add_event_partition_primary_key('partman.template_mailstatus_event');
SELECT partman.create_parent('mailstatus.event', 'occurred_at', 'native', 'monthly', p_premake := 2);
COMMIT;
-- Every partition, pg_partman's default one included, has the primary key dedup relies on.
SELECT c.relname AS partition_without_primary_key
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'mailstatus.event'::regclass
   AND NOT EXISTS (SELECT 1 FROM pg_index x WHERE x.indrelid = c.oid AND x.indisprimary);

-- The name of 0.4.0, add_event_partition_indexes, kept for one version for scripts of the
-- recipe written then: it gives the same primary key.
CREATE TABLE public.template_by_old_name (LIKE mailstatus.event);
SELECT mailstatus.add_event_partition_indexes('public.template_by_old_name');
SELECT pg_get_indexdef(x.indexrelid) AS primary_key_by_old_name
  FROM pg_index x WHERE x.indrelid = 'public.template_by_old_name'::regclass AND x.indisprimary;
DROP TABLE public.template_by_old_name;

-- pg_partman sees mailstatus' partitions as its own (same names), and ingest goes on.
SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'mailstatus.event'::regclass AND (c.relname < 'event_p2023_12' OR c.relname = 'event_default')
 ORDER BY 1;
SELECT partition_tablename FROM partman.show_partitions('mailstatus.event') WHERE partition_tablename < 'event_p2023_12';
SELECT stored, duplicates FROM ingest_sendgrid_event($$[
  {"email":"nov@example.com","timestamp":1699000000,"event":"delivered","sg_event_id":"pm-nov","sg_message_id":"PM2.filter.0"},
  {"email":"nov@example.com","timestamp":1699000100,"event":"open","sg_event_id":"pm-nov-open","sg_message_id":"PM2.filter.0"}
]$$);
SELECT e.tableoid::regclass, event_key(e) FROM event e ORDER BY 2;

-- pg_partman's retention drops old months by name; a late event for a month it dropped is
-- then stored in the default partition (pg_partman's check_default reports it), not lost.
UPDATE partman.part_config SET retention = '12 months', retention_keep_table = false
 WHERE parent_table = 'mailstatus.event';
SELECT partman.run_maintenance('mailstatus.event');
SELECT partition_tablename FROM partman.show_partitions('mailstatus.event') WHERE partition_tablename < 'event_p2023_12';
SELECT stored FROM ingest_sendgrid_event('{"email":"oct@example.com","timestamp":1696150100,"event":"open","sg_event_id":"pm-oct-late","sg_message_id":"PM1.filter.0"}');
SELECT e.tableoid::regclass, event_key(e) FROM event e ORDER BY 2;
SELECT * FROM partman.check_default(p_exact_count := true);
-- The statuses of the months pg_partman dropped are state: they stay, and the state agrees
-- with what the kept events recompute.
SELECT message_id, email, status FROM recipient_status ORDER BY 1, 2;
SELECT * FROM state_differences();

-- mailstatus' own retention works on pg_partman's partitions too (it reads their bounds).
SELECT drop_event_partitions(now() - interval '1 month') >= 0 AS ran;
SELECT count(*) AS events_left FROM event;

DROP EXTENSION pg_partman;
DROP SCHEMA partman CASCADE;
