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
-- A long value is quoted up to 64 bytes, cut on a character boundary and marked "...":
-- 10 MB of input makes a line of the message, not 10 MB of log.
SELECT repeat('x', 10000000)::mail_status;
SELECT ('a' || repeat('é', 100))::mail_status;
-- 64 bytes exactly are quoted whole.
SELECT repeat('x', 64)::mail_status;

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

-- Binary send/recv round trip through COPY BINARY, in files of this run's own server (its
-- data directory): two runs at once never share them.
SELECT current_setting('data_directory') || '/mailstatus_status_sample.bin' AS sample_path,
       current_setting('data_directory') || '/mailstatus_bad_status.bin' AS bad_path \gset
COPY (SELECT id, s FROM status_sample ORDER BY id) TO :'sample_path' WITH (FORMAT binary);
CREATE TABLE status_copy (id int, s mail_status);
COPY status_copy FROM :'sample_path' WITH (FORMAT binary);
SELECT * FROM status_copy ORDER BY id;
-- The file holds each status as its int2 (sent = 1 ... dropped = 9), NULL as length -1.
SELECT encode(substr(pg_read_binary_file(:'sample_path'), 20), 'hex') AS tuples;
-- An int2 outside 1..9 is not a status: 22P03.
COPY (SELECT 1::int, 42::int2) TO :'bad_path' WITH (FORMAT binary);
COPY status_copy FROM :'bad_path' WITH (FORMAT binary);
COPY (SELECT 1::int, 0::int2) TO :'bad_path' WITH (FORMAT binary);
\set VERBOSITY sqlstate
COPY status_copy FROM :'bad_path' WITH (FORMAT binary);
\set VERBOSITY default

-- SendGrid event names and the status each one means.
SELECT e, mail_status_of_event(e)
  FROM unnest('{processed,deferred,delivered,open,click,bounce,dropped,spamreport,unsubscribe,group_unsubscribe,group_resubscribe,Processed,DELIVERED,some_future_event}'::text[]) AS e;

-- Functions and aggregates (kind f or a) carry the volatility, strictness and parallel
-- labels they should, and the entry points that run with the owner's rights say so
-- (secdef). Input functions that read a time or a date (timed_value_in, activity_in) are
-- stable, as timestamptz_in and date_in are: what they read depends on TimeZone, DateStyle
-- and today's date ('now', 'today').
SELECT p.proname, oidvectortypes(p.proargtypes) AS argument_types, p.prokind AS kind,
       p.provolatile AS volatile, p.proisstrict AS strict, p.proparallel AS parallel, p.prosecdef AS secdef
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'mailstatus'
 ORDER BY p.proname, oidvectortypes(p.proargtypes);

DROP TABLE status_sample, status_copy;

-- Every function, aggregate, table (the partitioned event table too), view and type carries
-- a comment.
SELECT p.oid::regprocedure::text AS missing_comment FROM pg_proc p
 WHERE p.pronamespace = 'mailstatus'::regnamespace AND obj_description(p.oid, 'pg_proc') IS NULL
UNION ALL
SELECT c.oid::regclass::text FROM pg_class c
 WHERE c.relnamespace = 'mailstatus'::regnamespace AND c.relkind IN ('r', 'p', 'v') AND NOT c.relispartition
   AND obj_description(c.oid, 'pg_class') IS NULL
UNION ALL
SELECT t.oid::regtype::text FROM pg_type t
 WHERE t.typnamespace = 'mailstatus'::regnamespace AND t.typtype = 'b' AND t.typcategory <> 'A'
   AND obj_description(t.oid, 'pg_type') IS NULL;
-- The three types are all there is to check.
SELECT t.oid::regtype AS base_type FROM pg_type t
 WHERE t.typnamespace = 'mailstatus'::regnamespace AND t.typtype = 'b' AND t.typcategory <> 'A' ORDER BY 1;

