-- Run last, by hand: repairs and backfills of the data the new definitions need.

-- Databases installed with 0.1.0 as released (before faf3bb2) never had rejected_event's identity
-- sequence registered for pg_dump: its position was left out of dumps, and a restored database
-- failed its first batch with a rejected element. Registered again where it is already: no change.
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('mailstatus.rejected_event', 'id')::regclass, '');

-----------------------------------------------------------------------------
-- The counters: one recomputation from the recipient state, which both repairs what 0.4.0
-- corrupted and counts by 0.5.0's rule.
-- * Corruption (issue 19, defect 1): when a recipient's first categories came in a later post
--   than its activity, 0.4.0 took that activity away from the day's no-category row as
--   unsigned: each of its flags added 2^32 - 1 instead of taking 1 away, so such a row holds
--   its true count plus a multiple of 2^32.
-- * The rule: 0.4.0 counted each event on its own day and SendGrid's processed alone as sent;
--   0.5.0 counts a recipient once, on its send day, its send (record_send) included as a
--   hand-off (activity_figures).
-- The recipient state is right, and the counters are sums over it: the counters of every day
-- it still holds whole are made again from it (after each recipient's sends join its
-- activity). The days up to forget_recipients' cut-off also count the recipients it forgot
-- (the state no longer holds them): there the no-category rows are first set to their counts
-- modulo 2^32, which takes off exactly what 0.4.0 added (a count of recipients is far below
-- 2^32), then each kept recipient's 0.4.0 figures are replaced by its 0.5.0 ones; the
-- forgotten keep what 0.4.0 counted. recipient_count_by_status is made again whole (forget_recipients kept
-- it exact). No post changes a counter meanwhile.
-----------------------------------------------------------------------------
LOCK TABLE @extschema@.recipient, @extschema@.deliverability_day, @extschema@.deliverability_category_day,
           @extschema@.recipient_count_by_status IN SHARE ROW EXCLUSIVE MODE;

-- (The days up to forget_recipients' cut-off: the no-category rows repaired.)
UPDATE @extschema@.deliverability_category_day d
   SET sent = d.sent OPERATOR(pg_catalog.%) 4294967296,
       delivered = d.delivered OPERATOR(pg_catalog.%) 4294967296,
       bounced = d.bounced OPERATOR(pg_catalog.%) 4294967296,
       blocked = d.blocked OPERATOR(pg_catalog.%) 4294967296,
       dropped = d.dropped OPERATOR(pg_catalog.%) 4294967296,
       deferred = d.deferred OPERATOR(pg_catalog.%) 4294967296,
       spam_reports = d.spam_reports OPERATOR(pg_catalog.%) 4294967296,
       unique_human_opens = d.unique_human_opens OPERATOR(pg_catalog.%) 4294967296
 WHERE d.day OPERATOR(pg_catalog.<) COALESCE((SELECT (f.forgotten_before AT TIME ZONE 'UTC')::date OPERATOR(pg_catalog.+) 1
                                         FROM @extschema@.recipient_retention f), '-infinity'::date)
   AND d.category IS NULL;

-- Days before forget_recipients' horizon (when it was used) also count recipients forgotten
-- since, whose figures cannot be recomputed: on those days each kept recipient's 0.4.0
-- figures (activity_days of its activity before its sends are added) are taken away and
-- its 0.5.0 figures added; the forgotten keep what 0.4.0 counted.
WITH horizon AS (
    SELECT (h.forgotten_before AT TIME ZONE 'UTC')::date OPERATOR(pg_catalog.+) 1 AS first_full_day
      FROM @extschema@.recipient_retention h
), kept AS (
    SELECT r.activity AS old_activity, r.categories,
           @extschema@.activity_merge(r.activity, @extschema@.activity_add(NULL, 'processed', NULL, false, s.sent_at)) AS new_activity
      FROM @extschema@.recipient r
      LEFT JOIN @extschema@.send s ON s.message_id OPERATOR(pg_catalog.=) r.message_id AND s.email OPERATOR(pg_catalog.=) r.email
), change AS (
    SELECT a.day, -(a.processed::integer) AS sent, -(a.delivered::integer) AS delivered, -(a.bounced::integer) AS bounced,
           -(a.blocked::integer) AS blocked, -(a.dropped::integer) AS dropped, -(a.deferred::integer) AS deferred,
           -(a.spam_reported::integer) AS spam_reports, -(a.opened_by_human::integer) AS unique_human_opens,
           -a.machine_opens AS machine_opens, -a.clicks AS clicks
      FROM kept k, horizon h, @extschema@.activity_days(k.old_activity) AS a
     WHERE a.day OPERATOR(pg_catalog.<) h.first_full_day
    UNION ALL
    SELECT f.day, f.sent, f.delivered, f.bounced, f.blocked, f.dropped, f.deferred, f.spam_reports,
           f.unique_human_opens, f.machine_opens, f.clicks
      FROM kept k, horizon h, @extschema@.activity_figures(k.new_activity) AS f
     WHERE f.day OPERATOR(pg_catalog.<) h.first_full_day
)
SELECT @extschema@.add_deliverability_counts(pg_catalog.array_agg(t.d), NULL)
  FROM (SELECT ROW(c.day, pg_catalog.sum(c.sent)::bigint, pg_catalog.sum(c.delivered)::bigint, pg_catalog.sum(c.bounced)::bigint,
                   pg_catalog.sum(c.blocked)::bigint, pg_catalog.sum(c.dropped)::bigint, pg_catalog.sum(c.deferred)::bigint,
                   pg_catalog.sum(c.spam_reports)::bigint, pg_catalog.sum(c.unique_human_opens)::bigint, pg_catalog.sum(c.machine_opens)::bigint,
                   pg_catalog.sum(c.clicks)::bigint)::@extschema@.deliverability_day AS d
          FROM change c GROUP BY c.day) AS t;

WITH horizon AS (
    SELECT (h.forgotten_before AT TIME ZONE 'UTC')::date OPERATOR(pg_catalog.+) 1 AS first_full_day
      FROM @extschema@.recipient_retention h
), kept AS (
    SELECT r.activity AS old_activity, r.categories,
           @extschema@.activity_merge(r.activity, @extschema@.activity_add(NULL, 'processed', NULL, false, s.sent_at)) AS new_activity
      FROM @extschema@.recipient r
      LEFT JOIN @extschema@.send s ON s.message_id OPERATOR(pg_catalog.=) r.message_id AND s.email OPERATOR(pg_catalog.=) r.email
), change AS (
    SELECT a.day, k.category, -(a.processed::integer) AS sent, -(a.delivered::integer) AS delivered,
           -(a.bounced::integer) AS bounced, -(a.blocked::integer) AS blocked, -(a.dropped::integer) AS dropped,
           -(a.deferred::integer) AS deferred, -(a.spam_reported::integer) AS spam_reports,
           -(a.opened_by_human::integer) AS unique_human_opens, -a.machine_opens AS machine_opens, -a.clicks AS clicks
      FROM (SELECT k.old_activity, c.category FROM kept k,
                   pg_catalog.unnest(COALESCE(k.categories, ARRAY[NULL::text])) AS c(category)) AS k,
           horizon h, @extschema@.activity_days(k.old_activity) AS a
     WHERE a.day OPERATOR(pg_catalog.<) h.first_full_day
    UNION ALL
    SELECT f.day, k.category, f.sent, f.delivered, f.bounced, f.blocked, f.dropped, f.deferred, f.spam_reports,
           f.unique_human_opens, f.machine_opens, f.clicks
      FROM (SELECT k.new_activity, c.category FROM kept k,
                   pg_catalog.unnest(COALESCE(k.categories, ARRAY[NULL::text])) AS c(category)) AS k,
           horizon h, @extschema@.activity_figures(k.new_activity) AS f
     WHERE f.day OPERATOR(pg_catalog.<) h.first_full_day
)
SELECT @extschema@.add_deliverability_counts(NULL, pg_catalog.array_agg(t.d))
  FROM (SELECT ROW(c.day, c.category, pg_catalog.sum(c.sent)::bigint, pg_catalog.sum(c.delivered)::bigint, pg_catalog.sum(c.bounced)::bigint,
                   pg_catalog.sum(c.blocked)::bigint, pg_catalog.sum(c.dropped)::bigint, pg_catalog.sum(c.deferred)::bigint,
                   pg_catalog.sum(c.spam_reports)::bigint, pg_catalog.sum(c.unique_human_opens)::bigint, pg_catalog.sum(c.machine_opens)::bigint,
                   pg_catalog.sum(c.clicks)::bigint)::@extschema@.deliverability_category_day AS d
          FROM change c GROUP BY c.day, c.category) AS t;

-- Each recipient's sends join its activity, as record_send merges them from now on.
UPDATE @extschema@.recipient r
   SET activity = @extschema@.activity_merge(r.activity, @extschema@.activity_add(NULL, 'processed', NULL, false, s.sent_at))
  FROM @extschema@.send s
 WHERE s.message_id OPERATOR(pg_catalog.=) r.message_id AND s.email OPERATOR(pg_catalog.=) r.email;

-- (Days from the one after forget_recipients' cut-off's: made again; days before it: kept, as converted above.)
DELETE FROM @extschema@.deliverability_day d
 WHERE d.day OPERATOR(pg_catalog.>=) COALESCE((SELECT (f.forgotten_before AT TIME ZONE 'UTC')::date OPERATOR(pg_catalog.+) 1
                                         FROM @extschema@.recipient_retention f), '-infinity'::date);
INSERT INTO @extschema@.deliverability_day
SELECT r.* FROM @extschema@.recomputed_deliverability_day r
 WHERE r.day OPERATOR(pg_catalog.>=) COALESCE((SELECT (f.forgotten_before AT TIME ZONE 'UTC')::date OPERATOR(pg_catalog.+) 1
                                         FROM @extschema@.recipient_retention f), '-infinity'::date)
 ORDER BY r.day;

DELETE FROM @extschema@.deliverability_category_day d
 WHERE d.day OPERATOR(pg_catalog.>=) COALESCE((SELECT (f.forgotten_before AT TIME ZONE 'UTC')::date OPERATOR(pg_catalog.+) 1
                                         FROM @extschema@.recipient_retention f), '-infinity'::date);
INSERT INTO @extschema@.deliverability_category_day
SELECT r.* FROM @extschema@.recomputed_deliverability_category_day r
 WHERE r.day OPERATOR(pg_catalog.>=) COALESCE((SELECT (f.forgotten_before AT TIME ZONE 'UTC')::date OPERATOR(pg_catalog.+) 1
                                         FROM @extschema@.recipient_retention f), '-infinity'::date)
 ORDER BY r.day, r.category;
DELETE FROM @extschema@.recipient_count_by_status;
INSERT INTO @extschema@.recipient_count_by_status
SELECT r.machine_opens_counted, r.status, r.recipients FROM @extschema@.recomputed_recipient_count_by_status r
 ORDER BY r.machine_opens_counted, r.status;

-----------------------------------------------------------------------------
-- The deprecated recipient_status_current is recipient_status: whoever may read one may read
-- the other (0.4.0 gave 0.3.0's grants on the table to recipient_status).
-----------------------------------------------------------------------------
DO $$
DECLARE
    grantee text;
BEGIN
    FOR grantee IN
        SELECT CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
                    ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END
          FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
         WHERE c.oid OPERATOR(pg_catalog.=) 'mailstatus.recipient_status'::regclass
           AND a.privilege_type OPERATOR(pg_catalog.=) 'SELECT' AND a.grantee OPERATOR(pg_catalog.<>) c.relowner
    LOOP
        EXECUTE pg_catalog.format('GRANT SELECT ON mailstatus.recipient_status_current TO %s', grantee);
    END LOOP;
END $$;

-----------------------------------------------------------------------------
-- webhook_key's check again, now saying what is wrong with a refused key (the prelude
-- dropped the old one): every stored key passed the old check, which the new one extends.
-----------------------------------------------------------------------------
ALTER TABLE @extschema@.webhook_key
    ADD CONSTRAINT webhook_key_is_p256 CHECK (@extschema@.sendgrid_public_key_checked(public_key));
