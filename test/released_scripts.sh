#!/usr/bin/env bash
# A released install or upgrade script never changes: a database made with it must stay what
# every later update script expects. Checks the scripts against sql/released.sha256:
#   - each listed script's checksum is its release's (or its recorded amendment's);
#   - every script of a released version is listed (a release adds its lines) and ships (DATA);
#   - CHANGELOG.md names each release's commit;
#   - where the git history is there: each release commit holds the scripts with the listed
#     checksums, a tag vVERSION (where there is one) is that commit, and each amendment's last
#     commit holds the script as it is now.
#   test/released_scripts.sh [SOURCE_DIR]
# Prints the problems, then one line "test released_scripts ... ok" or "... FAILED".
set -uo pipefail

src=$(cd "${1:-$(dirname "$0")/..}" && pwd)
manifest=$src/sql/released.sha256
problems=0
problem() { echo "released_scripts: $*"; problems=$((problems + 1)); }
sha() { sha256sum | cut -d' ' -f1; }

declare -A released_sha=() path_at_release=() release_of=() amended_sha=() amended_by=() commit_of=()
versions=()
release=
while read -r first second third rest; do
  case "$first" in
    ''|'#'*) ;;
    release) release=$second; versions+=("$second"); commit_of[$second]=$third ;;
    amended) amended_sha[$second]=$third; amended_by[$second]=$rest ;;
    *)
      [ -n "$release" ] || { problem "$manifest: a checksum before any release line"; continue; }
      released_sha[$second]=$first; release_of[$second]=$release; path_at_release[$second]=${third:-$second} ;;
  esac
done <"$manifest"
[ ${#versions[@]} -gt 0 ] || problem "$manifest lists no release"

# 1. Each listed script as released, or as its amendment left it.
for path in "${!released_sha[@]}"; do
  if [ ! -f "$src/$path" ]; then problem "$path (released in ${release_of[$path]}) is missing"; continue; fi
  now=$(sha <"$src/$path")
  want=${amended_sha[$path]:-${released_sha[$path]}}
  if [ "$now" != "$want" ]; then
    problem "$path changed since ${release_of[$path]} was released (sha256 $want, now $now): a released script never" \
            "changes; put the change into the next version's update script"
  fi
done
for path in "${!amended_sha[@]}"; do
  [ -n "${released_sha[$path]:-}" ] || problem "$manifest: amended $path, which no release lists"
done

# 2. Every script of a released version is listed, and every listed one ships.
is_released() { local v; for v in "${versions[@]}"; do [ "$v" = "$1" ] && return 0; done; return 1; }
for file in "$src"/sql/mailstatus--*.sql; do
  path=sql/$(basename "$file")
  target=${path%.sql}; target=${target##*--}
  if is_released "$target" && [ -z "${released_sha[$path]:-}" ]; then
    problem "$path makes version $target, released, but $manifest does not list it"
  fi
done
data=$(printf 'released-scripts-print-data:\n\t@echo $(DATA)\n' |
       make -s --no-print-directory -C "$src" -f Makefile -f - released-scripts-print-data PG_CONFIG=/nonexistent 2>/dev/null |
       sed "s/\$(EXTENSION)/mailstatus/g")
for path in "${!released_sha[@]}"; do
  case " $data " in *" $path "*) ;; *) problem "$path is not in the Makefile's DATA: it would not ship" ;; esac
done

# 3. The changelog names each release's commit.
for v in "${versions[@]}"; do
  grep -E "^## $v " "$src/CHANGELOG.md" | grep -q "${commit_of[$v]:0:7}" ||
    problem "CHANGELOG.md's heading of $v does not name its release commit ${commit_of[$v]:0:7}"
done

# 4. The history, where it is there (a clone; not a tarball or a shallow clone).
git=(git -c safe.directory="$src" -C "$src")   # read only, whoever owns the clone
if "${git[@]}" rev-parse --git-dir >/dev/null 2>&1 && [ "$("${git[@]}" rev-parse --is-shallow-repository 2>/dev/null)" = false ]; then
  for v in "${versions[@]}"; do
    commit=${commit_of[$v]}
    if ! "${git[@]}" cat-file -e "$commit^{commit}" 2>/dev/null; then
      problem "the release commit of $v, $commit, is not in the history"; continue
    fi
    tagged=$("${git[@]}" rev-parse -q --verify "refs/tags/v$v^{commit}" 2>/dev/null || true)
    [ -z "$tagged" ] || [ "$tagged" = "$commit" ] || problem "tag v$v is $tagged, not the release commit $commit"
  done
  for path in "${!released_sha[@]}"; do
    commit=${commit_of[${release_of[$path]}]}
    at_release=$("${git[@]}" show "$commit:${path_at_release[$path]}" 2>/dev/null | sha) || true
    [ "$at_release" = "${released_sha[$path]}" ] ||
      problem "$manifest: $path is listed as ${released_sha[$path]}, but release ${release_of[$path]} ($commit) has ${path_at_release[$path]} as $at_release"
  done
  for path in "${!amended_sha[@]}"; do
    last=${amended_by[$path]##* }
    for commit in ${amended_by[$path]}; do
      "${git[@]}" log --format=%H -1 "$commit" -- "$path" 2>/dev/null | grep -qx "$commit" ||
        problem "$manifest: amended $path by $commit, a commit that did not change it"
    done
    [ "$("${git[@]}" show "$last:$path" 2>/dev/null | sha)" = "${amended_sha[$path]}" ] ||
      problem "$manifest: amended $path as ${amended_sha[$path]}, not what its last amending commit $last holds"
  done
else
  echo "== released_scripts: no git history in $src: the release commits were not checked"
fi

if [ "$problems" = 0 ]; then
  echo "test released_scripts             ... ok"
else
  echo "test released_scripts             ... FAILED (the $problems lines above)"
  exit 1
fi
