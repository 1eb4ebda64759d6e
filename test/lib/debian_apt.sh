# Fetching from Debian's archive without touching the machine's apt state or dpkg database:
# sourced by test/pgversions/setup.sh (a newer suite's server headers) and test/cassert/setup.sh
# (the source package of the machine's PostgreSQL).

# The machine's Debian mirror (the one its own sources name, security archive aside);
# PGVERSIONS_DEBIAN_MIRROR names another.
debian_mirror() {
  local m
  m=$({ cat /etc/apt/sources.list 2>/dev/null; cat /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null; } |
      grep -v '^[[:space:]]*#' | grep -oE '(https?|file)://[^ ]*/debian/?( |$)' | grep -v -- '-security' | head -1 | tr -d ' ' || true)
  echo "${PGVERSIONS_DEBIAN_MIRROR:-${m:-http://deb.debian.org/debian}}"
}

# private_apt DIR SOURCES_LINE: an apt configuration of its own under DIR (sources list, lists,
# cache, an empty status), read after the machine's configuration (its proxy, if any, still
# applies; its hooks are cleared); prints the configuration file's path for apt-get -c.
private_apt() {
  local apt=$1
  rm -rf "$apt"
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/state" "$apt/preferences.d"
  : >"$apt/status"
  echo "$2" >"$apt/sources.list"
  cat >"$apt/apt.conf" <<CONF
Dir::Etc::SourceList "$apt/sources.list";
Dir::Etc::SourceParts "-";
Dir::Etc::Preferences "$apt/preferences";
Dir::Etc::PreferencesParts "$apt/preferences.d";
Dir::State "$apt/state";
Dir::State::Lists "$apt/lists";
Dir::State::status "$apt/status";
Dir::Cache "$apt/cache";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Acquire::Languages "none";
APT::Sandbox::User "root";
#clear APT::Update::Pre-Invoke;
#clear APT::Update::Post-Invoke;
#clear APT::Update::Post-Invoke-Success;
CONF
  [ "$(id -u)" = 0 ] || sed -i '/Sandbox/d' "$apt/apt.conf"
  echo "$apt/apt.conf"
}
