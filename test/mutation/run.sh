#!/usr/bin/env bash
# Mutation testing: each test/mutation/*.patch plants one plausible bug; for each, a copy of
# the sources with the patch applied is built and installed, and the pg_regress and isolation
# suites run against it. Every planted bug must be caught (some test fails); a bug that
# survives is a missing test.
#   test/mutation/run.sh [NAME...]     (make mutation)
# Not part of `make test`: it builds and runs the suites once per patch (~2 minutes each).
# The mutants go into a private copy of the machine's PostgreSQL (its binaries are
# relocatable), never into the machine's own: nothing else sees them, no root is needed
# (as root, the suites run as the postgres user).
# Every suite runs, the upgrade tests too: the update script of the unreleased version is
# generated from the same parts (tools/generate_update.py), so a planted bug reaches both the
# fresh install and the update, and a bug planted in an update script is caught by them.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
major=${PG_MAJOR:-15}
as_server_user() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# The suites' lists, as the Makefile has them.
make_variable() { printf 'print:\n\t@echo $(%s)\n' "$1" | make -s --no-print-directory -C "$src" -f Makefile -f - print; }
regress=$(make_variable REGRESS)
isolation=$(make_variable ISOLATION)

work=$(mktemp -d /tmp/mailstatus-mutation-XXXXXX)
trap '[ -n "${KEEP_WORKDIR:-}" ] || rm -rf "$work"' EXIT
echo "== a private copy of PostgreSQL $major in $work/pg"
mkdir -p "$work/pg/usr/lib/postgresql" "$work/pg/usr/share/postgresql" "$work/pg/usr/include"
cp -a "/usr/lib/postgresql/$major" "$work/pg/usr/lib/postgresql/"
cp -a "/usr/share/postgresql/$major" "$work/pg/usr/share/postgresql/"
cp -a /usr/include/postgresql "$work/pg/usr/include/"
export PG_CONFIG=$work/pg/usr/lib/postgresql/$major/bin/pg_config
[ "$(id -u)" = 0 ] && chown -R postgres "$work"

patches=()
if [ $# -gt 0 ]; then
  for name in "$@"; do patches+=("$here/$name.patch"); done
else
  patches=("$here"/*.patch)
fi

survived=0
for patch in "${patches[@]}"; do
  name=$(basename "$patch" .patch)
  tree=$work/$name
  mkdir -p "$tree"
  (cd "$src" && tar --exclude=./.git --exclude=./build --exclude='*.o' --exclude='*.bc' --exclude='*.so' \
     --exclude=./results --exclude=./tmp_check --exclude=./tmp_check_iso --exclude=./output_iso -cf - .) | tar -C "$tree" -xf -
  # No fuzz: a patch whose context moved would plant its bug elsewhere, or not at all.
  if ! patch -s -F0 -p1 -d "$tree" <"$patch"; then
    echo "mutant $name ... does not apply: update the patch"; survived=$((survived + 1)); continue
  fi
  [ "$(id -u)" = 0 ] && chown -R postgres "$tree"
  if ! as_server_user make -C "$tree" -s PG_CONFIG="$PG_CONFIG" >"$tree/build.log" 2>&1 ||
     ! as_server_user make -C "$tree" -s install PG_CONFIG="$PG_CONFIG" >>"$tree/build.log" 2>&1; then
    echo "mutant $name ... does not build:"; tail -5 "$tree/build.log"; survived=$((survived + 1)); continue
  fi
  as_server_user make -C "$tree" -s installcheck PG_CONFIG="$PG_CONFIG" REGRESS="$regress" ISOLATION="$isolation" TAP_TESTS= \
    >"$tree/tests.log" 2>&1 || true
  # (No failing test is the survivor's case, not an error of this script: grep finds nothing.)
  caught=$( { grep -E '\.\.\. *FAILED|^not ok' "$tree/tests.log" || true; } | sed -E 's/^(test|not ok [0-9]+ +-) +([a-z0-9_]+).*/\2/' | tr '\n' ' ')
  if [ -n "$caught" ]; then
    echo "mutant $name ... caught by: $caught"
  else
    echo "mutant $name ... SURVIVED ($(sed -n 1p "$patch"))"
    survived=$((survived + 1))
  fi
done
echo "${#patches[@]} planted bugs, $((${#patches[@]} - survived)) caught, $survived survived"
[ "$survived" = 0 ]
