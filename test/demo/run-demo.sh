#!/usr/bin/env bash
# The demo: a CRM posts three SendGrid webhook batches (one of them twice, as SendGrid
# retries do) to mailstatus, records its own sends, and reads the statuses back: the
# communications tab per record, suppressions, deliverability per tenant, the status-change
# log a worker follows, and monthly partitions, whose retention keeps every status.
# Runs against the server in PGHOST/PGPORT (test/run demo starts a throwaway one).
set -euo pipefail
here=$1
psql_quiet() { psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }

psql_quiet -c "CREATE EXTENSION mailstatus"

echo
echo "== The CRM sends five emails and records each send (X-Message-Id from SendGrid's API answer)"
psql_quiet -At <<'SQL' | awk '{n += $1} END {print n " recipients recorded as Sent"}'
SELECT mailstatus.record_send('gP3tq8UxRZ2mX0vYk1bQhw', ARRAY['maria.lopez@example.com', 'Accounts@Lopez-Holdings.example'],
                              '{"crm_record": "INV-1042", "crm_tenant": "acme-plumbing"}', '2026-11-02 07:59:58+00');
SELECT mailstatus.record_send('Lm7Qw2ErTy9UiOpAsDfGhJ', ARRAY['j.chen@example.org'], '{"crm_record": "QUO-311"}', '2026-11-02 07:59:59+00');
SELECT mailstatus.record_send('Zx8Cv7BnMk6JhGfDsA5pOi', ARRAY['dan@oldmail.example'], '{"crm_record": "JOB-7781"}', '2026-11-02 08:00:00+00');
SELECT mailstatus.record_send('Qa1Ws2Ed3Rf4Tg5Yh6Uj7I', ARRAY['olivia.b@example.net'], '{"crm_record": "JOB-7790"}', '2026-11-02 08:00:01+00');
SELECT mailstatus.record_send('Nw9Ls8Tt7Rr6Ee5Ww4Qq3P', ARRAY['sam@typo-domain.example'], '{"crm_record": "NEWS-2026-11"}', '2026-11-02 08:00:02+00');
SQL

echo "== SendGrid posts its webhook batches (batch 2 twice: a retry)"
for batch in batch-1 batch-2 batch-2 batch-3; do
  printf '%-8s ' "$batch"
  echo "SELECT 'stored ' || stored || ', duplicates ' || duplicates || ', rejected ' || rejected
          FROM mailstatus.ingest_sendgrid_event(:'body'::jsonb)" |
    psql_quiet -At -v body="$(cat "$here/$batch.json")"
done

echo
echo "== The communications tab of each CRM record"
psql_quiet -P pager=off <<'SQL'
SET timezone = 'UTC';
SELECT r.custom_args ->> 'crm_record' AS "Record",
       r.email AS "To",
       r.status_label AS "Status",
       to_char(r.status_at, 'Mon DD HH24:MI') AS "Since",
       concat_ws('; ',
         CASE WHEN r.opens > 0 THEN r.opens || ' open(s)' END,
         CASE WHEN r.machine_opens > 0 THEN r.machine_opens || ' machine open(s), not counted' END,
         CASE WHEN r.clicks > 0 THEN r.clicks || ' click(s)' END,
         CASE WHEN r.reason IS NOT NULL THEN r.smtp_status || ' ' || r.reason END) AS "Detail"
  FROM mailstatus.recipient_status r
 WHERE r.message_id <> ''
 ORDER BY 1, 2;
SQL

echo "== Per message (several recipients roll up to the highest-precedence status)"
psql_quiet -P pager=off <<'SQL'
SELECT message_id, recipients, status_label AS status, delivered, opened, clicked, bounced, dropped, spam_report
  FROM mailstatus.message_status ORDER BY message_id;
SQL

echo "== One CRM record, as the CRM asks for it (by its own id in the custom args)"
psql_quiet -P pager=off -c "SELECT email, status_label, status_at FROM mailstatus.recipient_status_for('{\"crm_record\": \"INV-1042\"}')"

echo "== Events SendGrid sent without a message id still count for the address"
psql_quiet -P pager=off -c "SELECT email, status_label, reason FROM mailstatus.recipient_status WHERE message_id = ''"

echo "== Nothing is lost: what could not be stored, and why"
psql_quiet -P pager=off -c "SELECT reason, element FROM mailstatus.rejected_event"

echo "== Before the next send: addresses not to mail, and why"
psql_quiet -P pager=off -c "SELECT email, cause, reason, suppressed_since FROM mailstatus.suppression ORDER BY email"

echo "== Deliverability per day and CRM tenant (a custom arg)"
psql_quiet -P pager=off -c "SELECT day, value AS crm_tenant, sent, delivered, bounced, dropped, spam_reports, delivery_rate FROM mailstatus.deliverability_daily_by('crm_tenant') ORDER BY day, value"

echo "== The status-change log: each change of a recipient's status, for workers (INV-1042's email)"
psql_quiet -P pager=off <<'SQL'
SET timezone = 'UTC';
SELECT id, email, old_status, new_status, to_char(status_at, 'Mon DD HH24:MI:SS') AS status_at
  FROM mailstatus.status_change WHERE message_id = 'gP3tq8UxRZ2mX0vYk1bQhw' ORDER BY id;
SQL
echo "A worker LISTENs on mailstatus_status_changed; the notification carries only the change's id:"
psql_quiet -P pager=off <<'SQL' | grep -v '^$'
\pset footer off
LISTEN mailstatus_status_changed;
SELECT 'j.chen clicks: stored ' || stored AS "SendGrid posts" FROM mailstatus.ingest_sendgrid_event(
  '{"email": "j.chen@example.org", "timestamp": 1793614200, "event": "click", "url": "https://acme-plumbing.example/q/311",
    "sg_event_id": "cl-9", "sg_message_id": "Lm7Qw2ErTy9UiOpAsDfGhJ.filterdrecv-7bf5c69d5-4nn7r-1-65A9F4D1-97.0",
    "crm_record": "QUO-311", "crm_tenant": "acme-plumbing"}');
SELECT c.id, c.email, c.old_status, c.new_status FROM mailstatus.status_change c
 WHERE c.id = (SELECT max(id) FROM mailstatus.status_change);
SQL

echo
echo "== Retention: events kept in monthly partitions (a scheduled job makes and drops them)"
partitions="SELECT i.inhrelid::regclass AS partition, pg_get_expr(c.relpartbound, c.oid) AS holds,
                   (SELECT count(*) FROM mailstatus.event e WHERE e.tableoid = i.inhrelid) AS events
              FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'mailstatus.event'::regclass ORDER BY 1::text"
psql_quiet -At -c "SELECT mailstatus.create_event_partitions(1) || ' monthly partitions made'"
psql_quiet -P pager=off -c "$partitions"

echo "== Dropping the months before this one: the events go, what the CRM shows stays"
psql_quiet -P pager=off <<'SQL'
SET timezone = 'UTC';
\pset footer off
CREATE TEMP TABLE shown_before AS
SELECT 'status' AS what, (r.message_id, r.email, r.status, r.status_at, r.opens, r.clicks, r.reason, r.custom_args)::text AS row
  FROM mailstatus.recipient_status r
UNION ALL SELECT 'suppression', s::text FROM mailstatus.suppression s
UNION ALL SELECT 'deliverability', d::text FROM mailstatus.deliverability_daily_by('crm_tenant') d
UNION ALL SELECT 'status count', c::text FROM mailstatus.status_counts c;
SELECT mailstatus.drop_event_partitions(date_trunc('month', now())) AS "partitions dropped";
SELECT count(*) AS "events left" FROM mailstatus.event;
CREATE TEMP TABLE shown_after AS
SELECT 'status' AS what, (r.message_id, r.email, r.status, r.status_at, r.opens, r.clicks, r.reason, r.custom_args)::text AS row
  FROM mailstatus.recipient_status r
UNION ALL SELECT 'suppression', s::text FROM mailstatus.suppression s
UNION ALL SELECT 'deliverability', d::text FROM mailstatus.deliverability_daily_by('crm_tenant') d
UNION ALL SELECT 'status count', c::text FROM mailstatus.status_counts c;
SELECT b.what AS "Shown to the CRM", count(*) AS "rows before",
       (SELECT count(*) FROM shown_after a WHERE a.what = b.what) AS "rows after",
       CASE WHEN EXISTS (SELECT row FROM shown_before x WHERE x.what = b.what EXCEPT SELECT row FROM shown_after y WHERE y.what = b.what)
              OR EXISTS (SELECT row FROM shown_after y WHERE y.what = b.what EXCEPT SELECT row FROM shown_before x WHERE x.what = b.what)
            THEN 'CHANGED' ELSE 'unchanged' END AS "after the drop"
  FROM shown_before b GROUP BY b.what ORDER BY 1;
DO $$ BEGIN
  IF EXISTS (SELECT * FROM shown_before EXCEPT SELECT * FROM shown_after)
     OR EXISTS (SELECT * FROM shown_after EXCEPT SELECT * FROM shown_before) THEN
    RAISE EXCEPTION 'retention changed what the CRM shows';
  END IF;
END $$;
SELECT r.custom_args ->> 'crm_record' AS "Record", r.email AS "To", r.status_label AS "Status",
       to_char(r.status_at, 'Mon DD HH24:MI') AS "Since"
  FROM mailstatus.recipient_status r WHERE r.message_id <> '' ORDER BY 1, 2;
SQL
psql_quiet -P pager=off -c "$partitions"
echo "A late event for a dropped month is kept aside, with the reason:"
psql_quiet -P pager=off <<'SQL'
\pset footer off
SELECT stored, duplicates, rejected FROM mailstatus.ingest_sendgrid_event(
  '{"email": "olivia.b@example.net", "timestamp": 1793620000, "event": "open", "sg_event_id": "op-late",
    "sg_message_id": "Qa1Ws2Ed3Rf4Tg5Yh6Uj7I.filterdrecv-7bf5c69d5-4nn7r-1-65A9F4D1-12.0"}');
SELECT reason FROM mailstatus.rejected_event WHERE element ->> 'sg_event_id' = 'op-late';
SQL

echo "== Self-check: state rows that differ from a recomputation over the events still kept"
differing=$(psql_quiet -At -c "SELECT count(*) FROM mailstatus.state_differences()")
echo "$differing (none expected)"
[ "$differing" = 0 ] || { echo "the state differs from its recomputation" >&2; exit 1; }
