#!/usr/bin/env bash
# Deliverability chart: a month of generated traffic (bench/traffic.sql) ingested, then
# mailstatus.deliverability_daily drawn with gnuplot into OUT (a PNG).
# Runs against the server in PGHOST/PGPORT (test/run chart starts a throwaway one).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$1
data=$(mktemp)
psql -X -q -v ON_ERROR_STOP=1 -d postgres <<SQL
CREATE EXTENSION IF NOT EXISTS mailstatus;
\ir $here/traffic.sql
-- Recipients spread over the 30 days before 2026-11-02.
SELECT bench.generate_traffic(60000, 1, 7919, 1793606400 - 2592000);
DO \$\$ DECLARE b record; BEGIN
  FOR b IN SELECT body FROM bench.batch ORDER BY batch_no, copy LOOP
    PERFORM mailstatus.ingest_sendgrid_event(b.body::jsonb);
  END LOOP;
END \$\$;
SQL
psql -X -q -At -F ' ' -d postgres -c "
  SELECT day, sent, delivered, unique_human_opens, clicks, bounced + blocked + dropped,
         100 * delivery_rate, 100 * bounce_rate
    FROM mailstatus.deliverability_daily WHERE sent > 0 ORDER BY day" > "$data"
gnuplot <<GP
set terminal pngcairo size 1000,520 font 'DejaVu Sans,10'
set output '$out'
set title 'mailstatus.deliverability\_daily: one month of generated SendGrid traffic'
set xdata time
set timefmt '%Y-%m-%d'
set format x '%b %d'
set xtics rotate by -45
set ylabel 'recipients per day'
set y2label 'rate (%)'
set y2range [0:100]
set y2tics
set ytics nomirror
set key outside right top
set grid
plot '$data' using 1:2 with lines lw 2 title 'sent', \
     '' using 1:3 with lines lw 2 title 'delivered', \
     '' using 1:4 with lines lw 2 title 'unique human opens', \
     '' using 1:5 with lines lw 2 title 'clicks', \
     '' using 1:6 with lines lw 2 title 'bounced+blocked+dropped', \
     '' using 1:7 axes x1y2 with lines dt 2 title 'delivery rate %', \
     '' using 1:8 axes x1y2 with lines dt 3 title 'bounce rate %'
GP
rm -f "$data"
echo "wrote $out"
