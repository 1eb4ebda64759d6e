-- mailstatus on Citus: README's recipe applied to a coordinator and two workers, then every
-- entry point, view and maintenance function used as a CRM does (test/citus/run.sh).
\set VERBOSITY terse
SET timezone = 'UTC';
CREATE EXTENSION mailstatus;
-- Events stored before the table is distributed, in monthly partitions.
SELECT * FROM mailstatus.ingest_sendgrid_event($$[
  {"email":"ann@example.com","timestamp":1700000000,"event":"delivered","sg_event_id":"c1","sg_message_id":"C1.filter.0","category":["invoice"],"crm_record":"R-1"},
  {"email":"bob@example.com","timestamp":1700000050,"event":"bounce","sg_event_id":"c2","sg_message_id":"C1.filter.1","reason":"550 gone"},
  {"email":"cy@example.com","timestamp":1700000060,"event":"bounce","sg_event_id":"c3","reason":"async, no message id"}
]$$);
SELECT mailstatus.create_event_partitions(1) > 0 AS partitioned;

-- The recipe.
SELECT mailstatus.track_status(false);
SET citus.enable_unsafe_triggers = on;
SELECT l.step, l.table_name, l.placement,
       CASE l.placement
         WHEN 'distributed' THEN create_distributed_table(l.table_name, l.distribution_column,
                                                          colocate_with => COALESCE(l.colocate_with::text, 'default'))::text
         ELSE create_reference_table(l.table_name)::text END AS done
  FROM mailstatus.citus_layout l ORDER BY l.step;
SELECT p.logicalrelid AS table_name, p.partmethod, column_to_column_name(p.logicalrelid, p.partkey) AS distribution_column,
       p.colocationid = (SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = 'mailstatus.event'::regclass) AS with_event
  FROM pg_dist_partition p JOIN mailstatus.citus_layout l ON l.table_name = p.logicalrelid
 ORDER BY l.step;

-- Ingest on the coordinator: stored, duplicates and rejects counted right, by both entry points.
SELECT * FROM mailstatus.ingest_sendgrid_event($$[
  {"email":"ann@example.com","timestamp":1700000000,"event":"delivered","sg_event_id":"c1","sg_message_id":"C1.filter.0","category":["invoice"],"crm_record":"R-1"},
  {"email":"ann@example.com","timestamp":1700000100,"event":"open","sg_event_id":"c4","sg_message_id":"C1.filter.0","category":["invoice"],"crm_record":"R-1"},
  {"email":"dee@example.com","timestamp":1700000100,"event":"spamreport","sg_event_id":"c5","sg_message_id":"C5.filter.0"},
  "junk"]$$);
SELECT * FROM mailstatus.ingest_sendgrid_webhook('[{"email":"ann@example.com","timestamp":1700000200,"event":"click","sg_event_id":"c6","sg_message_id":"C1.filter.0","crm_record":"R-1"},{"email":"ann@example.com","timestamp":1700000100,"event":"open","sg_event_id":"c4","sg_message_id":"C1.filter.0","category":["invoice"],"crm_record":"R-1"}]');
SELECT mailstatus.record_send('C9', ARRAY['eve@example.com'], '{"crm_record":"R-1"}', '2023-11-14 22:00+00');
SELECT mailstatus.record_send('C9', ARRAY['eve@example.com', 'fay@example.com'], '{"crm_record":"R-1"}', '2023-11-14 22:00+00') AS recorded_again;
SELECT count(*) AS events, count(DISTINCT event_key) AS distinct_events FROM mailstatus.event;

-- Reading, as the CRM does.
SELECT message_id, email, status, opens, clicks, reason FROM mailstatus.recipient_status ORDER BY 1, 2;
SELECT message_id, recipients, status, delivered, bounced FROM mailstatus.message_status ORDER BY 1;
SELECT message_id, email, status FROM mailstatus.recipient_status_for('{"crm_record":"R-1"}');
SELECT email, asm_group_id, cause, reason FROM mailstatus.suppression ORDER BY 1;
SELECT mailstatus.is_suppressed('BOB@example.com') AS bob, mailstatus.is_suppressed('ann@example.com') AS ann;
SELECT day, sent, delivered, bounced, spam_reports, unique_human_opens, clicks FROM mailstatus.deliverability_daily;
SELECT day, value, delivered, bounced FROM mailstatus.deliverability_daily_by('category') ORDER BY 1, 2;

-- What runs where: one message's status on its one node; the roll-up as partial aggregates on
-- the workers, combined on the coordinator.
SET citus.enable_ddl_propagation = off;
CREATE FUNCTION pg_temp.plan(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE 'EXPLAIN (COSTS OFF) ' || query;
END $$;
RESET citus.enable_ddl_propagation;
SELECT line FROM pg_temp.plan($$SELECT * FROM mailstatus.recipient_status WHERE message_id = 'C1'$$) AS line
 WHERE line ~ 'Task Count|Custom Scan';
SELECT line FROM pg_temp.plan($$SELECT mailstatus.mail_status_agg(status) FROM mailstatus.event$$) AS line
 WHERE line ~ 'Task Count|Custom Scan|^ *(->  )?Aggregate';

-- Partitions made after distribution are distributed too; retention drops months and
-- rejects late events for them.
SELECT mailstatus.create_event_partitions(3) > 0 AS made;
SELECT count(*) AS partitions_not_distributed
  FROM pg_inherits i WHERE i.inhparent = 'mailstatus.event'::regclass
   AND i.inhrelid NOT IN (SELECT logicalrelid FROM pg_dist_partition);
SELECT mailstatus.drop_event_partitions('2023-12-15') AS dropped;
SELECT * FROM mailstatus.ingest_sendgrid_event('{"email":"ann@example.com","timestamp":1700000300,"event":"click","sg_event_id":"c7","sg_message_id":"C1.filter.0"}');
SELECT reason FROM mailstatus.rejected_event WHERE element->>'sg_event_id' = 'c7';
SELECT count(*) AS events_left FROM mailstatus.event;

-- Status tracking needs one server: refused, with the reason.
SELECT mailstatus.track_status(true);
