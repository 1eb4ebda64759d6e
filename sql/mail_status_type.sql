-- The mail_status type: labels, precedence order, operators, indexes, casts, binary I/O.
CREATE EXTENSION mailstatus;
SET search_path = mailstatus, public;

-- Every label, its display label, and the precedence order.
SELECT s, s::text AS label, mail_status_label(s) AS display
  FROM unnest('{dropped,sent,bounced,opened,deferred,clicked,spam_report,delivered,unsubscribed}'::mail_status[]) AS s
 ORDER BY s;

-- Input accepts labels and display labels in any case.
SELECT 'Spam Report'::mail_status, 'SPAM_REPORT'::mail_status, 'spam report'::mail_status,
       'Delivered'::mail_status, 'dElIvErEd'::mail_status;

-- Bad input: 22P02 with a hint listing the labels.
SELECT 'x'::mail_status;
SELECT ''::mail_status;
SELECT 'spam-report'::mail_status;
\set VERBOSITY sqlstate
SELECT 'x'::mail_status;
\set VERBOSITY default

-- Comparison operators follow the precedence.
SELECT 'sent'::mail_status < 'deferred', 'bounced'::mail_status > 'clicked',
       'dropped'::mail_status >= 'dropped', 'opened'::mail_status <= 'delivered',
       'opened'::mail_status = 'Opened', 'opened'::mail_status <> 'clicked';

-- Casts to and from text; assignment from text works in INSERT.
CREATE TABLE status_sample (id int, s mail_status);
INSERT INTO status_sample VALUES (1, 'bounced'), (2, 'sent'), (3, 'opened'), (4, 'opened'), (5, NULL);
INSERT INTO status_sample SELECT 6, 'clicked'::text;
SELECT 'delivered'::text::mail_status, 'bounced'::mail_status::text || '!';

-- btree index: sorted, range scan.
CREATE INDEX status_sample_s ON status_sample (s);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM status_sample WHERE s > 'delivered' ORDER BY s;
SELECT id, s FROM status_sample WHERE s > 'delivered' ORDER BY s, id;
RESET enable_seqscan;

-- hash support: GROUP BY, DISTINCT and hash join by hashing, hash index.
SET enable_sort = off;
EXPLAIN (COSTS OFF) SELECT s, count(*) FROM status_sample GROUP BY s;
SELECT s, count(*) FROM status_sample GROUP BY s ORDER BY s;
SELECT DISTINCT s FROM status_sample ORDER BY s;
RESET enable_sort;
CREATE INDEX status_sample_h ON status_sample USING hash (s);
SET enable_seqscan = off;
SELECT id FROM status_sample WHERE s = 'opened' ORDER BY id;
RESET enable_seqscan;
SET enable_mergejoin = off;
SET enable_nestloop = off;
EXPLAIN (COSTS OFF) SELECT a.id, b.id FROM status_sample a JOIN status_sample b ON a.s = b.s;
SELECT a.id, b.id FROM status_sample a JOIN status_sample b ON a.s = b.s ORDER BY 1, 2;
RESET enable_mergejoin;
RESET enable_nestloop;

-- Binary send/recv round trip through COPY BINARY.
COPY (SELECT id, s FROM status_sample ORDER BY id) TO '/tmp/mailstatus_status_sample.bin' WITH (FORMAT binary);
CREATE TABLE status_copy (id int, s mail_status);
COPY status_copy FROM '/tmp/mailstatus_status_sample.bin' WITH (FORMAT binary);
SELECT * FROM status_copy ORDER BY id;
-- An int2 outside 1..9 is not a status: 22P03.
COPY (SELECT 1::int, 42::int2) TO '/tmp/mailstatus_bad_status.bin' WITH (FORMAT binary);
COPY status_copy FROM '/tmp/mailstatus_bad_status.bin' WITH (FORMAT binary);

-- SendGrid event names and the status each one means.
SELECT e, mail_status_of_event(e)
  FROM unnest('{processed,deferred,delivered,open,click,bounce,dropped,spamreport,unsubscribe,group_unsubscribe,group_resubscribe,Processed,DELIVERED,some_future_event}'::text[]) AS e;

-- Functions carry the volatility, strictness and parallel labels they should.
SELECT p.proname, p.provolatile, p.proisstrict, p.proparallel
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'mailstatus' AND p.prokind = 'f'
 ORDER BY p.proname, pg_get_function_identity_arguments(p.oid);

DROP TABLE status_sample, status_copy;

-- Every function, aggregate, table, view and the type carry a comment.
SELECT p.oid::regprocedure::text AS missing_comment FROM pg_proc p
 WHERE p.pronamespace = 'mailstatus'::regnamespace AND obj_description(p.oid, 'pg_proc') IS NULL
UNION ALL
SELECT c.oid::regclass::text FROM pg_class c
 WHERE c.relnamespace = 'mailstatus'::regnamespace AND c.relkind IN ('r', 'v')
   AND obj_description(c.oid, 'pg_class') IS NULL;

