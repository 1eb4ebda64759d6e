#!/usr/bin/env bash
# The demo: a CRM posts three SendGrid webhook batches (one of them twice, as SendGrid
# retries do) to mailstatus, records its own sends, and reads the statuses back.
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

echo "== Retention: events kept in monthly partitions (a scheduled job makes and drops them)"
psql_quiet -At -c "SELECT mailstatus.create_event_partitions(1) || ' monthly partitions made'"
psql_quiet -P pager=off -c "SELECT tableoid::regclass AS partition, count(*) AS events FROM mailstatus.event GROUP BY 1 ORDER BY tableoid::regclass::text"
