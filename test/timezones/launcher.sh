#!/usr/bin/env bash
# pg_regress --launcher for test/timezones/run.sh: runs psql (its command line is "$@", its
# input the test file) with the session's time zone $TEST_ZONE wherever the test meant UTC
# or pg_regress' PST8PDT, and writes psql's output as it would read in the zone the test
# meant (normalize.py), so that only a difference that is not one of display fails.
here=$(cd "$(dirname "$0")" && pwd)
/usr/bin/python3 "$here/normalize.py" --input "$TEST_ZONE" |
  PGTZ=$TEST_ZONE "$@" 2>&1 |
  /usr/bin/python3 "$here/normalize.py" "$TEST_ZONE"
exit "${PIPESTATUS[1]}"
