-- Installed next to a hostile schema: a user has planted look-alike functions and operators in
-- public, which is first on everybody's search_path. mailstatus still uses its own (and
-- pg_catalog's), at install time and at run time; the traps record it if they ever fire.
CREATE DATABASE regress_mailstatus_hostile;
\c regress_mailstatus_hostile
SET timezone = 'UTC';
CREATE ROLE regress_attacker;
GRANT CREATE, USAGE ON SCHEMA public TO regress_attacker;
CREATE TABLE public.trap_fired (what text);
GRANT INSERT ON public.trap_fired TO regress_attacker;
SET ROLE regress_attacker;
CREATE FUNCTION public.trap(what text) RETURNS boolean LANGUAGE sql AS $$ INSERT INTO public.trap_fired VALUES (what) RETURNING true $$;
-- Look-alikes of what the install script, the views and the ingest queries call.
CREATE FUNCTION public.lower(text) RETURNS text LANGUAGE sql AS $$ SELECT CASE WHEN public.trap('lower') THEN 'pwned' END $$;
CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE sql AS $$ SELECT CASE WHEN public.trap('now') THEN 'epoch'::timestamptz END $$;
CREATE FUNCTION public.count(anyelement) RETURNS bigint LANGUAGE sql AS $$ SELECT CASE WHEN public.trap('count') THEN -1::bigint END $$;
CREATE FUNCTION public.unnest(anyarray) RETURNS SETOF anyelement LANGUAGE sql AS $$ SELECT $1[1] FROM (SELECT public.trap('unnest')) t $$;
CREATE FUNCTION public.min(timestamptz) RETURNS timestamptz LANGUAGE sql AS $$ SELECT CASE WHEN public.trap('min') THEN $1 END $$;
CREATE FUNCTION public.jsonb_eq_trap(jsonb, jsonb) RETURNS boolean LANGUAGE sql AS $$ SELECT public.trap('jsonb =') $$;
CREATE OPERATOR public.<> (LEFTARG = jsonb, RIGHTARG = jsonb, FUNCTION = public.jsonb_eq_trap);
CREATE FUNCTION public.text_eq_trap(text, text) RETURNS boolean LANGUAGE sql AS $$ SELECT public.trap('text =') $$;
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.text_eq_trap);
CREATE FUNCTION public.jsonb_contains_trap(jsonb, jsonb) RETURNS boolean LANGUAGE sql AS $$ SELECT public.trap('@>') $$;
CREATE OPERATOR public.@> (LEFTARG = jsonb, RIGHTARG = jsonb, FUNCTION = public.jsonb_contains_trap);
CREATE SCHEMA mailstatus_decoy;
RESET ROLE;

-- The superuser installs with public first on the search_path.
SET search_path = public, pg_catalog;
CREATE EXTENSION mailstatus;
SELECT mailstatus.record_send('H1', ARRAY['Ann@Example.com'], '{"crm_record":"H-1"}', '2023-11-14 22:00+00');
SELECT * FROM mailstatus.ingest_sendgrid_event('[
  {"email":"ann@example.com","timestamp":1700000000,"event":"delivered","sg_event_id":"h1","sg_message_id":"H1.filter.0","crm_record":"H-1"},
  {"email":"ann@example.com","timestamp":1700000100,"event":"bounce","sg_event_id":"h2","sg_message_id":"H1.filter.0","reason":"550 gone","crm_record":"H-1"}]');
SELECT * FROM mailstatus.ingest_sendgrid_webhook('[{"email":"bob@example.com","timestamp":1700000200,"event":"open","sg_event_id":"h3","sg_message_id":"H2.filter.0"}]');
SELECT message_id, email, status, status_at, first_event_at, opens, reason, custom_args FROM mailstatus.recipient_status ORDER BY 1, 2;
SELECT message_id, recipients, status FROM mailstatus.message_status ORDER BY 1;
SELECT message_id, email, status FROM mailstatus.recipient_status_for('{"crm_record":"H-1"}');
SELECT sent_at FROM mailstatus.send;
-- No trap fired, at install or at run time.
SELECT count(*) AS traps_fired FROM public.trap_fired;

\c contrib_regression
DROP DATABASE regress_mailstatus_hostile;
DROP ROLE regress_attacker;
