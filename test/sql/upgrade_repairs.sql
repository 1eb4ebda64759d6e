-- The update to 0.5.0 repairs the counters 0.4.0 corrupted (issue 19, defect 1): a 0.4.0
-- database, its data loaded, the exact values 0.4.0 wrote into the counters written in as
-- the owner; after ALTER EXTENSION ... UPDATE the counters are what the recipient state makes,
-- on the days forget_recipients closed too, and state_differences lists nothing.
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
DROP EXTENSION mailstatus CASCADE;
CREATE EXTENSION mailstatus VERSION '0.4.0';
SET search_path = mailstatus, public;

-- October 1: a recipient whose events come without a category, then one with (a later post),
-- and one categorized from the start. November 14: the same, and one that never has a
-- category. Then the recipients of October are forgotten: October 1 is a closed day, whose
-- figures the state no longer holds whole.
SELECT stored FROM ingest_sendgrid_event('[
  {"email":"a@example.com","timestamp":1696150000,"event":"processed","sg_event_id":"r1","sg_message_id":"R1.filter.0"},
  {"email":"a@example.com","timestamp":1696150060,"event":"delivered","sg_event_id":"r2","sg_message_id":"R1.filter.0"},
  {"email":"b@example.com","timestamp":1696150000,"event":"processed","sg_event_id":"r3","sg_message_id":"R1.filter.0","category":"invoice"},
  {"email":"c@example.com","timestamp":1700000000,"event":"processed","sg_event_id":"r4","sg_message_id":"R2.filter.0"},
  {"email":"c@example.com","timestamp":1700000060,"event":"delivered","sg_event_id":"r5","sg_message_id":"R2.filter.0"},
  {"email":"d@example.com","timestamp":1700000000,"event":"processed","sg_event_id":"r6","sg_message_id":"R2.filter.0","category":"invoice"},
  {"email":"e@example.com","timestamp":1700000000,"event":"processed","sg_event_id":"r7","sg_message_id":"R2.filter.0"}]');
SELECT stored FROM ingest_sendgrid_event('[
  {"email":"a@example.com","timestamp":1696150100,"event":"open","sg_event_id":"r8","sg_message_id":"R1.filter.0","category":"invoice"},
  {"email":"c@example.com","timestamp":1700000100,"event":"open","sg_event_id":"r9","sg_message_id":"R2.filter.0","category":"invoice"}]');
SELECT forget_recipients('2023-10-15') AS forgotten;
-- Every counter row that counts something (rows of zeros are alike whether kept or not).
-- (0.4.0's status_count is 0.5.0's recipient_count_by_status: the update renames it, rows kept.)
CREATE FUNCTION pg_temp.counters() RETURNS TABLE (counter text, counts jsonb) LANGUAGE sql AS $$
  SELECT 'day', to_jsonb(d) FROM mailstatus.deliverability_day d
  UNION ALL SELECT 'category_day', to_jsonb(d) FROM mailstatus.deliverability_category_day d
   WHERE d.sent + d.delivered + d.bounced + d.blocked + d.dropped + d.deferred + d.spam_reports + d.unique_human_opens
         + d.machine_opens + d.clicks <> 0
  UNION ALL SELECT 'by_status', to_jsonb(s) FROM mailstatus.status_count s WHERE s.recipients <> 0 $$;
CREATE TEMP TABLE right_counters AS SELECT * FROM pg_temp.counters();
SELECT day, category, sent, delivered, unique_human_opens FROM deliverability_category_day ORDER BY day, category;

-- What 0.4.0 wrote instead: in the no-category rows of both days, each flag a's and c's later
-- categories took away added 2^32 - 1 instead of taking 1 away (4294967296 more, each); and a
-- status count moved by a forged state handed to recipient_merge_counts (defect 2).
UPDATE deliverability_category_day SET sent = sent + 4294967296, delivered = delivered + 4294967296
 WHERE category IS NULL AND day IN ('2023-10-01', '2023-11-14');
UPDATE status_count SET recipients = recipients + 1 WHERE machine_opens_counted AND status = 'opened';
SELECT day, category, sent, delivered, unique_human_opens FROM deliverability_category_day ORDER BY day, category;
SELECT state, key FROM state_differences() ORDER BY 1, 2;

ALTER EXTENSION mailstatus UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'mailstatus';
SELECT to_regclass('mailstatus.status_count') AS old_name, to_regclass('mailstatus.recipient_count_by_status') AS new_name;
CREATE OR REPLACE FUNCTION pg_temp.counters() RETURNS TABLE (counter text, counts jsonb) LANGUAGE sql AS $$
  SELECT 'day', to_jsonb(d) FROM mailstatus.deliverability_day d
  UNION ALL SELECT 'category_day', to_jsonb(d) FROM mailstatus.deliverability_category_day d
   WHERE d.sent + d.delivered + d.bounced + d.blocked + d.dropped + d.deferred + d.spam_reports + d.unique_human_opens
         + d.machine_opens + d.clicks <> 0
  UNION ALL SELECT 'by_status', to_jsonb(s) FROM mailstatus.recipient_count_by_status s WHERE s.recipients <> 0 $$;
-- Repaired: every counter as it was right, the closed day's too.
SELECT day, category, sent, delivered, unique_human_opens FROM deliverability_category_day ORDER BY day, category;
SELECT counter, counts, 'right only' AS side FROM (SELECT * FROM right_counters EXCEPT ALL SELECT * FROM pg_temp.counters()) r
UNION ALL
SELECT counter, counts, 'repaired only' FROM (SELECT * FROM pg_temp.counters() EXCEPT ALL SELECT * FROM right_counters) r;
SELECT count(*) AS counter_rows_compared FROM right_counters;
SELECT * FROM state_differences();
-- Ingest goes on from the repaired counters.
SELECT stored FROM ingest_sendgrid_event('[{"email":"e@example.com","timestamp":1700000200,"event":"delivered","sg_event_id":"r10","sg_message_id":"R2.filter.0","category":"quote"}]');
SELECT day, category, sent, delivered, unique_human_opens FROM deliverability_category_day WHERE day = '2023-11-14' ORDER BY category;
SELECT * FROM state_differences();
