#!/usr/bin/env bash
# Runs the pg_regress suite against a server running under valgrind (memcheck), as the
# unprivileged user running it (e.g. `runuser -u postgres -- test/valgrind.sh` after
# `make install`). Prints the pg_regress summary and every valgrind error reported outside
# test/valgrind.supp; exits non-zero if there is any. Takes ~10-20 minutes.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
bindir=$(pg_config --bindir)
work=$(mktemp -d /tmp/mailstatus-valgrind-XXXXXX)
cp -r "$src/sql" "$src/test" "$work/"
"$bindir/initdb" -D "$work/data" -A trust --no-sync >/dev/null
valgrind --quiet --trace-children=yes --error-limit=no --num-callers=30 --leak-check=no \
  --suppressions="$src/test/valgrind.supp" --log-file="$work/valgrind.%p.log" \
  "$bindir/postgres" -D "$work/data" -k "$work" -p 5432 -c listen_addresses='' -c fsync=off \
  >"$work/server.log" 2>&1 &
for _ in $(seq 120); do "$bindir/pg_isready" -q -h "$work" -p 5432 && break; sleep 1; done
"$bindir/createdb" -h "$work" -p 5432 contrib_regression
cd "$work"
tests=$(sed -n '/^REGRESS *=/,/^$/p' "$src/Makefile" | sed 's/^REGRESS *=//; s/\\//g; /REGRESS_OPTS/d' | tr -s ' \n' ' ')
status=0
"$(dirname "$(pg_config --pgxs)")/../test/regress/pg_regress" --use-existing --host="$work" --port=5432 \
  --inputdir=test --bindir="$bindir" --dbname=contrib_regression $tests || status=1
"$bindir/pg_ctl" -D "$work/data" -m fast stop >/dev/null
errors=$(cat "$work"/valgrind.*.log | grep -c '^==[0-9]*== [A-Z]' || true)
echo "valgrind errors outside the suppressions: $errors (logs in $work)"
[ "$errors" = 0 ] && [ $status = 0 ]
