#!/usr/bin/env bash
# The pg_regress suite with every session in a time zone far from UTC, besides pg_regress'
# own PST8PDT: Pacific/Kiritimati (+14:00) and America/St_Johns (-03:30, -02:30 in summer).
#   test/timezones/run.sh [ZONE...]        (as the postgres user; PG_CONFIG as for make)
# A test that sets timezone = 'UTC' gets the far zone instead (a SET marked as the launcher's:
# a test's own SET of that zone stays its own), and so does one that keeps pg_regress'
# PST8PDT (launcher.sh, through pg_regress --launcher); psql's output is then
# written back in the zone the expected file was made in (normalize.py): a mere difference
# of display passes, a day or time mailstatus computes in the session's zone instead of UTC
# fails. Runs in a copy of the sources, on pg_regress' temp instance (the extension must be
# installed into PG_CONFIG's PostgreSQL, as for make installcheck). Prints pg_regress' lines
# prefixed with the zone's short name, and each zone's regression.diffs when it failed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
zones=("$@")
[ ${#zones[@]} -gt 0 ] || zones=(Pacific/Kiritimati America/St_Johns)
PG_CONFIG=${PG_CONFIG:-pg_config}
make_variable() { printf 'print:\n\t@echo $(%s)\n' "$1" | make -s --no-print-directory -C "$src" -f Makefile -f - print; }
# Every test but pg_partman's two: its months follow the session's zone and its maintenance must
# run in UTC (docs/operations.md), a behaviour of pg_partman's, not of mailstatus. Every other
# test gives its times with their offset; one that sets a far zone itself (state_edges: days
# are UTC days in any zone) keeps it, since only the launcher's own SET is marked as 'UTC'.
regress=$(make_variable REGRESS | tr ' ' '\n' | grep -Evx 'partman|upgrade_partman' | tr '\n' ' ')
work=$(mktemp -d "${TMPDIR:-/tmp}/mailstatus-timezones-XXXXXX")
trap '[ -n "${KEEP_WORKDIR:-}" ] || rm -rf "$work"' EXIT
status=0
for zone in "${zones[@]}"; do
  short=$(basename "$zone" | tr -cd 'A-Za-z0-9' | tr 'A-Z' 'a-z')
  tree=$work/$short
  mkdir -p "$tree"
  (cd "$src" && tar --exclude=./.git --exclude=./build --exclude=./results --exclude=./tmp_check \
     --exclude=./tmp_check_iso --exclude=./output_iso --exclude='*.o' --exclude='*.bc' -cf - .) | tar -C "$tree" -xf -
  echo "== the pg_regress suite with sessions in $zone"
  TEST_ZONE=$zone make -C "$tree" -s installcheck PG_CONFIG="$PG_CONFIG" REGRESS="$regress" ISOLATION= TAP_TESTS= \
    EXTRA_REGRESS_OPTS="--launcher=$here/launcher.sh" >"$tree/tests.log" 2>&1 || status=1
  grep -E '^(ok|not ok) [0-9]+|^test .*\.\.\. ' "$tree/tests.log" | sed "s/^/$short: /"
  grep -Eq '\.\.\. *ok|^ok [0-9]+' "$tree/tests.log" || { cat "$tree/tests.log"; status=1; }
  if [ -f "$tree/regression.diffs" ]; then echo "== $zone: regression.diffs"; cat "$tree/regression.diffs"; fi
done
exit $status
