-- The schema satisfies Citus' rules for the layout README's recipe applies (citus_layout), so
-- nothing drifts while CI cannot run Citus itself.
SET search_path = mailstatus, public;
SET timezone = 'UTC';
-- The event table as a CRM has it: a default partition and monthly ones.
DROP EXTENSION mailstatus CASCADE;
CREATE EXTENSION mailstatus;
SELECT stored FROM ingest_sendgrid_event('{"email":"a@example.com","timestamp":1700000000,"event":"delivered","sg_event_id":"c1","sg_message_id":"C1.filter.0"}');
SELECT create_event_partitions(1) > 0 AS partitioned;

-- Every table of the extension, and every table only, is placed.
SELECT c.oid::regclass AS unplaced_table
  FROM pg_class c
 WHERE c.relnamespace = 'mailstatus'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
   AND c.oid NOT IN (SELECT table_name FROM citus_layout)
 ORDER BY c.oid::regclass::text;
SELECT step, table_name, placement, distribution_column, colocate_with FROM citus_layout ORDER BY step;

-- A distribution column exists, is NOT NULL (Citus refuses NULL there), and has the same type
-- and collation in every co-located table.
SELECT l.table_name, a.attname, a.attnotnull, format_type(a.atttypid, a.atttypmod) AS type, co.collname
  FROM citus_layout l
  JOIN pg_attribute a ON a.attrelid = l.table_name AND a.attname = l.distribution_column
  JOIN pg_collation co ON co.oid = a.attcollation
 WHERE l.placement = 'distributed'
 ORDER BY l.step;

-- Every unique or primary-key index of a distributed table, its partitions' included, holds
-- the distribution column.
SELECT i.indexrelid::regclass AS unique_index_without_distribution_column
  FROM citus_layout l
  JOIN pg_class t ON t.oid = l.table_name
       OR t.oid IN (SELECT p.relid FROM pg_partition_tree(l.table_name) p)
  JOIN pg_index i ON i.indrelid = t.oid AND i.indisunique
 WHERE l.placement = 'distributed'
   AND NOT EXISTS (SELECT 1 FROM pg_attribute a
                    WHERE a.attrelid = t.oid AND a.attname = l.distribution_column
                      AND a.attnum = ANY (i.indkey));
SELECT l.table_name, count(i.indexrelid) AS unique_indexes_checked
  FROM citus_layout l
  LEFT JOIN pg_index i ON i.indisunique
       AND (i.indrelid = l.table_name OR i.indrelid IN (SELECT p.relid FROM pg_partition_tree(l.table_name) p))
 WHERE l.placement = 'distributed'
 GROUP BY l.step, l.table_name ORDER BY l.step;
-- Each partition of the event table has its primary key, (event_key, message_id, occurred_at):
-- ingest's ON CONFLICT DO NOTHING checks it.
SELECT c.oid::regclass AS partition_without_the_primary_key
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'mailstatus.event'::regclass
   AND NOT EXISTS (SELECT 1 FROM pg_index x
                    WHERE x.indrelid = c.oid AND x.indisprimary
                      AND pg_get_indexdef(x.indexrelid) LIKE '%(event_key, message_id, occurred_at)');

-- No foreign keys: nothing to co-locate across tables.
SELECT conname FROM pg_constraint WHERE connamespace = 'mailstatus'::regnamespace AND contype = 'f';

-- Every aggregate is combinable: Citus runs it as partial aggregates on the workers.
SELECT p.oid::regprocedure AS aggregate, a.aggcombinefn <> 0 AS combinable,
       a.aggtranstype <> 'internal'::regtype OR (a.aggserialfn <> 0 AND a.aggdeserialfn <> 0) AS serializable
  FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
 WHERE p.pronamespace = 'mailstatus'::regnamespace
 ORDER BY p.oid::regprocedure::text;

-- Triggers on distributed tables fire per shard, on the worker: the only ones are the
-- status-tracking statement triggers, off by default (track_status refuses to turn them on
-- once the table is distributed: they read the status view); they recompute only the
-- messages of their own rows and write row by row.
SELECT t.tgrelid::regclass, t.tgname, t.tgenabled, (t.tgtype & 1) = 0 AS per_statement
  FROM pg_trigger t JOIN citus_layout l ON l.table_name = t.tgrelid
 WHERE NOT t.tgisinternal ORDER BY t.tgrelid::regclass::text;
SELECT p.prosrc ~ 'r\.message_id OPERATOR\(pg_catalog\.=\) ANY \(touched_messages\)' AS reads_its_messages_only,
       p.prosrc !~* 'INSERT INTO[^;]*SELECT[^;]*touched_rows' AS no_insert_select_from_transition_table
  FROM pg_proc p WHERE p.oid = 'mailstatus.recipient_status_changed()'::regprocedure;

-- Citus cannot plan a SQL-language function's parameterized query over distributed tables:
-- the SQL functions read no table (a new one shows here, to be checked).
SELECT p.oid::regprocedure AS sql_function,
       EXISTS (SELECT 1 FROM pg_depend d
                WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.refclassid = 'pg_class'::regclass) AS reads_a_relation,
       p.prosrc ~ 'mailstatus\.[a-z_]+' AS names_a_relation
  FROM pg_proc p
 WHERE p.pronamespace = 'mailstatus'::regnamespace
   AND p.prolang = (SELECT l.oid FROM pg_language l WHERE l.lanname = 'sql')
 ORDER BY p.oid::regprocedure::text;
