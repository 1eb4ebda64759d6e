#!/usr/bin/env bash
# Prepares an assert-enabled PostgreSQL 15 (configure --enable-cassert --enable-debug), built
# from Debian's source package postgresql-15 with Debian's patches and build flags, for running
# mailstatus' suites where PostgreSQL checks its own invariants (memory contexts, locks, catalog
# access, buffer pins): a misuse that a production build lets pass fails an Assert there.
#   test/cassert/setup.sh        prints the path of its pg_config
# Nothing is installed into the machine's PostgreSQL, and the machine's apt state is untouched
# (apt-get source runs with a sources list, lists and cache of its own).
# Under build/pg15-cassert/ (PGVERSIONS_BUILD_DIR moves build/ elsewhere):
#   downloads/  the source package as apt-get source fetched it (.dsc, .orig.tar, .debian.tar), kept
#   pg/         the installed toolchain: bin/, lib/postgresql/ (PGXS, with pg_regress,
#               pg_isolation_regress and isolationtester), include/, share/; pg/pg_config
# Built once (~10 minutes on 2 cores): a second run downloads and builds nothing. The source
# comes from the machine's Debian mirror and release (CASSERT_DEBIAN_MIRROR, CASSERT_DEBIAN_SUITE
# name others); rm -rf build/pg15-cassert fetches and builds the newest source again.
# When the archive refuses the source package, says so in one line on stderr and exits 3.
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/test/lib/debian_apt.sh"
major=15
dir=${PGVERSIONS_BUILD_DIR:-$src/build}/pg$major-cassert
jobs=${CASSERT_JOBS:-$(nproc 2>/dev/null || echo 2)}
suite=${CASSERT_DEBIAN_SUITE:-$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")}
mirror=${CASSERT_DEBIAN_MIRROR:-$(debian_mirror)}
# Debian's build flags (dpkg-buildflags, as debian/rules exports them) with the frame pointer
# Debian keeps (less the prefix maps, which name the current directory); assertions and debug
# symbols on.
buildflags() { dpkg-buildflags --get "$1" | sed -E 's/ ?-f(file|debug)-prefix-map=[^ ]*//g'; }
cflags="$(buildflags CFLAGS) -fno-omit-frame-pointer"
configure_flags=(--enable-cassert --enable-debug --with-system-tzdata=/usr/share/zoneinfo
                 --with-libxml --without-readline --without-icu --without-zlib)
want="suite=$suite configure=${configure_flags[*]} cflags=$cflags"

say() { echo "== pg$major-cassert setup: $*" >&2; }

mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9

if [ -f "$dir/pg/.ready" ] && [ "$(head -1 "$dir/pg/.ready")" = "$want" ]; then
  echo "$dir/pg/pg_config"
  exit 0
fi

# 1. The source package, fetched once.
mkdir -p "$dir/downloads"
dsc=$(ls "$dir"/downloads/postgresql-"$major"_*.dsc 2>/dev/null | sort -V | tail -1 || true)
if [ -f "$dir/downloads/suite" ] && [ "$(cat "$dir/downloads/suite")" != "$suite" ]; then dsc=; fi
if [ -z "$dsc" ]; then
  say "fetching Debian's source package postgresql-$major from $mirror $suite (apt-get source)"
  conf=$(private_apt "$dir/apt" "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main")
  rm -rf "$dir/downloads" && mkdir -p "$dir/downloads"
  if ! apt-get -c "$conf" -qq update >"$dir/apt/fetch.log" 2>&1 ||
     ! (cd "$dir/downloads" && apt-get -c "$conf" -qq source --download-only "postgresql-$major") >>"$dir/apt/fetch.log" 2>&1; then
    reason=$(grep -E '^(E|W): ' "$dir/apt/fetch.log" | head -1 | cut -c1-160)
    echo "== PostgreSQL $major assert-enabled: not run: $mirror $suite refused the source package postgresql-$major (${reason:-apt-get source failed})" >&2
    rm -rf "$dir/apt" "$dir/downloads"
    exit 3
  fi
  echo "$suite" >"$dir/downloads/suite"
  rm -rf "$dir/apt"
  dsc=$(ls "$dir"/downloads/postgresql-"$major"_*.dsc | sort -V | tail -1)
fi
deb_version=$(sed -nE 's/^Version: //p' "$dsc" | head -1)

# 2. Unpacked with Debian's patches applied, configured and built out of the way.
say "building PostgreSQL $deb_version with --enable-cassert (once: ~10 minutes on 2 cores)"
rm -rf "$dir/src" "$dir/pg"
dpkg-source -q -x "$dsc" "$dir/src" >"$dir/build.log" 2>&1 || { cat "$dir/build.log" >&2; exit 1; }
rm -f "$dir"/postgresql-"$major"_*.orig.tar.*   # dpkg-source's copy beside the tree
# libdir names "postgresql": Debian's per-version-dirs patch would otherwise send the server's
# modules to /usr/lib/postgresql/15/lib, the machine's own.
(cd "$dir/src" && ./configure --prefix="$dir/pg" --libdir="$dir/pg/lib/postgresql" "${configure_flags[@]}" \
   --with-extra-version=" (Debian $deb_version, cassert)" CFLAGS="$cflags" \
   CPPFLAGS="$(buildflags CPPFLAGS)" LDFLAGS="$(buildflags LDFLAGS)") >>"$dir/build.log" 2>&1 ||
  { tail -30 "$dir/build.log" >&2; exit 1; }
pkglibdir=$(printf 'subdir = .\ntop_builddir = .\ninclude src/Makefile.global\nprint:\n\t@echo $(pkglibdir)\n' |
            make -s --no-print-directory -C "$dir/src" -f - print)
case "$pkglibdir" in
  "$dir/pg/"*) ;;
  *) echo "setup.sh: the build would install its modules into '$pkglibdir', outside $dir/pg" >&2; exit 1 ;;
esac
build() {  # make in DIR of the source tree: build, then install into pg/
  { make -s -j"$jobs" -C "$dir/src/$1" && make -s -C "$dir/src/$1" install; } >>"$dir/build.log" 2>&1 ||
    { tail -30 "$dir/build.log" >&2; exit 1; }
}
build .                     # the server, its client programs, PGXS and pg_regress
build src/test/isolation    # pg_isolation_regress and isolationtester
rm -rf "$dir/src"

version=$("$dir/pg/bin/postgres" --version | sed -E 's/^postgres \(PostgreSQL\) //')
grep -q '^#define USE_ASSERT_CHECKING 1' "$("$dir/pg/bin/pg_config" --includedir-server)/pg_config.h" ||
  { echo "setup.sh: the build has no assertions (USE_ASSERT_CHECKING)" >&2; exit 1; }
ln -s bin/pg_config "$dir/pg/pg_config"
cat >"$dir/pg/VERSIONS" <<EOF
server: PostgreSQL $version, built with --enable-cassert from Debian's source package postgresql-$major $deb_version ($suite)
EOF
printf '%s\nsource=%s\n' "$want" "$deb_version" >"$dir/pg/.ready"
say "ready: PostgreSQL $version"
echo "$dir/pg/pg_config"
