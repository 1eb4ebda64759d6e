-- What the update to 0.5.0 repairs in a database made with an earlier text of a released
-- script (docs/releasing.md, "Released scripts changed after their release").
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS mailstatus CASCADE;
RESET client_min_messages;

-- The configuration tables and sequences pg_dump dumps the rows (or the position) of.
CREATE FUNCTION pg_temp.dumped() RETURNS SETOF text LANGUAGE sql AS $$
  SELECT c.oid::regclass::text FROM pg_extension e, unnest(e.extconfig) AS u(cfg) JOIN pg_class c ON c.oid = u.cfg
   WHERE e.extname = 'mailstatus' ORDER BY 1
$$;

-- 0.1.0 as released (9d356eb) did not register rejected_event's identity sequence with
-- pg_extension_config_dump (faf3bb2 added it after the release): pg_dump left its position out,
-- and a restored database failed its first batch with a rejected element (23505, the id taken).
-- Such a database: the sequence a member of the extension, not dumped.
CREATE EXTENSION mailstatus VERSION '0.1.0';
ALTER EXTENSION mailstatus DROP SEQUENCE mailstatus.rejected_event_id_seq;
ALTER EXTENSION mailstatus ADD SEQUENCE mailstatus.rejected_event_id_seq;
SELECT * FROM pg_temp.dumped();
-- 0.4.0 did not repair it.
ALTER EXTENSION mailstatus UPDATE TO '0.4.0';
SELECT 'mailstatus.rejected_event_id_seq' IN (SELECT * FROM pg_temp.dumped()) AS sequence_dumped;
-- 0.5.0 does.
ALTER EXTENSION mailstatus UPDATE;
SELECT 'mailstatus.rejected_event_id_seq' IN (SELECT * FROM pg_temp.dumped()) AS sequence_dumped;
-- As a fresh install has it.
CREATE TEMP TABLE updated AS SELECT * FROM pg_temp.dumped() AS d(name);
DROP EXTENSION mailstatus;
CREATE EXTENSION mailstatus;
SELECT name AS only_updated FROM updated EXCEPT SELECT * FROM pg_temp.dumped();
SELECT d AS only_fresh FROM pg_temp.dumped() AS d EXCEPT SELECT name FROM updated;
DROP EXTENSION mailstatus;
