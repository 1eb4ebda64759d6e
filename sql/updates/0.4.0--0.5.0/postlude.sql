-- Run last, by hand: repairs and backfills of the data the new definitions need.

-- Databases installed with 0.1.0 as released (before faf3bb2) never had rejected_event's identity
-- sequence registered for pg_dump: its position was left out of dumps, and a restored database
-- failed its first batch with a rejected element. Registered again where it is already: no change.
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('mailstatus.rejected_event', 'id')::regclass, '');

-- The counters 0.4.0 corrupted (issue 19, defect 1). When a recipient's first categories
-- came in a later post than its activity, 0.4.0 took that activity away from the day's
-- no-category row as unsigned: each of its flags added 2^32 - 1 instead of taking 1 away, so
-- such a row holds its true count plus a multiple of 2^32. The recipient state is right, and
-- the counters are sums over it: the counters of every day it still holds whole are made
-- again from it. The days up to forget_recipients' cut-off also count the recipients it forgot
-- (the state no longer holds them): there the no-category rows are set to their counts modulo
-- 2^32, which takes off exactly what 0.4.0 added (a count of recipients is far below 2^32).
-- status_count is made again whole (forget_recipients kept it exact). No post changes a
-- counter meanwhile.
LOCK TABLE @extschema@.recipient, @extschema@.deliverability_day, @extschema@.deliverability_category_day,
           @extschema@.status_count IN SHARE ROW EXCLUSIVE MODE;

-- (Days from the one after forget_recipients' cut-off's: made again; days before it: kept.)
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

DELETE FROM @extschema@.status_count;
INSERT INTO @extschema@.status_count
SELECT r.machine_opens_counted, r.status, r.recipients FROM @extschema@.recomputed_status_count r
 ORDER BY r.machine_opens_counted, r.status;
