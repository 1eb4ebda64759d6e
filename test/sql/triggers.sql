-- Ingest goes through the executor: the CRM's own triggers on mailstatus.event fire,
-- row by row for new events only, and once per statement with the batch as a transition table;
-- a trigger on mailstatus.status_change sees each change of a recipient's status once.
SET search_path = mailstatus, public;
\i test/sql/include/helpers.psql
CALL pg_temp.empty_state();

CREATE TABLE public.crm_activity (email text, event text, status mailstatus.mail_status);
CREATE TABLE public.crm_batches (new_events bigint, messages bigint);

CREATE FUNCTION public.crm_activity_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.crm_activity VALUES (NEW.email, NEW.event, mailstatus.mail_status_of_event(NEW.event));
  RETURN NULL;
END $$;
CREATE FUNCTION public.crm_batch_statement() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.crm_batches SELECT count(*), count(DISTINCT message_id) FROM new_events;
  RETURN NULL;
END $$;
CREATE TRIGGER crm_activity AFTER INSERT ON mailstatus.event
  FOR EACH ROW EXECUTE FUNCTION public.crm_activity_row();
CREATE TRIGGER crm_batches AFTER INSERT ON mailstatus.event
  REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION public.crm_batch_statement();
CREATE TABLE public.crm_status_changes (email text, old_status mailstatus.mail_status, new_status mailstatus.mail_status);
CREATE FUNCTION public.crm_status_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.crm_status_changes VALUES (NEW.email, NEW.old_status, NEW.new_status);
  RETURN NULL;
END $$;
CREATE TRIGGER crm_status_changes AFTER INSERT ON mailstatus.status_change
  FOR EACH ROW EXECUTE FUNCTION public.crm_status_changed();

SELECT * FROM ingest_sendgrid_event('[
  {"email": "a@example.com", "timestamp": 1700000000, "event": "processed", "sg_event_id": "t1", "sg_message_id": "M1.filter.0"},
  {"email": "a@example.com", "timestamp": 1700000010, "event": "delivered", "sg_event_id": "t2", "sg_message_id": "M1.filter.0"},
  {"email": "b@example.com", "timestamp": 1700000020, "event": "bounce", "sg_event_id": "t3", "sg_message_id": "M2.filter.0"},
  "not an event"]');
-- The same batch again plus one new event: the row trigger sees only the new one.
SELECT * FROM ingest_sendgrid_event('[
  {"email": "a@example.com", "timestamp": 1700000000, "event": "processed", "sg_event_id": "t1", "sg_message_id": "M1.filter.0"},
  {"email": "a@example.com", "timestamp": 1700000010, "event": "delivered", "sg_event_id": "t2", "sg_message_id": "M1.filter.0"},
  {"email": "b@example.com", "timestamp": 1700000020, "event": "bounce", "sg_event_id": "t3", "sg_message_id": "M2.filter.0"},
  {"email": "a@example.com", "timestamp": 1700000030, "event": "open", "sg_event_id": "t4", "sg_message_id": "M1.filter.0"}]');
SELECT * FROM public.crm_activity ORDER BY email, event;
SELECT * FROM public.crm_batches;
-- Status changes: a's sent, delivered, opened; b's bounced; a re-post changes nothing.
SELECT * FROM public.crm_status_changes ORDER BY email, new_status;

-- A BEFORE trigger that raises aborts the whole call: nothing of the batch is stored.
CREATE FUNCTION public.crm_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.email LIKE '%@blocked.example' THEN
    RAISE EXCEPTION 'refused by CRM policy: %', NEW.email;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER crm_refuse BEFORE INSERT ON mailstatus.event
  FOR EACH ROW EXECUTE FUNCTION public.crm_refuse();
SELECT * FROM ingest_sendgrid_event('[
  {"email": "c@example.com", "timestamp": 1700000040, "event": "processed", "sg_event_id": "t5", "sg_message_id": "M3.filter.0"},
  {"email": "x@blocked.example", "timestamp": 1700000050, "event": "processed", "sg_event_id": "t6", "sg_message_id": "M3.filter.0"}]');
SELECT count(*) AS events FROM event;
DROP TRIGGER crm_refuse ON mailstatus.event;

-- Making monthly partitions moves rows out of the default partition: not new events, so the
-- CRM's triggers do not fire again (and the session's own setting is left as it was).
SELECT count(*) AS activity_rows_before FROM public.crm_activity;
SELECT create_event_partitions(0) > 0 AS partitioned;
SELECT e.tableoid::regclass, count(*) FROM event e GROUP BY 1 ORDER BY 1;
SELECT count(*) AS activity_rows_after FROM public.crm_activity;
SHOW session_replication_role;

DROP TRIGGER crm_activity ON mailstatus.event;
DROP TRIGGER crm_batches ON mailstatus.event;
DROP TRIGGER crm_status_changes ON mailstatus.status_change;
DROP TABLE public.crm_activity, public.crm_batches, public.crm_status_changes;
DROP FUNCTION public.crm_activity_row(), public.crm_batch_statement(), public.crm_refuse(), public.crm_status_changed();
