-- The state and the views do not depend on arrival order: permutations and re-posts of the
-- same events, split into batches differently, give the same state (merged with the
-- aggregates' combine functions), the same views, and a state equal to its recomputation.
SET search_path = mailstatus, public;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
\i test/sql/include/helpers.psql
CALL pg_temp.empty_state();

-- 300 events over 20 messages, 3 recipients each, every kind of event, some without sg_event_id.
CREATE TEMP TABLE fixture AS
SELECT g AS n,
       jsonb_strip_nulls(jsonb_build_object(
         'email', 'r' || (g % 3) || '@example.com',
         'timestamp', 1700000000 + (g * 37) % 500,
         'event', (ARRAY['processed','deferred','delivered','open','click','bounce','dropped','spamreport','unsubscribe','group_resubscribe'])[1 + (g * 7 + g / 60) % 10],
         'sg_event_id', CASE WHEN g % 17 = 0 THEN NULL ELSE 'evt-' || g END,
         'sg_message_id', 'Msg' || (g % 20) || '.filter' || (g % 3) || '.0',
         'sg_machine_open', CASE WHEN g % 11 = 0 THEN true END,
         'reason', 'reason ' || g,
         'asm_group_id', CASE WHEN g % 10 IN (8, 9) THEN 40 + g % 2 END,
         'category', CASE WHEN g % 4 = 0 THEN to_jsonb('invoice'::text) WHEN g % 4 = 1 THEN '["job", "reminder"]'::jsonb END,
         'record_id', 'REC-' || (g % 20))) AS body
  FROM generate_series(1, 300) g;

CREATE TEMP TABLE snapshot (run text, state text, views text, differences bigint);

-- The state (what merges leave; not what the latest merge added) and every view, as digests.
CREATE FUNCTION pg_temp.state_fingerprint() RETURNS text LANGUAGE sql AS $$
  SELECT md5(concat_ws('/',
    (SELECT string_agg(concat_ws('|', r.message_id, r.email, r.reached, r.reached_human, r.first_event_at, r.last_event_at,
                                 r.opens, r.machine_opens, r.clicks, r.reason, r.smtp_status, r.bounce_classification,
                                 r.custom_args, r.categories, r.activity), ';' ORDER BY r.message_id, r.email) FROM mailstatus.recipient r),
    (SELECT string_agg(s::text, ';' ORDER BY s.email) FROM mailstatus.suppression_state s),
    (SELECT string_agg(g::text, ';' ORDER BY g.email, g.asm_group_id) FROM mailstatus.group_suppression_state g),
    (SELECT string_agg(a::text, ';' ORDER BY a.message_id, a.email, a.args_hash) FROM mailstatus.recipient_custom_args a),
    (SELECT string_agg(d::text, ';' ORDER BY d.day) FROM mailstatus.deliverability_day d),
    (SELECT string_agg(d::text, ';' ORDER BY d.day, d.category) FROM mailstatus.deliverability_category_day d WHERE d.sent + d.delivered + d.bounced + d.blocked + d.dropped + d.deferred + d.spam_reports + d.unique_human_opens + d.machine_opens + d.clicks > 0),
    (SELECT string_agg(c::text, ';' ORDER BY c.machine_opens_counted, c.status) FROM mailstatus.recipient_count_by_status c WHERE c.recipients <> 0))) $$;
CREATE FUNCTION pg_temp.views_fingerprint() RETURNS text LANGUAGE sql AS $$
  SELECT md5(concat_ws('/',
    (SELECT string_agg(r::text, '|' ORDER BY r.message_id, r.email) FROM mailstatus.recipient_status r),
    (SELECT string_agg(m::text, '|' ORDER BY m.message_id) FROM mailstatus.message_status m),
    (SELECT string_agg(s::text, '|' ORDER BY s.email, s.asm_group_id) FROM mailstatus.suppression s),
    (SELECT string_agg(d::text, '|' ORDER BY d.day) FROM mailstatus.deliverability_daily d),
    (SELECT string_agg(d::text, '|' ORDER BY d.day, d.value) FROM mailstatus.deliverability_daily_by('category') d),
    (SELECT string_agg(d::text, '|' ORDER BY d.day, d.value) FROM mailstatus.deliverability_daily_by('record_id') d),
    (SELECT string_agg(c::text, '|' ORDER BY c.status) FROM mailstatus.status_counts c))) $$;

CREATE FUNCTION pg_temp.ingest_in_order(run text, order_sql text, batch_size int) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  batch jsonb;
BEGIN
  CALL pg_temp.empty_state();
  FOR batch IN EXECUTE format(
      'SELECT jsonb_agg(body ORDER BY pos) FROM (SELECT body, row_number() OVER (ORDER BY %s) AS pos FROM fixture) o GROUP BY (pos - 1) / %s ORDER BY (pos - 1) / %s',
      order_sql, batch_size, batch_size)
  LOOP
    PERFORM mailstatus.ingest_sendgrid_event(batch);
  END LOOP;
  INSERT INTO snapshot SELECT run, pg_temp.state_fingerprint(), pg_temp.views_fingerprint(),
                             (SELECT count(*) FROM mailstatus.state_differences());
END $$;

SELECT setseed(0.42);
SELECT pg_temp.ingest_in_order('posted order', 'n', 100);
SELECT pg_temp.ingest_in_order('reversed', 'n DESC', 100);
SELECT pg_temp.ingest_in_order('one batch, by time descending', '(body->>''timestamp'')::bigint DESC, n', 1000);
SELECT pg_temp.ingest_in_order('shuffled, small batches', 'md5(n::text)', 7);
SELECT pg_temp.ingest_in_order('shuffled again', 'md5(n::text || ''x'')', 33);
SELECT pg_temp.ingest_in_order('one event per call', 'md5(n::text || ''y'')', 1);

-- Every run gave the same state and the same views, equal to their recomputation.
SELECT count(DISTINCT state) AS distinct_states, count(DISTINCT views) AS distinct_views,
       sum(differences) AS differences, count(*) AS runs FROM snapshot;

-- Re-posting everything, twice, in yet another order, changes nothing.
SELECT sum(stored) AS stored, sum(duplicates) AS duplicates
  FROM (SELECT (ingest_sendgrid_event(jsonb_agg(body ORDER BY md5(n::text || 'z')))).* FROM fixture
        UNION ALL
        SELECT (ingest_sendgrid_event(jsonb_agg(body ORDER BY n))).* FROM fixture) r;
SELECT pg_temp.state_fingerprint() = (SELECT state FROM snapshot LIMIT 1) AS state_unchanged_after_reposts,
       pg_temp.views_fingerprint() = (SELECT views FROM snapshot LIMIT 1) AS views_unchanged_after_reposts;

-- Sanity: the fixture really has several statuses, events without sg_event_id, and machine opens.
SELECT status, count(*) FROM recipient_status GROUP BY status ORDER BY status;
SELECT count(*) FILTER (WHERE sg_event_id IS NULL) AS hashed_keys,
       count(*) FILTER (WHERE machine_open) AS machine_opens, count(*) AS events FROM event;
SELECT count(*) AS suppressed_addresses FROM suppression;
SELECT count(*) AS category_rows FROM deliverability_daily_by('category');

-- Sends of one recipient recorded in any order give one state: three different sends (times,
-- custom args), one of them recorded twice, around its events, in every order of the calls.
CREATE TEMP TABLE send_call (n int, sent_at timestamptz, args jsonb);
INSERT INTO send_call VALUES (1, '2023-11-14 22:10:00+00', '{"invoice_id": "INV-1"}'),
                             (2, '2023-11-13 09:00:00+00', '{"invoice_id": "INV-1", "retry": "yes"}'),
                             (3, '2023-11-14 22:10:00+00', '{"invoice_id": "INV-2"}'),
                             (4, '2023-11-13 09:00:00+00', '{"invoice_id": "INV-1", "retry": "yes"}');
CREATE TEMP TABLE send_snapshot (calls text, state text, views text, differences bigint, sends bigint);
DO $$
DECLARE
  calls int[];
BEGIN
  FOR calls IN SELECT ARRAY[a, b, c, d] FROM generate_series(1, 4) a, generate_series(1, 4) b, generate_series(1, 4) c, generate_series(1, 4) d
                WHERE a <> b AND a <> c AND a <> d AND b <> c AND b <> d AND c <> d
  LOOP
    CALL pg_temp.empty_state();
    PERFORM mailstatus.ingest_sendgrid_event('[{"email": "sent@example.com", "timestamp": 1699999000, "event": "delivered", "sg_message_id": "Sends1.filter0", "sg_event_id": "d1"}]');
    PERFORM mailstatus.record_send('Sends1', ARRAY['Sent@Example.com'], s.args, s.sent_at)
       FROM unnest(calls) WITH ORDINALITY AS c(n, pos) JOIN send_call s USING (n) ORDER BY c.pos;
    INSERT INTO send_snapshot SELECT calls::text, pg_temp.state_fingerprint(), pg_temp.views_fingerprint(),
                                     (SELECT count(*) FROM mailstatus.state_differences()), (SELECT count(*) FROM mailstatus.send);
  END LOOP;
END $$;
SELECT count(*) AS orders, count(DISTINCT state) AS distinct_states, count(DISTINCT views) AS distinct_views,
       sum(differences) AS differences, min(sends) AS sends_kept, max(sends) AS sends_kept_max FROM send_snapshot;
-- What that state says: sent on the earlier send's day, the custom args of the latest send (ties
-- to the larger), the send day's figures.
SELECT status, first_event_at, last_event_at, custom_args FROM recipient_status WHERE message_id = 'Sends1';
SELECT day, sent, delivered FROM deliverability_daily WHERE sent + delivered > 0 ORDER BY day;
SELECT occurred_at, source, event FROM recipient_events('Sends1', 'sent@example.com');
-- A call without sent_at is the CRM's retry: a recipient recorded already stays as it is.
SELECT record_send('Sends1', ARRAY['sent@example.com'], '{"invoice_id": "INV-3"}') AS recorded_again,
       pg_temp.state_fingerprint() = (SELECT state FROM send_snapshot LIMIT 1) AS state_unchanged;

-- forget_recipients between the posts of one message's recipients: the recipient it forgets
-- takes the custom args it brought, whether the message's other recipients (event or send)
-- arrived before the forget or after it (issue 19, found by the property harness: seed
-- 4187793184). Each order, and its state equal to its recomputation.
CREATE TEMP TABLE forget_snapshot (run text, state text, views text, differences bigint, old_record text, new_record text);
CREATE FUNCTION pg_temp.post_around_forget(run text, others_first boolean) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  CALL pg_temp.empty_state();
  PERFORM mailstatus.ingest_sendgrid_event('[{"email": "old@example.com", "timestamp": 1698800000, "event": "delivered", "sg_event_id": "fo1", "sg_message_id": "Forget1.filter0", "job": "J-old"}]');
  IF others_first THEN
    PERFORM mailstatus.ingest_sendgrid_event('[{"email": "new@example.com", "timestamp": 1700400000, "event": "delivered", "sg_event_id": "fo2", "sg_message_id": "Forget1.filter0", "job": "J-new"}]');
    PERFORM mailstatus.record_send('Forget1', ARRAY['sent@example.com'], '{"job": "J-sent"}', '2023-11-19 12:00+00');
  END IF;
  PERFORM mailstatus.forget_recipients('2023-11-10 00:00+00');
  IF NOT others_first THEN
    PERFORM mailstatus.record_send('Forget1', ARRAY['sent@example.com'], '{"job": "J-sent"}', '2023-11-19 12:00+00');
    PERFORM mailstatus.ingest_sendgrid_event('[{"email": "new@example.com", "timestamp": 1700400000, "event": "delivered", "sg_event_id": "fo2", "sg_message_id": "Forget1.filter0", "job": "J-new"}]');
  END IF;
  INSERT INTO forget_snapshot
  SELECT run, pg_temp.state_fingerprint(), pg_temp.views_fingerprint(), (SELECT count(*) FROM mailstatus.state_differences()),
         (SELECT string_agg(f.email, ', ' ORDER BY f.email) FROM mailstatus.recipient_status_for('{"job": "J-old"}') f),
         (SELECT string_agg(f.email, ', ' ORDER BY f.email) FROM mailstatus.recipient_status_for('{"job": "J-new"}') f);
END $$;
SELECT pg_temp.post_around_forget('the others before the forget', true);
SELECT pg_temp.post_around_forget('the others after the forget', false);
SELECT count(DISTINCT state) AS distinct_states, count(DISTINCT views) AS distinct_views,
       sum(differences) AS differences, count(*) AS runs FROM forget_snapshot;
SELECT run, old_record, new_record FROM forget_snapshot ORDER BY run;
SELECT message_id, email, custom_args FROM recipient_custom_args ORDER BY 1, 2;

-- An event rejected on a day forget_recipients closed stays rejected when posted again after a
-- later forget_recipients closed more days (issue 19, found by the property harness: seed
-- 1225785626): an event on a closed day is stored only for a recipient whose state holds that
-- day or an earlier one, so it never moves its recipient's first day. late@ is first seen on
-- a closed day (October 3: rejected), then on November 15 and 25; the forget of November 20
-- keeps it; its October 3 event posted again is rejected again, a November 16 one (closed, but
-- after its first day) is stored.
-- And again@, delivered on October 1, forgotten on October 10, seen again on November 15 and
-- 25 and kept by the second forget: its October event stays in the events, forgotten with its
-- former state, and the check does not count it in the state it has now.
CALL pg_temp.empty_state();
SELECT stored FROM ingest_sendgrid_event('[{"email": "again@example.com", "timestamp": 1696118400, "event": "delivered", "sg_event_id": "a1", "sg_message_id": "Again1.filter0"}]');
SELECT forget_recipients('2023-10-10 00:00+00') AS forgotten;
SELECT stored FROM ingest_sendgrid_event('[
  {"email": "again@example.com", "timestamp": 1700006400, "event": "delivered", "sg_event_id": "a2", "sg_message_id": "Again1.filter0"},
  {"email": "again@example.com", "timestamp": 1700870400, "event": "open", "sg_event_id": "a3", "sg_message_id": "Again1.filter0"}]');
SELECT stored, rejected FROM ingest_sendgrid_event('[
  {"email": "late@example.com", "timestamp": 1696291200, "event": "delivered", "sg_event_id": "l1", "sg_message_id": "Late1.filter0"},
  {"email": "late@example.com", "timestamp": 1700006400, "event": "delivered", "sg_event_id": "l2", "sg_message_id": "Late1.filter0"},
  {"email": "late@example.com", "timestamp": 1700870400, "event": "open", "sg_event_id": "l3", "sg_message_id": "Late1.filter0"}]');
SELECT forget_recipients('2023-11-20 00:00+00') AS forgotten;
SELECT stored, rejected FROM ingest_sendgrid_event('[
  {"email": "late@example.com", "timestamp": 1696291200, "event": "delivered", "sg_event_id": "l1", "sg_message_id": "Late1.filter0"},
  {"email": "late@example.com", "timestamp": 1700092800, "event": "click", "sg_event_id": "l4", "sg_message_id": "Late1.filter0"}]');
SELECT record_send('Late1', ARRAY['late@example.com'], '{}', '2023-10-03 00:00+00') AS recorded;
SELECT message_id, email, status, first_event_at FROM recipient_status ORDER BY 1;
SELECT element ->> 'sg_event_id' AS sg_event_id, reason FROM rejected_event ORDER BY 1;
SELECT * FROM state_differences();
