-- The state: each batch's partial states merged into the stored ones with the aggregates'
-- combine functions equal, after every single batch, what the raw rows recompute; the check
-- that says so fails when the state is wrong; status changes are logged once per change;
-- the roll-up counts; forgetting recipients and changes.
SET search_path = mailstatus, public;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
\i test/sql/include/helpers.psql
CALL pg_temp.empty_state();

CREATE TEMP TABLE fixture AS
SELECT g AS n, jsonb_strip_nulls(jsonb_build_object(
         'email', 'r' || (g % 3) || '@example.com',
         'timestamp', 1700000000 + (g * 37) % 500 + (g % 4) * 86400,
         'event', (ARRAY['processed','deferred','delivered','open','click','bounce','dropped','spamreport','unsubscribe',
                         'group_unsubscribe','group_resubscribe'])[1 + (g * 7 + g / 60) % 11],
         'sg_event_id', CASE WHEN g % 17 = 0 THEN NULL ELSE 'evt-' || g END,
         'sg_message_id', CASE WHEN g % 23 = 0 THEN '' ELSE 'Msg' || (g % 20) || '.filter' || (g % 3) || '.0' END,
         'sg_machine_open', CASE WHEN g % 11 = 0 THEN true END,
         'asm_group_id', 1 + g % 2,
         'category', CASE g % 3 WHEN 0 THEN to_jsonb('invoice'::text) WHEN 1 THEN '["quote","north"]'::jsonb END,
         'reason', 'reason ' || g,
         'record_id', 'REC-' || (g % 20))) AS body
  FROM generate_series(1, 300) g;

-- Posts the fixture in an order, in batches, checking the state after every batch; returns the
-- most differences seen.
CREATE FUNCTION pg_temp.post(order_sql text, batch_size int) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  batch jsonb;
  worst bigint := 0;
BEGIN
  FOR batch IN EXECUTE format(
      'SELECT jsonb_agg(body ORDER BY pos) FROM (SELECT body, row_number() OVER (ORDER BY %s) AS pos FROM fixture) o GROUP BY (pos - 1) / %s ORDER BY (pos - 1) / %s',
      order_sql, batch_size, batch_size)
  LOOP
    PERFORM mailstatus.ingest_sendgrid_event(batch);
    worst := greatest(worst, (SELECT count(*) FROM mailstatus.state_differences()));
  END LOOP;
  RETURN worst;
END $$;

-- After every single batch, in several orders and batchings, and with everything re-posted
-- (the CRM's sends recorded first, as it sends: async bounces are attributed to them).
SELECT record_send('Msg' || m, ARRAY['r0@example.com', 'R1@example.com'], jsonb_build_object('record_id', 'REC-' || m), '2023-11-14 20:00+00')
  FROM generate_series(0, 4) m ORDER BY m;
SELECT pg_temp.post('md5(n::text)', 7) AS differences_shuffled;
SELECT pg_temp.post('n DESC', 50) AS differences_reposted_reversed;
SELECT count(*) AS recipients, sum(opens + machine_opens) AS opens, sum(clicks) AS clicks FROM recipient;
CREATE TEMP TABLE state_once AS SELECT r.* FROM recipient r;
CALL pg_temp.empty_state();
SELECT record_send('Msg' || m, ARRAY['r0@example.com', 'R1@example.com'], jsonb_build_object('record_id', 'REC-' || m), '2023-11-14 20:00+00')
  FROM generate_series(4, 0, -1) m ORDER BY m;
SELECT pg_temp.post('(body->>''timestamp'')::bigint DESC, n', 1) AS differences_one_by_one;
-- The same state either way (the bookkeeping of each row's last merge aside).
SELECT count(*) AS state_differences_between_orders FROM (
  (SELECT message_id, email, reached, reached_human, first_event_at, last_event_at, opens, machine_opens, clicks,
          reason::text, smtp_status::text, bounce_classification::text, custom_args::text, categories, activity::text FROM state_once
   EXCEPT
   SELECT message_id, email, reached, reached_human, first_event_at, last_event_at, opens, machine_opens, clicks,
          reason::text, smtp_status::text, bounce_classification::text, custom_args::text, categories, activity::text FROM recipient)
  UNION ALL
  (SELECT message_id, email, reached, reached_human, first_event_at, last_event_at, opens, machine_opens, clicks,
          reason::text, smtp_status::text, bounce_classification::text, custom_args::text, categories, activity::text FROM recipient
   EXCEPT
   SELECT message_id, email, reached, reached_human, first_event_at, last_event_at, opens, machine_opens, clicks,
          reason::text, smtp_status::text, bounce_classification::text, custom_args::text, categories, activity::text FROM state_once)) d;

-- The check fails when the state is wrong: each kind of damage is named.
BEGIN;
UPDATE recipient SET opens = opens + 1 WHERE (message_id, email) = (SELECT message_id, email FROM recipient ORDER BY 1, 2 LIMIT 1);
DELETE FROM suppression_state WHERE email = 'r2@example.com';
UPDATE group_suppression_state SET resubscribed_at = resubscribed_at - interval '1 second' WHERE email = 'r0@example.com' AND asm_group_id = 1;
UPDATE deliverability_day SET clicks = clicks + 1 WHERE day = '2023-11-15';
DELETE FROM deliverability_category_day WHERE category = 'north' AND day = '2023-11-16';
DELETE FROM recipient_custom_args WHERE message_id = 'Msg3';
UPDATE recipient_count_by_status SET recipients = recipients + 1 WHERE status = 'delivered' AND machine_opens_counted;
SELECT state, key FROM state_differences() ORDER BY 1, 2;
ROLLBACK;

-- The roll-up: recipients per status, as this session counts machine opens, equal to counting
-- the recipients.
SELECT s.status, s.recipients, s.recipients = (SELECT count(*) FROM recipient_status r WHERE r.status IS NOT DISTINCT FROM s.status) AS counted
  FROM status_counts s ORDER BY s.status;
SET mailstatus.count_machine_opens = on;
SELECT count(*) AS statuses_miscounted FROM status_counts s
 WHERE s.recipients <> (SELECT count(*) FROM recipient_status r WHERE r.status IS NOT DISTINCT FROM s.status);
RESET mailstatus.count_machine_opens;

-- Status changes: one row per change of a recipient's status, none for an event that changes
-- nothing the CRM shows (a second open, a late delivery for an opened recipient, a re-post).
CALL pg_temp.empty_state();
SELECT stored FROM ingest_sendgrid_event('[{"email":"c@example.com","timestamp":1700000000,"event":"delivered","sg_event_id":"c1","sg_message_id":"C1.filter.0"},
  {"email":"c@example.com","timestamp":1700000100,"event":"open","sg_event_id":"c2","sg_message_id":"C1.filter.0"}]');
SELECT stored FROM ingest_sendgrid_event('[{"email":"c@example.com","timestamp":1700000200,"event":"open","sg_event_id":"c3","sg_message_id":"C1.filter.0"}]');
SELECT stored FROM ingest_sendgrid_event('[{"email":"c@example.com","timestamp":1700000300,"event":"delivered","sg_event_id":"c4","sg_message_id":"C1.filter.0"}]');
SELECT stored FROM ingest_sendgrid_event('[{"email":"c@example.com","timestamp":1700000100,"event":"open","sg_event_id":"c2","sg_message_id":"C1.filter.0"}]');
-- A machine open changes nothing while machine opens are not counted.
SELECT stored FROM ingest_sendgrid_event('[{"email":"d@example.com","timestamp":1700000000,"event":"delivered","sg_event_id":"d1","sg_message_id":"C1.filter.1"},
  {"email":"d@example.com","timestamp":1700000050,"event":"open","sg_machine_open":true,"sg_event_id":"d2","sg_message_id":"C1.filter.1"}]');
SELECT stored FROM ingest_sendgrid_event('[{"email":"c@example.com","timestamp":1700000400,"event":"click","sg_event_id":"c5","sg_message_id":"C1.filter.0"}]');
SELECT row_number() OVER (ORDER BY id) AS change, message_id, email, old_status, new_status, status_at FROM status_change ORDER BY id;
SELECT message_id, email, status, opens, machine_opens, clicks FROM recipient_status ORDER BY 1, 2;
-- The status a change leaves is the one the ingesting session counted: with machine opens
-- counted, a machine open makes m1 opened (from delivered) and its click leaves opened; without,
-- m2's machine open changes nothing and its click leaves delivered.
SELECT stored FROM ingest_sendgrid_event('[{"email":"m1@example.com","timestamp":1700000000,"event":"delivered","sg_event_id":"m1a","sg_message_id":"M1.filter.0"},
  {"email":"m2@example.com","timestamp":1700000000,"event":"delivered","sg_event_id":"m2a","sg_message_id":"M1.filter.0"}]');
SET mailstatus.count_machine_opens = on;
SELECT stored FROM ingest_sendgrid_event('[{"email":"m1@example.com","timestamp":1700000100,"event":"open","sg_machine_open":true,"sg_event_id":"m1b","sg_message_id":"M1.filter.0"}]');
RESET mailstatus.count_machine_opens;
SELECT stored FROM ingest_sendgrid_event('[{"email":"m2@example.com","timestamp":1700000100,"event":"open","sg_machine_open":true,"sg_event_id":"m2b","sg_message_id":"M1.filter.0"}]');
SET mailstatus.count_machine_opens = on;
SELECT stored FROM ingest_sendgrid_event('[{"email":"m1@example.com","timestamp":1700000200,"event":"click","sg_event_id":"m1c","sg_message_id":"M1.filter.0"}]');
RESET mailstatus.count_machine_opens;
SELECT stored FROM ingest_sendgrid_event('[{"email":"m2@example.com","timestamp":1700000200,"event":"click","sg_event_id":"m2c","sg_message_id":"M1.filter.0"}]');
SELECT email, old_status, new_status, status_at FROM status_change WHERE message_id = 'M1' ORDER BY id;
-- ... and the other way round: m3's machine open posted without counting them, its click with.
SELECT stored FROM ingest_sendgrid_event('[{"email":"m3@example.com","timestamp":1700000000,"event":"delivered","sg_event_id":"m3a","sg_message_id":"M3.filter.0"},
  {"email":"m3@example.com","timestamp":1700000100,"event":"open","sg_machine_open":true,"sg_event_id":"m3b","sg_message_id":"M3.filter.0"}]');
SET mailstatus.count_machine_opens = on;
SELECT stored FROM ingest_sendgrid_event('[{"email":"m3@example.com","timestamp":1700000200,"event":"click","sg_event_id":"m3c","sg_message_id":"M3.filter.0"}]');
RESET mailstatus.count_machine_opens;
SELECT email, old_status, new_status FROM status_change WHERE message_id = 'M3' ORDER BY id;

-- Custom args that change for a recipient: each value is found, the first (the send's) too.
SELECT record_send('CA1', ARRAY['ca@example.com'], '{"crm_record":"A"}', '2023-11-14 21:00+00');
SELECT stored FROM ingest_sendgrid_event('[{"email":"ca@example.com","timestamp":1700000000,"event":"delivered","sg_event_id":"ca1","sg_message_id":"CA1.filter.0","crm_record":"A"}]'::jsonb);
SELECT stored FROM ingest_sendgrid_event('[{"email":"ca@example.com","timestamp":1700000100,"event":"open","sg_event_id":"ca2","sg_message_id":"CA1.filter.0","crm_record":"B"}]'::jsonb);
SELECT stored FROM ingest_sendgrid_event('[{"email":"ca@example.com","timestamp":1700000200,"event":"click","sg_event_id":"ca3","sg_message_id":"CA1.filter.0","crm_record":"B"}]'::jsonb);
SELECT r AS record, (SELECT string_agg(f.message_id || ' ' || f.status, ', ') FROM recipient_status_for(jsonb_build_object('crm_record', r)) f) AS found
  FROM unnest(ARRAY['A', 'B', 'C']) AS r;
SELECT count(*) AS differences FROM state_differences();

-- Forgetting a recipient (the owner's decision): its state, sends and custom args go; the
-- day's figures, its suppressions and the roll-up's other rows stay; the check skips what
-- was forgotten.
SELECT record_send('F1', ARRAY['old@example.com'], '{"record_id":"REC-F"}', '2023-10-01 00:00+00');
SELECT stored FROM ingest_sendgrid_event('[{"email":"old@example.com","timestamp":1696150000,"event":"bounce","type":"bounce","sg_event_id":"f1","sg_message_id":"F1.filter.0"}]');
SELECT * FROM deliverability_daily ORDER BY day;
SELECT forget_recipients('2023-11-01 00:00+00') AS forgotten;
SELECT message_id, email FROM recipient ORDER BY 1, 2;
SELECT count(*) AS sends_left FROM send WHERE message_id = 'F1';
SELECT count(*) AS custom_args_left FROM recipient_custom_args WHERE message_id = 'F1';
SELECT email, cause FROM suppression ORDER BY 1;
SELECT day, sent, bounced, delivered FROM deliverability_daily ORDER BY day;
SELECT status, recipients FROM status_counts ORDER BY status;
SELECT * FROM state_differences();
SELECT forgotten_before FROM recipient_retention;
-- A late event for a forgotten recipient (issue 19, defect 7). The days up to the cut-off's
-- count it already: there it is rejected with the reason (0.4.0 started the recipient again
-- from it and counted its day twice: 2 bounced on October 1 for one recipient). From the next
-- day on it starts the recipient again; that recipient's state then holds nothing of the
-- closed days, and its late events there are rejected too.
SELECT * FROM ingest_sendgrid_event('[{"email":"old@example.com","timestamp":1696150100,"event":"bounce","type":"bounce","sg_event_id":"f2","sg_message_id":"F1.filter.0"}]');
SELECT element ->> 'sg_event_id' AS sg_event_id, reason FROM rejected_event WHERE element ->> 'sg_event_id' = 'f2';
SELECT day, sent, bounced FROM deliverability_daily WHERE day = '2023-10-01';
SELECT * FROM ingest_sendgrid_event('[{"email":"old@example.com","timestamp":1698883200,"event":"open","sg_event_id":"f3","sg_message_id":"F1.filter.0"},
  {"email":"old@example.com","timestamp":1698883199,"event":"click","sg_event_id":"f4","sg_message_id":"F1.filter.0"}]');
SELECT message_id, email, status, first_event_at FROM recipient_status WHERE email = 'old@example.com';
SELECT element ->> 'sg_event_id' AS sg_event_id FROM rejected_event WHERE element ->> 'sg_event_id' LIKE 'f%' ORDER BY 1;
-- A send recorded on a closed day is rejected alone, by the same rule.
SELECT record_send('F2', ARRAY['old@example.com', 'new@example.com'], '{}', '2023-10-02 00:00+00') AS recorded;
SELECT element, reason FROM rejected_event WHERE element ? 'record_send' ORDER BY id;
-- The element is the send as the call gave it: the same call again is kept once, another send
-- of the address (another time, custom args) is an element of its own.
SELECT record_send('F2', ARRAY['old@example.com'], '{}', '2023-10-02 00:00+00') AS recorded_again,
       record_send('F2', ARRAY['old@example.com'], '{"job": 1}', '2023-10-03 00:00+00') AS another_send;
SELECT element FROM rejected_event WHERE element ? 'record_send' ORDER BY id;
SELECT * FROM state_differences();

-- The cut-off falls within a day: a recipient forgotten before it on that day, and an event
-- for it later that same day, which is closed too (0.4.0 counted the day twice).
SELECT stored FROM ingest_sendgrid_event('[{"email":"noon@example.com","timestamp":1700470800,"event":"delivered","sg_event_id":"n1","sg_message_id":"N1.filter.0"}]');
SELECT forget_recipients('2023-11-20 12:00+00') AS forgotten;
SELECT * FROM ingest_sendgrid_event('[{"email":"noon@example.com","timestamp":1700485200,"event":"delivered","sg_event_id":"n2","sg_message_id":"N1.filter.0"}]');
SELECT day, delivered FROM deliverability_daily WHERE day = '2023-11-20';
SELECT * FROM state_differences();

-- The exact cut-off: a recipient whose last event is at it stays, one a microsecond before it
-- goes; a recipient without a status (a resubscribe only) goes too, and leaves the roll-up.
SELECT stored FROM ingest_sendgrid_event('[
  {"email":"kept@example.com","timestamp":1701000000,"event":"delivered","sg_event_id":"x1","sg_message_id":"X1.filter.0"},
  {"email":"gone@example.com","timestamp":"1700999999.999999","event":"delivered","sg_event_id":"x2","sg_message_id":"X1.filter.0"},
  {"email":"nostatus@example.com","timestamp":1700990000,"event":"group_resubscribe","asm_group_id":4,"sg_event_id":"x3","sg_message_id":"X1.filter.0"}]');
SELECT machine_opens_counted, status, recipients FROM recipient_count_by_status WHERE recipients <> 0 ORDER BY 1, 2;
SELECT forget_recipients('2023-11-26 12:00:00+00') AS forgotten;
SELECT message_id, email, status FROM recipient_status ORDER BY 1, 2;
SELECT machine_opens_counted, status, recipients FROM recipient_count_by_status WHERE recipients <> 0 ORDER BY 1, 2;
SELECT * FROM state_differences();
-- A message's custom args go with its last recipient forgotten, and do not come back with a
-- recipient of it seen later: the check does not ask for them.
SELECT stored FROM ingest_sendgrid_event('[{"email":"first@example.com","timestamp":1701100000,"event":"delivered","sg_event_id":"y1","sg_message_id":"Y1.filter.0","job":"J-1"}]');
SELECT forget_recipients('2023-11-28 00:00:00+00') AS forgotten;
SELECT stored FROM ingest_sendgrid_event('[{"email":"second@example.com","timestamp":1701300000,"event":"delivered","sg_event_id":"y2","sg_message_id":"Y1.filter.0","job":"J-2"}]');
SELECT message_id, custom_args FROM recipient_custom_args WHERE message_id = 'Y1' ORDER BY 2;
SELECT * FROM state_differences();

-- Forgetting status changes workers have read.
SELECT forget_status_changes(now() + interval '1 second') AS forgotten;
SELECT count(*) AS changes_left FROM status_change;
-- The suites after this one start with nothing forgotten.
TRUNCATE recipient_retention;
