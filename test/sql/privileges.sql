-- Privilege by construction: everything of the schema that PUBLIC, or a role of README's
-- recipes ("Roles"), can execute or read is listed here, and this list is the reviewed one
-- (test/expected/privileges.out). A function added without REVOKE ... FROM PUBLIC, or a
-- grant that widens a role, changes the list and fails the test until it is reviewed.
SET search_path = mailstatus, public;

-- README's recipes, as written there.
CREATE ROLE regress_crm_webhook;
CREATE ROLE regress_crm_reader;
CREATE ROLE regress_crm_worker;
GRANT USAGE ON SCHEMA mailstatus TO regress_crm_webhook;
GRANT EXECUTE ON FUNCTION mailstatus.ingest_sendgrid_webhook(text, text, text),
                          mailstatus.record_send(text, text[], jsonb, timestamptz) TO regress_crm_webhook;
GRANT USAGE ON SCHEMA mailstatus TO regress_crm_reader;
GRANT SELECT ON mailstatus.recipient_status, mailstatus.message_status, mailstatus.status_counts,
                mailstatus.suppression, mailstatus.deliverability_daily TO regress_crm_reader;
GRANT EXECUTE ON FUNCTION mailstatus.recipient_status_for(jsonb), mailstatus.recipient_events(text, text),
                          mailstatus.is_suppressed(text, integer), mailstatus.suppressed_among(text[], integer),
                          mailstatus.deliverability_daily_by(text, timestamptz, timestamptz) TO regress_crm_reader;
GRANT USAGE ON SCHEMA mailstatus TO regress_crm_worker;
GRANT SELECT ON mailstatus.status_change TO regress_crm_worker;

-- What each grantee may do, as rows: (grantee, privilege, object). A role is a member of
-- PUBLIC: its rows are what it may do beyond PUBLIC.
CREATE FUNCTION pg_temp.privileges_of(grantee name) RETURNS TABLE (privilege text, object text) LANGUAGE sql AS $$
  SELECT 'EXECUTE ' || CASE p.prokind WHEN 'a' THEN 'aggregate' WHEN 'p' THEN 'procedure' ELSE 'function' END
         || CASE WHEN p.prosecdef THEN ' (security definer)' ELSE '' END, p.oid::regprocedure::text
    FROM pg_proc p
   WHERE p.pronamespace = 'mailstatus'::regnamespace AND has_function_privilege(grantee, p.oid, 'EXECUTE')
  UNION ALL
  SELECT v.privilege || CASE WHEN has_table_privilege(grantee, c.oid, v.privilege) THEN ' ' ELSE ' columns of ' END
         || CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' ELSE 'table' END, c.oid::regclass::text
    FROM pg_class c
   CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS v(privilege)
   WHERE c.relnamespace = 'mailstatus'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
     AND (has_table_privilege(grantee, c.oid, v.privilege)
          OR (v.privilege IN ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES') AND has_any_column_privilege(grantee, c.oid, v.privilege)))
  UNION ALL
  SELECT v.privilege || ' sequence', c.oid::regclass::text
    FROM pg_class c CROSS JOIN unnest(ARRAY['USAGE', 'SELECT', 'UPDATE']) AS v(privilege)
   WHERE c.relnamespace = 'mailstatus'::regnamespace AND c.relkind = 'S' AND has_sequence_privilege(grantee, c.oid, v.privilege)
  UNION ALL
  SELECT v.privilege || ' schema', 'mailstatus'
    FROM unnest(ARRAY['USAGE', 'CREATE']) AS v(privilege)
   WHERE has_schema_privilege(grantee, 'mailstatus', v.privilege) $$;

-- PUBLIC: the types' and operators' support, the aggregates and their parts, what the views
-- call (a view's reader needs EXECUTE on its functions), and documented functions that read
-- nothing (parsing, hashing, signatures). No table, no view, no entry point, no bookkeeping
-- of the merge.
SELECT privilege, object FROM pg_temp.privileges_of('public') ORDER BY 1, 2;

-- The webhook role: the signed path and record_send.
SELECT privilege, object FROM pg_temp.privileges_of('regress_crm_webhook')
EXCEPT SELECT privilege, object FROM pg_temp.privileges_of('public') ORDER BY 1, 2;
-- The reader: the views of statuses, suppressions and deliverability, and the five look-ups.
SELECT privilege, object FROM pg_temp.privileges_of('regress_crm_reader')
EXCEPT SELECT privilege, object FROM pg_temp.privileges_of('public') ORDER BY 1, 2;
-- The worker: the change log.
SELECT privilege, object FROM pg_temp.privileges_of('regress_crm_worker')
EXCEPT SELECT privilege, object FROM pg_temp.privileges_of('public') ORDER BY 1, 2;

-- Each role does its job with exactly these rights: a reader reads every column of its views
-- (each calls functions PUBLIC may execute), the webhook role posts and records sends.
SET ROLE regress_crm_reader;
SELECT count(*) >= 0 AS read FROM (SELECT * FROM mailstatus.recipient_status UNION ALL
  SELECT r.* FROM mailstatus.recipient_status_for('{}') r) r;
SELECT count(*) >= 0 AS read FROM mailstatus.message_status;
SELECT count(*) >= 0 AS read FROM mailstatus.status_counts;
SELECT count(*) >= 0 AS read FROM mailstatus.deliverability_daily;
SELECT mailstatus.is_suppressed('nobody@example.com') AS suppressed;
RESET ROLE;
SET ROLE regress_crm_webhook;
SELECT * FROM mailstatus.ingest_sendgrid_webhook('[{"email":"p@example.com","timestamp":1700000000,"event":"delivered","sg_event_id":"priv-1","sg_message_id":"PRIV.filter.0"}]');
SELECT mailstatus.record_send('PRIV2', ARRAY['q@example.com'], '{}', '2023-11-14 22:00+00') AS recorded;
RESET ROLE;
SET ROLE regress_crm_worker;
SELECT count(*) > 0 AS changes_read FROM mailstatus.status_change;
RESET ROLE;

-- The merge's bookkeeping is the owner's: a role with USAGE on the schema calls none of it.
SET ROLE regress_crm_webhook;
SELECT mailstatus.recipient_merge_counts(ARRAY[]::mailstatus.recipient[], ARRAY[]::boolean[]);
SELECT mailstatus.activity_added(NULL, NULL);
SELECT mailstatus.activity_subtract(NULL, NULL);
SELECT mailstatus.category_set_added('{a}', '{b}');
SELECT count(*) FROM mailstatus.recipient_partials('{}', '{}');
SELECT count(*) FROM mailstatus.suppression_partials('{}');
SELECT count(*) FROM mailstatus.group_suppression_partials('{}');
SELECT mailstatus.checked_event_time(now(), 'x');
RESET ROLE;

DELETE FROM mailstatus.event WHERE message_id LIKE 'PRIV%';
TRUNCATE mailstatus.recipient, mailstatus.send, mailstatus.suppression_state, mailstatus.deliverability_day,
         mailstatus.deliverability_category_day, mailstatus.recipient_count_by_status, mailstatus.status_change;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA mailstatus FROM regress_crm_webhook, regress_crm_reader;
REVOKE ALL ON ALL TABLES IN SCHEMA mailstatus FROM regress_crm_reader, regress_crm_worker;
REVOKE ALL ON SCHEMA mailstatus FROM regress_crm_webhook, regress_crm_reader, regress_crm_worker;
DROP ROLE regress_crm_webhook, regress_crm_reader, regress_crm_worker;
