#!/usr/bin/env bash
# The Debian package, as a PostgreSQL user installs it: builds postgresql-N-mailstatus from
# debian/ with pg_buildext (dpkg-buildpackage) for every PostgreSQL N whose server headers are
# installed, checks that it holds what `make install` installs, installs it with dpkg -i, runs
# the pg_regress and isolation suites against the installed package (make installcheck with
# that PostgreSQL's pg_config, as the postgres user, on a throwaway instance), and removes it
# with dpkg -r.
#   test/package/run.sh              as root: into the machine's PostgreSQL (test/run, CI)
#   test/package/run.sh --root DIR   into DIR (dpkg --root) instead: a copy of the machine's
#                                    PostgreSQL laid out as from / (DIR/usr/lib/postgresql/N,
#                                    DIR/usr/share/postgresql/N), as /work/dev/setup-worktree.sh
#                                    and the mutation runner make; the machine is not touched
# Files of mailstatus that a `make install` left in that PostgreSQL are set aside during the run
# and put back after. Refuses (one line, exit 0) when a postgresql-N-mailstatus is installed
# there already: it would be replaced, then removed.
# Prints "package: test ... ok|FAILED" lines (pg_regress's own, and one per check); exits
# non-zero on any failure.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
root=/
if [ "${1:-}" = --root ]; then root=$(cd "${2:?usage: $0 [--root DIR]}" && pwd); fi
[ "$(id -u)" = 0 ] || { echo "usage: run as root (dpkg -i)" >&2; exit 2; }
dpkg_opts=() query_opts=()
if [ "$root" != / ]; then
  # A dpkg database of the copy's own; the PostgreSQL server it depends on is the copy, which
  # no package there provides.
  mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
  [ -f "$root/var/lib/dpkg/status" ] || : >"$root/var/lib/dpkg/status"
  dpkg_opts=(--root="$root" --force-depends --log="$root/var/lib/dpkg/dpkg.log")
  query_opts=(--root="$root")
fi

failed=0
check() {  # check NAME STATUS [DETAIL]: one result line
  if [ "$2" = 0 ]; then
    printf 'package: test %-28s ... ok\n' "$1"
  else
    printf 'package: test %-28s ... FAILED%s\n' "$1" "${3:+ ($3)}"
    failed=$((failed + 1))
  fi
}
as_server_user() { runuser -u postgres -- "$@"; }

work=$(mktemp -d /tmp/mailstatus-package-XXXXXX)
chmod 755 "$work"   # the suites run as postgres in it
installed=() aside=()
cleanup() {
  local p f
  for p in "${installed[@]}"; do dpkg "${dpkg_opts[@]}" -r "$p" >/dev/null 2>&1 || true; done
  for f in "${aside[@]}"; do [ -e "$f" ] || { mkdir -p "$(dirname "$f")" && mv "$work/aside$f" "$f"; }; done
  [ -n "${KEEP_WORKDIR:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

for p in $(dpkg-query "${query_opts[@]}" -l 'postgresql-*-mailstatus' 2>/dev/null | awk '/^ii/ {print $2}'); do
  echo "== package: not run: $p is installed in $root (the test would replace it, then remove it)"
  exit 0
done

# 1. The build, in a copy of the sources: for every installed postgresql-server-dev-N in
# debian/pgversions.
mkdir "$work/src"
(cd "$src" && tar --exclude=./.git --exclude=./build --exclude=./results --exclude='./tmp_check*' --exclude=./output_iso \
   --exclude='*.o' --exclude='*.so' --exclude='*.bc' --exclude=./regression.diffs --exclude=./regression.out \
   --exclude=./test/fuzz/work -cf - .) | tar -C "$work/src" -xf -
export PG_SUPPORTED_VERSIONS=installed
(cd "$work/src" && pg_buildext updatecontrol)
echo "== package: building $(cd "$work/src" && dpkg-parsechangelog -S Version) for PostgreSQL $(cd "$work/src" && pg_buildext supported-versions | tr '\n' ' ')(dpkg-buildpackage)"
status=0
(cd "$work/src" && dpkg-buildpackage -us -uc -b -j"$(nproc)") >"$work/build.log" 2>&1 || status=$?
[ "$status" = 0 ] || tail -40 "$work/build.log"
check build "$status" "dpkg-buildpackage failed: above"
[ "$status" = 0 ] || exit 1

# The package's version is the extension's (a development version sorts before its release: 0.5.0~dev).
make_variable() { printf 'print:\n\t@echo $(%s)\n' "$1" | make -s --no-print-directory -C "$src" -f Makefile -f - print PG_CONFIG=/nonexistent; }
extversion=$(make_variable EXTVERSION)
version=$(cd "$work/src" && dpkg-parsechangelog -S Version)
status=0; [ "${version%%[~-]*}" = "$extversion" ] || status=1
check version "$status" "debian/changelog has $version, the Makefile $extversion"

scripts=$(make_variable DATA; make_variable DATA_built)
debs=("$work"/postgresql-*-mailstatus_*.deb)
for deb in "${debs[@]}"; do
  package=$(dpkg-deb -f "$deb" Package)
  major=${package#postgresql-}; major=${major%-mailstatus}
  pg_config=$root/usr/lib/postgresql/$major/bin/pg_config
  if [ ! -x "$pg_config" ]; then
    echo "== package: $package built; not installed: no PostgreSQL $major server in $root"
    continue
  fi
  sharedir=$("$pg_config" --sharedir)

  # 2. What it holds: the module, the control file and every install and update script.
  want=$( { echo "./usr/lib/postgresql/$major/lib/mailstatus.so"
            echo "./usr/share/postgresql/$major/extension/mailstatus.control"
            for s in $scripts; do echo "./usr/share/postgresql/$major/extension/${s#sql/}"; done; } | sed "s/\$(EXTENSION)/mailstatus/g" | sort)
  have=$(dpkg-deb -c "$deb" | awk '{print $6}' | grep -E '/lib/mailstatus\.so$|/extension/mailstatus[-.]' | sort)
  missing=$(comm -23 <(echo "$want") <(echo "$have") | tr '\n' ' ')
  extra=$(comm -13 <(echo "$want") <(echo "$have") | tr '\n' ' ')
  status=0; [ -z "$missing$extra" ] || status=1
  check "contents_pg$major" "$status" "missing: ${missing:-none}; not made by make install: ${extra:-none}"

  # 3. Installed with dpkg -i, where make install would have put the files (those of an earlier
  # make install set aside, so that only the package's are there: scripts of another version
  # would otherwise be found too).
  for f in "$sharedir"/extension/mailstatus.control "$sharedir"/extension/mailstatus--*.sql \
           $(dpkg-deb -c "$deb" | awk '/^-/ {print $6}' | sed "s|^\.|${root%/}|"); do
    [ -f "$f" ] || continue
    mkdir -p "$work/aside$(dirname "$f")" && mv "$f" "$work/aside$f" && aside+=("$f")
  done
  status=0
  dpkg "${dpkg_opts[@]}" -i "$deb" >"$work/dpkg.log" 2>&1 || status=$?
  [ "$status" = 0 ] && installed+=("$package") || cat "$work/dpkg.log"
  check "install_pg$major" "$status" "dpkg -i failed: above"
  [ "$status" = 0 ] || continue

  # 4. The suites against the installed package: the sources' tests, nothing built.
  tests=$work/tests-$major
  mkdir "$tests"
  (cd "$src" && tar --exclude=./.git --exclude=./build -cf - Makefile mailstatus.control test) | tar -C "$tests" -xf -
  chown -R postgres "$tests"
  status=0
  (cd "$tests" && unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGSERVICE PGOPTIONS &&
   as_server_user make -s installcheck PG_CONFIG="$pg_config" TAP_TESTS=) >"$work/installcheck.log" 2>&1 || status=$?
  grep -E '^(test|ok|not ok) ' "$work/installcheck.log" | sed 's/^/package: /' || true
  if [ "$status" != 0 ]; then
    grep -Eq '\.\.\. *FAILED|^not ok' "$work/installcheck.log" || tail -20 "$work/installcheck.log"
    cat "$tests"/regression.diffs "$tests"/output_iso/regression.diffs 2>/dev/null || true
    check "installcheck_pg$major" 1 "make installcheck against the installed package failed"
  fi

  # 5. Removed with dpkg -r: nothing of it left.
  status=0
  dpkg "${dpkg_opts[@]}" -r "$package" >"$work/dpkg.log" 2>&1 || status=$?
  if [ "$status" = 0 ]; then installed=(); fi   # one package at a time: this one was the only one
  left=$(echo "$want" | sed "s|^\.|${root%/}|" | while read -r f; do [ ! -e "$f" ] || echo "$f"; done | tr '\n' ' ')
  [ -z "$left" ] || status=1
  check "remove_pg$major" "$status" "dpkg -r, then left: ${left:-nothing}"
done

[ "$failed" = 0 ]
