-- mailstatus on Citus: README's recipe applied to a coordinator and two workers, then the same
-- webhook traffic posted to the cluster and to a single server without Citus (reached with
-- dblink), and every entry point, view and maintenance function compared between the two
-- (test/citus/run.sh; psql variables: single_node and coordinator, conninfos; work and
-- new_worker_port, the worker added for the rebalance; traffic, the path of traffic.sql).
\set VERBOSITY terse
SET timezone = 'UTC';

-- Helpers, on the coordinator only.
SET citus.enable_ddl_propagation = off;
CREATE EXTENSION dblink;
SELECT dblink_connect('single', :'single_node');
SELECT dblink_exec('single', 'SET timezone = ''UTC''');

-- Runs an expression on both servers: its value on each, as text.
CREATE FUNCTION pg_temp.both(expression text, OUT citus text, OUT single_node text) LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE 'SELECT (' || expression || ')::text' INTO citus;
  SELECT t.v INTO single_node FROM dblink('single', 'SELECT (' || expression || ')::text') AS t(v text);
END $$;

-- Whether a query gives the same rows on both servers (compared as text, in one order).
CREATE FUNCTION pg_temp.same(label text, query text, OUT result text, OUT rows bigint, OUT same_as_single_node boolean)
LANGUAGE plpgsql AS $$
DECLARE
  digest text := format('SELECT count(*), md5(COALESCE(string_agg(q::text, E''\n'' ORDER BY q::text COLLATE "C"), '''')) FROM (%s) AS q', query);
  single_rows bigint;
  single_md5 text;
  citus_md5 text;
BEGIN
  result := label;
  EXECUTE digest INTO rows, citus_md5;
  SELECT t.n, t.h INTO single_rows, single_md5 FROM dblink('single', digest) AS t(n bigint, h text);
  same_as_single_node := rows = single_rows AND citus_md5 = single_md5;
END $$;

-- Every view, as the CRM and the dashboards read it, once what has landed on the coordinator
-- is flushed (the cluster ingests in landing mode).
CREATE FUNCTION pg_temp.views() RETURNS TABLE (result text, rows bigint, same_as_single_node boolean)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM mailstatus.flush();
  RETURN QUERY
  SELECT s.* FROM (VALUES
    (1, 'recipient_status', 'SELECT * FROM mailstatus.recipient_status'),
    (2, 'message_status', 'SELECT * FROM mailstatus.message_status'),
    (3, 'status_counts', 'SELECT * FROM mailstatus.status_counts'),
    (4, 'suppression', 'SELECT * FROM mailstatus.suppression'),
    (5, 'is_suppressed', 'SELECT a.email, mailstatus.is_suppressed(a.email), mailstatus.is_suppressed(upper(a.email), 2)
                            FROM unnest(ARRAY(SELECT s.email FROM mailstatus.suppression s
                                              UNION SELECT e.email FROM mailstatus.event e WHERE e.event = ''click'')) AS a(email)'),
    (6, 'deliverability_daily', 'SELECT * FROM mailstatus.deliverability_daily'),
    (7, 'deliverability_daily_by(category)', 'SELECT * FROM mailstatus.deliverability_daily_by(''category'')'),
    (8, 'deliverability_daily_by(crm_tenant)', 'SELECT * FROM mailstatus.deliverability_daily_by(''crm_tenant'', ''2023-11-16'', ''2023-11-18'')'),
    (9, 'recipient_status_for', 'SELECT r.crm_record, f.* FROM (VALUES (''REC-3''), (''REC-40''), (''REC-41''), (''REC-nobody'')) AS r(crm_record),
                                        mailstatus.recipient_status_for(jsonb_build_object(''crm_record'', r.crm_record)) AS f'),
    (10, 'suppressed_among', 'SELECT * FROM mailstatus.suppressed_among(ARRAY(SELECT s.email FROM mailstatus.suppression s
                                  UNION SELECT upper(e.email) FROM mailstatus.event e WHERE e.event = ''click''), 2)'),
    -- (One array: Citus cannot plan unnest over two sub-selects of distributed tables.)
    (11, 'recipient_events', 'SELECT r.message_id, r.email, t.*
                               FROM unnest(ARRAY(SELECT x.message_id || '' '' || x.email FROM mailstatus.recipient x
                                                  ORDER BY x.message_id, x.email LIMIT 60)) AS k(recipient),
                                    LATERAL (SELECT split_part(k.recipient, '' '', 1) AS message_id, split_part(k.recipient, '' '', 2) AS email) AS r,
                                    mailstatus.recipient_events(r.message_id, r.email) AS t'),
    (12, 'events stored', 'SELECT e.message_id, e.occurred_at, e.content_hash, e.attributed_message_id, mailstatus.event_payload(ROW(e.*)::mailstatus.event)
                            FROM mailstatus.event e'),
    (13, 'sends', 'SELECT * FROM mailstatus.send'),
    (14, 'rejected_event', 'SELECT element_key, reason, element FROM mailstatus.rejected_event'),
    (15, 'state_differences()', 'SELECT * FROM mailstatus.state_differences()')) AS v(i, label, query),
  LATERAL pg_temp.same(v.label, v.query) AS s
  ORDER BY v.i;
END $$;

-- Posts a body to the entry point of its path on both servers, and logs the counts.
CREATE TEMPORARY TABLE ingested (round text, server text, stored integer, duplicates integer, rejected integer);
CREATE FUNCTION pg_temp.post(round text, path text, body text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  call text := format(CASE path WHEN 'jsonb' THEN 'SELECT * FROM mailstatus.ingest_sendgrid_event(%L::jsonb)'
                                WHEN 'text' THEN 'SELECT * FROM mailstatus.ingest_sendgrid_event(%L::text)'
                                ELSE 'SELECT * FROM mailstatus.ingest_sendgrid_webhook(%L)' END, body);
BEGIN
  EXECUTE 'INSERT INTO pg_temp.ingested SELECT $1, ''citus'', c.* FROM (' || call || ') AS c' USING round;
  INSERT INTO pg_temp.ingested SELECT round, 'single node', c.*
    FROM dblink('single', call) AS c(stored integer, duplicates integer, rejected integer);
END $$;

-- Landing mode on the cluster: several clients post the bodies of a round to the coordinator
-- at once (each its own transaction; each client's posts flush when the landing is due,
-- mailstatus.flush_interval = 1s), and another client flushes now and then while they post;
-- the single server takes the same bodies directly, one by one. The per-post answers of
-- landing mode count what landed, so the cluster's are logged as 'citus, landed'; the flushes'
-- counts of what they moved are in flushed.
CREATE TEMPORARY TABLE flushed (round text, flushed bigint, stored bigint, duplicates bigint, rejected bigint);
CREATE TEMPORARY TABLE pending (client text PRIMARY KEY);
-- Waits for a client's query and logs its answer.
CREATE FUNCTION pg_temp.collect(client text, round text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_temp.pending p WHERE p.client = collect.client) THEN
    RETURN;
  END IF;
  IF client = 'flusher' THEN
    INSERT INTO pg_temp.flushed
    SELECT round, f.* FROM dblink_get_result(client) AS f(flushed bigint, stored bigint, duplicates bigint, rejected bigint);
  ELSE
    INSERT INTO pg_temp.ingested
    SELECT round, 'citus, landed', c.* FROM dblink_get_result(client) AS c(stored integer, duplicates integer, rejected integer);
  END IF;
  PERFORM * FROM dblink_get_result(client) AS done(x text);
  DELETE FROM pg_temp.pending p WHERE p.client = collect.client;
END $$;
-- Sends a query to a client, once it has answered the last one.
CREATE FUNCTION pg_temp.send(client text, round text, query text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_temp.collect(client, round);
  PERFORM dblink_send_query(client, query);
  INSERT INTO pg_temp.pending VALUES (client);
END $$;
-- Every body of the traffic (in reverse order and each to another entry point when
-- reposting), round robin to three posting clients; a flush by a fourth after about a third
-- of them, at moments that depend on the body.
CREATE FUNCTION pg_temp.post_concurrently(round text, reposting boolean) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  b record;
  call text;
BEGIN
  FOR b IN SELECT batch_no, body,
                  CASE WHEN NOT reposting THEN path WHEN path = 'jsonb' THEN 'webhook' WHEN path = 'text' THEN 'jsonb' ELSE 'text' END AS path
             FROM pg_temp.batch ORDER BY CASE WHEN reposting THEN -batch_no ELSE batch_no END LOOP
    call := format(CASE b.path WHEN 'jsonb' THEN 'SELECT * FROM mailstatus.ingest_sendgrid_event(%L::jsonb)'
                               WHEN 'text' THEN 'SELECT * FROM mailstatus.ingest_sendgrid_event(%L::text)'
                               ELSE 'SELECT * FROM mailstatus.ingest_sendgrid_webhook(%L)' END, b.body);
    PERFORM pg_temp.send('poster' || b.batch_no % 3, round, call);
    INSERT INTO pg_temp.ingested SELECT round, 'single node', c.*
      FROM dblink('single', call) AS c(stored integer, duplicates integer, rejected integer);
    IF pg_temp.rnd(b.batch_no, CASE WHEN reposting THEN 11 ELSE 10 END) < 0.34 THEN
      PERFORM pg_temp.send('flusher', round, 'SELECT * FROM mailstatus.flush()');
    END IF;
  END LOOP;
  FOR i IN 0..2 LOOP
    PERFORM pg_temp.collect('poster' || i, round);
  END LOOP;
  PERFORM pg_temp.collect('flusher', round);
END $$;

CREATE FUNCTION pg_temp.plan(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE 'EXPLAIN (COSTS OFF) ' || query;
END $$;

\set recipients 1200
\set ECHO none
\i :traffic
\set ECHO all
RESET citus.enable_ddl_propagation;
SELECT (SELECT count(*) FROM traffic) AS elements, (SELECT count(*) FROM batch) AS bodies,
       (SELECT count(*) FROM send_call) AS sends;

CREATE EXTENSION mailstatus;
SELECT dblink_exec('single', 'CREATE EXTENSION mailstatus');

-- Events stored before the tables are distributed, in monthly partitions.
SELECT pg_temp.post('before', 'jsonb', $$[
  {"email":"ann@example.com","timestamp":1700000000,"event":"delivered","sg_event_id":"c1","sg_message_id":"C1.filter.0","category":["invoice"],"crm_record":"R-1"},
  {"email":"bob@example.com","timestamp":1700000050,"event":"bounce","sg_event_id":"c2","sg_message_id":"C1.filter.1","reason":"550 gone"},
  {"email":"cy@example.com","timestamp":1700000060,"event":"bounce","sg_event_id":"c3","reason":"async, no message id"}
]$$);
SELECT * FROM pg_temp.both('mailstatus.create_event_partitions(1) > 0');

-- The recipe: each table placed as citus_layout says, in its order; the copies left behind
-- on the coordinator by distributing a table that held rows are truncated.
SET client_min_messages = warning;
SELECT l.step, l.table_name, l.placement,
       CASE l.placement
         WHEN 'distributed' THEN create_distributed_table(l.table_name, l.distribution_column,
                                                          colocate_with => COALESCE(l.colocate_with::text, 'default'))::text
         WHEN 'reference' THEN create_reference_table(l.table_name)::text
         ELSE 'left on the coordinator' END AS done
  FROM mailstatus.citus_layout l ORDER BY l.step;
SELECT count(truncate_local_data_after_distributing_table(p.relid)) AS truncated
  FROM mailstatus.citus_layout l, pg_partition_tree(l.table_name) p
 WHERE l.placement <> 'coordinator' AND p.isleaf;
RESET client_min_messages;
SELECT l.table_name, p.partmethod, column_to_column_name(p.logicalrelid, p.partkey) AS distribution_column,
       p.colocationid = (SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = 'mailstatus.event'::regclass) AS with_event,
       p.colocationid = (SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = 'mailstatus.suppression_state'::regclass) AS with_suppression_state
  FROM mailstatus.citus_layout l LEFT JOIN pg_dist_partition p ON l.table_name = p.logicalrelid
 ORDER BY l.step;
-- The rows stored before are on the workers, and nothing is left on the coordinator.
SELECT count(*) AS events FROM mailstatus.event;
SELECT c.oid::regclass AS coordinator_copy_not_empty
  FROM mailstatus.citus_layout l, pg_partition_tree(l.table_name) p JOIN pg_class c ON c.oid = p.relid
 WHERE l.placement <> 'coordinator' AND p.isleaf AND pg_relation_size(c.oid) > 0;

-- Landing mode on the cluster from here on: this session's posts land and flush when views
-- are compared; three clients post the traffic at once, flushing when the landing is due (1 s
-- after the last flush), and a fourth flushes while they post.
SET mailstatus.ingest_mode = landing;
SET mailstatus.flush_interval = '1d';
SELECT count(dblink_connect(c, format('%s options=''-c mailstatus.ingest_mode=landing -c mailstatus.flush_interval=1s''', :'coordinator')))
       AS clients
  FROM unnest(ARRAY['poster0', 'poster1', 'poster2', 'flusher']) AS c;

-- Ingest on the coordinator: the CRM's sends first, then every body, by the three entry points.
SELECT count(*) AS record_send_calls, count(*) FILTER (WHERE b.citus = b.single_node) AS same_answer,
       sum(b.citus::integer) AS recorded
  FROM send_call s,
       LATERAL pg_temp.both(format('mailstatus.record_send(%L, %L, %L, %L)', s.message_id, s.emails, s.custom_args, s.sent_at)) AS b;
SELECT pg_temp.post_concurrently('traffic', false);
-- One more send: an address recorded already, one spelt two ways, one that cannot be stored.
SELECT * FROM pg_temp.both($$mailstatus.record_send('Msg4', ARRAY['user12@example5.com', 'New@Example.com', 'new@example.com', ''], '{"crm_record":"REC-4"}', '2023-11-15 00:00+00')$$);
-- Every element accepted (landed, or stored directly) or rejected alike; the flushes moved
-- them all (what they stored is compared below, as 'events stored').
SELECT server, count(*) AS bodies, sum(stored + duplicates) AS accepted, sum(rejected) AS rejected
  FROM ingested WHERE round = 'traffic' GROUP BY server ORDER BY server;
SELECT count(*) > 0 AS flushes_while_posting FROM flushed;

-- Reading, as the CRM does: every view the same as on one server.
SELECT * FROM pg_temp.views();
SELECT message_id, recipients, status, delivered, opened, clicked, bounced, dropped
  FROM mailstatus.message_status WHERE message_id IN ('C1', 'Msg4', 'Msg40') ORDER BY 1;
SELECT mailstatus.is_suppressed(' BOB@Example.com') AS bob, mailstatus.is_suppressed('ann@example.com') AS ann;
-- Machine opens counted: the status views read the setting where they run, on the workers.
-- Set on the coordinator alone, only the counters kept there follow it; set for the
-- transaction and propagated (citus.propagate_set_commands = 'local'), every view does.
SELECT dblink_exec('single', 'SET mailstatus.count_machine_opens = on');
BEGIN;
SET LOCAL mailstatus.count_machine_opens = on;
SELECT * FROM pg_temp.views() WHERE result IN ('recipient_status', 'message_status', 'status_counts', 'recipient_status_for');
COMMIT;
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL mailstatus.count_machine_opens = on;
SELECT * FROM pg_temp.views() WHERE result IN ('recipient_status', 'message_status', 'status_counts', 'recipient_status_for');
COMMIT;
SELECT dblink_exec('single', 'RESET mailstatus.count_machine_opens');

-- Idempotent: every body posted again, each to another entry point, stores nothing and
-- changes nothing.
SELECT pg_temp.post_concurrently('again', true);
-- The single server stores nothing again; the cluster lands them, and its flushes store
-- nothing of them either (every event is found stored).
SELECT server, count(*) AS bodies, sum(stored + duplicates) AS accepted,
       sum(stored) FILTER (WHERE server = 'single node') AS stored, sum(rejected) AS rejected
  FROM ingested WHERE round = 'again' GROUP BY server ORDER BY server;
SELECT coalesce(sum(stored), 0) AS stored_by_the_flushes_of_reposts FROM flushed WHERE round = 'again';
SELECT * FROM pg_temp.views() WHERE NOT same_as_single_node;

-- What runs where: one message's recipients on one node; an address's suppressions on one
-- node (is_suppressed reads one shard: its plan has one task, and calling it runs one
-- single-shard query); the roll-up as partial aggregates on the workers, combined on the
-- coordinator.
SELECT line FROM pg_temp.plan($$SELECT * FROM mailstatus.recipient_status WHERE message_id = 'Msg40'$$) AS line
 WHERE line ~ 'Task Count|Custom Scan';
PREPARE suppressed(text, integer) AS
SELECT EXISTS (SELECT 1 FROM mailstatus.suppression s
                WHERE s.email OPERATOR(pg_catalog.=) mailstatus.normalize_email($1)
                  AND (s.asm_group_id IS NULL OR s.asm_group_id OPERATOR(pg_catalog.=) $2));
SELECT line FROM pg_temp.plan($$EXECUTE suppressed('BOB@example.com', NULL)$$) AS line
 WHERE line ~ 'Task Count|Custom Scan';
SELECT line FROM pg_temp.plan($$EXECUTE suppressed('user40@example5.com', 2)$$) AS line
 WHERE line ~ 'Task Count|Custom Scan';
SET citus.enable_stat_counters = on;
SELECT citus_stat_counters_reset();
SELECT mailstatus.is_suppressed('BOB@example.com') AS bob, mailstatus.is_suppressed('user40@example5.com', 2) AS user40;
SELECT query_execution_single_shard, query_execution_multi_shard FROM citus_stat_counters WHERE name = current_database();
SELECT citus_stat_counters_reset();
SELECT message_id, recipients, status FROM mailstatus.message_status WHERE message_id = 'Msg40';
SELECT query_execution_single_shard, query_execution_multi_shard FROM citus_stat_counters WHERE name = current_database();
RESET citus.enable_stat_counters;
SELECT line FROM pg_temp.plan($$SELECT mailstatus.mail_status_agg(status) FROM mailstatus.recipient_status$$) AS line
 WHERE line ~ 'Task Count|Custom Scan|^ *(->  )?Aggregate';

-- Notifications: a session LISTENing on the coordinator receives each status change of an
-- ingest, by the id of its status_change row.
SELECT dblink_connect('listener', :'coordinator');
SELECT dblink_exec('listener', 'LISTEN mailstatus_status_changed');
CREATE TEMPORARY TABLE mark AS SELECT COALESCE(max(id), 0) AS last_change FROM mailstatus.status_change;
SELECT pg_temp.post('notified', 'webhook', $$[
  {"email":"ann@example.com","timestamp":1700000500,"event":"unsubscribe","sg_event_id":"n1","sg_message_id":"C1.filter.0"},
  {"email":"ann@example.com","timestamp":1700000600,"event":"delivered","sg_event_id":"n2","sg_message_id":"C1.filter.0"},
  {"email":"nora@example.com","timestamp":1700100000,"event":"delivered","sg_event_id":"n3","sg_message_id":"N1.filter.0"},
  {"email":"nora@example.com","timestamp":1700100060,"event":"open","sg_event_id":"n4","sg_message_id":"N1.filter.0"}
]$$);
-- The changes are logged and notified by the flush.
SELECT flushed, stored FROM mailstatus.flush();
CREATE TEMPORARY TABLE notification AS SELECT * FROM dblink_get_notify('listener') LIMIT 0;
DO $$
BEGIN
  FOR attempt IN 1..100 LOOP
    INSERT INTO pg_temp.notification SELECT * FROM dblink_get_notify('listener');
    EXIT WHEN (SELECT count(*) FROM pg_temp.notification)
              >= (SELECT count(*) FROM mailstatus.status_change c, pg_temp.mark m WHERE c.id > m.last_change);
    PERFORM pg_sleep(0.1);
  END LOOP;
END $$;
SELECT c.message_id, c.email, c.old_status, c.new_status, n.notify_name IS NOT NULL AS notified
  FROM mailstatus.status_change c CROSS JOIN mark m
  LEFT JOIN notification n ON n.extra = c.id::text AND n.notify_name = 'mailstatus_status_changed'
 WHERE c.id > m.last_change ORDER BY c.id;
SELECT count(*) AS notifications_without_a_change FROM notification n
 WHERE NOT EXISTS (SELECT FROM mailstatus.status_change c, mark m WHERE c.id::text = n.extra AND c.id > m.last_change);
SELECT dblink_disconnect('listener');

-- A flush in a session that switched Citus' DDL propagation off still empties its working
-- tables on every shard (its TRUNCATE propagates): nothing is left for the next flush to merge
-- again.
SET citus.enable_ddl_propagation = off;
SELECT pg_temp.post('ddl propagation off', 'jsonb', $$[
  {"email":"otto@example.com","timestamp":1700200000,"event":"delivered","sg_event_id":"o1","sg_message_id":"O1.filter.0"},
  {"email":"otto@example.com","timestamp":1700200060,"event":"bounce","type":"bounce","sg_event_id":"o2","sg_message_id":"O1.filter.0"}
]$$);
SELECT flushed, stored FROM mailstatus.flush();
RESET citus.enable_ddl_propagation;
SELECT 'flushing_event' AS working_table, sum(result::bigint) AS rows_left_on_shards
  FROM run_command_on_shards('mailstatus.flushing_event', 'SELECT count(*) FROM %s')
UNION ALL
SELECT 'flushing_suppression_event', sum(result::bigint)
  FROM run_command_on_shards('mailstatus.flushing_suppression_event', 'SELECT count(*) FROM %s');

-- Partitions: late events of months without a partition go to the default partition; making
-- their partitions moves them out of it, on every worker, and the new partitions are
-- distributed too.
SELECT pg_temp.post('late', 'jsonb', jsonb_agg(jsonb_build_object(
         'email', 'user' || r || '@example' || (r % 7) || '.com', 'event', 'open', 'timestamp', 1701475200 + r,
         'sg_event_id', 'late-dec-' || r, 'sg_message_id', 'Msg' || r / 3 || '.filter.0'))::text)
  FROM generate_series(3, 600, 25) AS r;
SELECT pg_temp.post('late', 'text', (SELECT jsonb_agg(jsonb_build_object(
         'email', 'october' || i || '@example.com', 'event', e, 'timestamp', 1697800000 + i * 10,
         'sg_event_id', 'late-oct-' || i || e, 'sg_message_id', 'Oct' || i / 2 || '.filter.0', 'crm_record', 'OCT'))::text
  FROM generate_series(1, 20) AS i, unnest(ARRAY['processed', 'delivered']) AS e));
SELECT flushed, stored FROM mailstatus.flush();
SELECT sum(result::bigint) AS rows_in_default_partition_shards
  FROM run_command_on_shards('mailstatus.event_default', 'SELECT count(*) FROM %s');
SELECT * FROM pg_temp.both('mailstatus.create_event_partitions(0)');
SELECT sum(result::bigint) AS rows_in_default_partition_shards
  FROM run_command_on_shards('mailstatus.event_default', 'SELECT count(*) FROM %s');
SELECT i.inhrelid::regclass AS partition, i.inhrelid IN (SELECT logicalrelid FROM pg_dist_partition) AS distributed,
       (SELECT count(*) FROM pg_dist_shard s WHERE s.logicalrelid = i.inhrelid) AS shards
  FROM pg_inherits i WHERE i.inhparent = 'mailstatus.event'::regclass
   AND i.inhrelid::regclass::text ~ '_p2023_|default' ORDER BY 1;
SELECT * FROM pg_temp.views() WHERE NOT same_as_single_node OR result IN ('events stored', 'state_differences()');

-- Retention drops October and keeps the state: every view as before, late events rejected.
SELECT * FROM pg_temp.both($$mailstatus.drop_event_partitions('2023-11-15')$$);
SELECT pg_temp.post('after retention', 'jsonb', '{"email":"october1@example.com","timestamp":1697800300,"event":"open","sg_event_id":"late-oct-x","sg_message_id":"Oct0.filter.0"}');
SELECT server, stored, duplicates, rejected FROM ingested WHERE round = 'after retention' ORDER BY server;
SELECT * FROM pg_temp.views() WHERE NOT same_as_single_node OR result IN ('events stored', 'state_differences()');
SELECT message_id, recipients, status, delivered FROM mailstatus.message_status WHERE message_id LIKE 'Oct%' ORDER BY 1 LIMIT 3;

-- Scale-out: a third worker added, shards rebalanced onto it (logical replication: every node
-- runs with wal_level = logical); the answers stay the same, and ingest goes on.
SET client_min_messages = warning;
SELECT citus_add_node(:'work', :new_worker_port) > 0 AS added;
SELECT citus_rebalance_start() > 0 AS rebalance_started;
SELECT citus_rebalance_wait();
RESET client_min_messages;
SELECT j.state, bool_and(t.status = 'done') AS every_move_done
  FROM pg_dist_background_job j JOIN pg_dist_background_task t USING (job_id) GROUP BY j.state;
-- (citus_shards lists no table of an extension: pg_dist_placement does.)
SELECT s.logicalrelid AS table_name, count(DISTINCT p.groupid) AS workers, max(n.shards) - min(n.shards) <= 1 AS balanced
  FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid)
  JOIN LATERAL (SELECT count(*) AS shards FROM pg_dist_shard s2 JOIN pg_dist_placement p2 USING (shardid)
                 WHERE s2.logicalrelid = s.logicalrelid AND p2.groupid = p.groupid) AS n ON true
 WHERE s.logicalrelid IN ('mailstatus.event_p2023_11'::regclass, 'mailstatus.recipient'::regclass, 'mailstatus.suppression_state'::regclass)
 GROUP BY s.logicalrelid ORDER BY 1;
SELECT * FROM pg_temp.views();
SELECT pg_temp.post('after rebalance', 'webhook', (SELECT jsonb_agg(jsonb_build_object(
         'email', 'user' || r || '@example' || (r % 7) || '.com', 'event', CASE WHEN r % 2 = 0 THEN 'click' ELSE 'spamreport' END,
         'timestamp', 1700200000 + r, 'sg_event_id', 'after-' || r, 'sg_message_id', 'Msg' || r / 3 || '.filter.0'))::text
  FROM generate_series(1, 1200, 7) AS r));
SELECT server, stored, duplicates, rejected FROM ingested WHERE round = 'after rebalance' ORDER BY server;
SELECT * FROM pg_temp.views() WHERE NOT same_as_single_node OR result IN ('recipient_status', 'state_differences()');

-- The owner's maintenance: lifting a suppression, forgetting old recipients and status changes.
SELECT * FROM pg_temp.both($$mailstatus.lift_suppression('bob@example.com')$$);
SELECT b.* FROM (SELECT g.email, g.asm_group_id FROM mailstatus.group_suppression_state g
                  WHERE g.unsubscribe IS NOT NULL AND g.resubscribed_at IS NULL ORDER BY 1, 2 LIMIT 1) AS g,
       pg_temp.both(format('mailstatus.lift_suppression(%L, %s)', upper(g.email), g.asm_group_id)) AS b;
SELECT * FROM pg_temp.both($$mailstatus.forget_recipients('2023-11-16')$$);
SELECT * FROM pg_temp.both($$mailstatus.forget_status_changes('infinity') > 0$$);
SELECT * FROM pg_temp.views() WHERE NOT same_as_single_node OR result IN ('recipient_status', 'suppression', 'state_differences()');
