-- A fresh install of the current version and an install of the oldest version updated
-- through every upgrade script end with the same catalog: every object of the extension
-- with its definition, privileges and comments.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS mailstatus CASCADE;
RESET client_min_messages;

-- One line per object of the extension and per property of it, without OIDs.
CREATE FUNCTION pg_temp.catalog_description() RETURNS SETOF text LANGUAGE sql AS $$
  WITH member AS (
    SELECT d.classid, d.objid FROM pg_depend d
     WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
       AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'mailstatus')
  ), routine AS (
    SELECT p.* FROM pg_proc p JOIN member m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
  ), relation AS (
    SELECT c.* FROM pg_class c JOIN member m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid
  )
  SELECT 'object ' || pg_describe_object(m.classid, m.objid, 0) FROM member m
  UNION ALL
  SELECT 'definition ' || p.oid::regprocedure || ': ' || pg_get_functiondef(p.oid) FROM routine p WHERE p.prokind <> 'a'
  UNION ALL
  SELECT 'aggregate ' || p.oid::regprocedure || ': ' || concat_ws(' ', a.aggtransfn, a.aggfinalfn, a.aggcombinefn,
         a.aggserialfn, a.aggdeserialfn, a.aggtranstype::regtype, a.agginitval, a.aggsortop::regoperator, p.proparallel)
    FROM routine p JOIN pg_aggregate a ON a.aggfnoid = p.oid
  UNION ALL
  SELECT 'privileges ' || p.oid::regprocedure || ': ' || COALESCE(p.proacl::text, 'default') FROM routine p
  UNION ALL
  SELECT 'columns ' || c.oid::regclass || ': ' || string_agg(format('%I %s%s%s%s', a.attname, format_type(a.atttypid, a.atttypmod),
           CASE WHEN a.attcollation <> 0 AND a.attcollation <> 100 THEN ' collate ' || a.attcollation::regcollation END,
           CASE WHEN a.attnotnull THEN ' not null' END,
           ' default ' || pg_get_expr(ad.adbin, ad.adrelid)), ', ' ORDER BY a.attnum)
    FROM relation c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
   GROUP BY c.oid
  UNION ALL
  SELECT 'relation ' || c.oid::regclass || ': ' || concat_ws(' ', c.relkind, c.reloptions::text, c.relacl::text,
         pg_get_partkeydef(c.oid), CASE WHEN c.relkind = 'v' THEN pg_get_viewdef(c.oid) END)
    FROM relation c
  UNION ALL
  -- (PostgreSQL 18 makes NOT NULL constraints with names, which a table made again takes
  -- with a suffix: described by their column, not their name.)
  SELECT 'constraint ' || co.conrelid::regclass || ' ' || CASE WHEN co.contype = 'n' THEN 'not null' ELSE co.conname END
         || ': ' || pg_get_constraintdef(co.oid)
    FROM pg_constraint co JOIN relation c ON c.oid = co.conrelid
  UNION ALL
  SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN relation c ON c.oid = i.indrelid
  UNION ALL
  SELECT 'trigger ' || pg_get_triggerdef(t.oid) || ' ' || t.tgenabled::text FROM pg_trigger t JOIN relation c ON c.oid = t.tgrelid
   WHERE NOT t.tgisinternal
  UNION ALL
  SELECT 'comment ' || pg_describe_object(d.classoid, d.objoid, d.objsubid) || ': ' || d.description
    FROM pg_description d JOIN member m ON m.classid = d.classoid AND m.objid = d.objoid
  UNION ALL
  -- (An entry of a table dropped since is ignored by pg_dump: 0.3.0's update dropped one.)
  SELECT 'dumped ' || c.oid::regclass || ' ' || COALESCE(e.extcondition[ord], '')
    FROM pg_extension e, unnest(e.extconfig) WITH ORDINALITY AS u(cfg, ord) JOIN pg_class c ON c.oid = u.cfg
   WHERE e.extname = 'mailstatus'
  UNION ALL
  SELECT 'extension ' || extversion || ' ' || extrelocatable || ' ' || extnamespace::regnamespace FROM pg_extension WHERE extname = 'mailstatus'
$$;

CREATE EXTENSION mailstatus;
CREATE TEMP TABLE fresh AS SELECT * FROM pg_temp.catalog_description() AS d(line);
DROP EXTENSION mailstatus;
CREATE EXTENSION mailstatus VERSION '0.1.0';
ALTER EXTENSION mailstatus UPDATE;
CREATE TEMP TABLE updated AS SELECT * FROM pg_temp.catalog_description() AS d(line);
-- The released 0.4.0 install script, updated.
DROP EXTENSION mailstatus;
CREATE EXTENSION mailstatus VERSION '0.4.0';
ALTER EXTENSION mailstatus UPDATE;
CREATE TEMP TABLE updated_from_0_4 AS SELECT * FROM pg_temp.catalog_description() AS d(line);

SELECT count(*) > 300 AS described FROM fresh;
-- Nothing in one that is not in the other.
SELECT 'only fresh' AS side, line FROM (SELECT line FROM fresh EXCEPT SELECT line FROM updated) a
UNION ALL
SELECT 'only updated', line FROM (SELECT line FROM updated EXCEPT SELECT line FROM fresh) b
ORDER BY 2, 1;

-- The same from 0.4.0's install script.
SELECT 'only fresh' AS side, line FROM (SELECT line FROM fresh EXCEPT SELECT line FROM updated_from_0_4) a
UNION ALL
SELECT 'only updated from 0.4.0', line FROM (SELECT line FROM updated_from_0_4 EXCEPT SELECT line FROM fresh) b
ORDER BY 2, 1;
