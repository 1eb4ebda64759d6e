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
-- Each partition of the event table has its primary key, (message_id, occurred_at,
-- content_hash): ingest's ON CONFLICT DO NOTHING checks it.
SELECT c.oid::regclass AS partition_without_the_primary_key
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'mailstatus.event'::regclass
   AND NOT EXISTS (SELECT 1 FROM pg_index x
                    WHERE x.indrelid = c.oid AND x.indisprimary
                      AND pg_get_indexdef(x.indexrelid) LIKE '%(message_id, occurred_at, content_hash)');

-- No foreign keys: nothing to co-locate across tables.
SELECT conname FROM pg_constraint WHERE connamespace = 'mailstatus'::regnamespace AND contype = 'f';

-- Every aggregate is combinable with a concrete state type: Citus runs it as partial
-- aggregates on the workers only then (an internal state pulls every row to the coordinator).
-- The aggregates of 0.1.0 to 0.3.0 had internal states; the state types since are real types.
SELECT p.oid::regprocedure AS aggregate, a.aggcombinefn <> 0 AS combinable,
       format_type(a.aggtranstype, NULL) AS state_type, t.typtype <> 'p' AS concrete_state
  FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid JOIN pg_type t ON t.oid = a.aggtranstype
 WHERE p.pronamespace = 'mailstatus'::regnamespace
 ORDER BY p.oid::regprocedure::text;

-- Citus refuses triggers on distributed tables (unless told otherwise, and then they fire per
-- shard): the extension puts none on its tables; status changes are written by the merge.
SELECT t.tgrelid::regclass, t.tgname
  FROM pg_trigger t JOIN citus_layout l ON l.table_name = t.tgrelid
 WHERE NOT t.tgisinternal ORDER BY t.tgrelid::regclass::text;

-- The state tables are merged with INSERT ... ON CONFLICT on their distribution column's
-- unique key, which Citus runs on each shard; the combine functions make the order of
-- concurrent merges irrelevant.
SELECT l.table_name, pg_get_indexdef(x.indexrelid) ~ ('\m' || l.distribution_column || '\M') AS key_holds_distribution_column
  FROM citus_layout l JOIN pg_index x ON x.indrelid = l.table_name AND x.indisprimary
 WHERE l.placement = 'distributed' AND l.table_name <> 'mailstatus.event'::regclass
 ORDER BY l.step;

-- Citus cannot plan a SQL-language function's parameterized query over distributed tables:
-- the SQL functions take their rows from their array arguments and read no table (every FROM
-- of their bodies is an unnest or another function's rows, none a table; IS DISTINCT FROM is
-- no FROM; a new function shows here, to be checked).
SELECT p.oid::regprocedure AS sql_function,
       (SELECT count(*) FROM regexp_matches(pg_get_functiondef(p.oid), '\m(FROM|JOIN)\s+unnest\(', 'g') AS m(f)) AS unnests,
       (SELECT count(*) FROM regexp_matches(pg_get_functiondef(p.oid), '(?<!DISTINCT )\m(FROM|JOIN)\s+(?!unnest\()(?![a-z_."]+\()[a-z_"]', 'g') AS m(f)) AS tables_read
  FROM pg_proc p
 WHERE p.pronamespace = 'mailstatus'::regnamespace
   AND p.prolang = (SELECT l.oid FROM pg_language l WHERE l.lanname = 'sql')
 ORDER BY p.oid::regprocedure::text;
