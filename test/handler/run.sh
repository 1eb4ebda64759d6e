#!/usr/bin/env bash
# The example webhook handler (examples/sendgrid_webhook.py) as a real HTTP server, against
# the server in PGHOST/PGPORT/PGUSER (the mailstatus extension installed there): real POSTs
# (test/handler/post.py), signed at test time with openssl, and the rows they leave.
# Prints one TAP line per assertion; exits non-zero if any failed.
#   runuser -u postgres -- env PGHOST=/tmp/sock PGPORT=5432 test/handler/run.sh
# Needs: python3-flask python3-psycopg python3-psycopg-pool openssl (Debian 12).
# Creates and drops the database handler_test (KEEP_DB=1 keeps it).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
py=${PYTHON:-/usr/bin/python3}              # Debian's python3, with Debian's Flask and psycopg
handler=${HANDLER:-$src/examples/sendgrid_webhook.py}   # HANDLER=...: another version (executable), to test the test
signing_key=$src/test/webhook/test-signing-key.pem
public_key=$(cat "$src/test/webhook/test-public-key.b64")
db=handler_test
export PGUSER=${PGUSER:-postgres}
unset PGDATABASE DATABASE_URL

work=$(mktemp -d "${TMPDIR:-/tmp}/mailstatus-handler-XXXXXX")
cd "$work" || exit 1   # psql and python need a working directory the postgres user can read
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  [ -n "${KEEP_DB:-}" ] || psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
  cd / && rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# --- TAP ------------------------------------------------------------------------------
n=0 failed=0
check() {  # check DESCRIPTION GOT EXPECTED
  n=$((n + 1))
  if [ "$2" = "$3" ]; then
    echo "ok $n - $1"
  else
    failed=$((failed + 1))
    echo "not ok $n - $1"
    echo "#   got:      '$2'"
    echo "#   expected: '$3'"
  fi
}
bail() { echo "Bail out! $*"; [ -f "$work/server.log" ] && sed 's/^/# /' "$work/server.log"; exit 1; }
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }
events_total() { q "SELECT count(*) FROM mailstatus.event"; }
rejects_total() { q "SELECT count(*) FROM mailstatus.rejected_event"; }
# The stored events of one recipient, "email:event" in order (only these two columns are checked).
events_of() { q "SELECT coalesce(string_agg(email || ':' || event, ' ' ORDER BY event), '') FROM mailstatus.event WHERE email = '$1'"; }

# --- SendGrid bodies ------------------------------------------------------------------
now=$(date +%s)
# event EMAIL EVENT ID MESSAGE [SECONDS_AGO]: one event as SendGrid writes it, with a custom arg (crm_record).
event() {
  local id
  id=$(printf 'handler-test-%s' "$3" | base64 -w0 | tr -d '=' | tr '+/' '-_')
  printf '{"email":"%s","timestamp":%d,"smtp-id":"<%s@ismtpd0001p1lon1.sendgrid.net>","event":"%s","category":["invoice"],"sg_event_id":"%s","sg_message_id":"%s.filterdrecv-5645d9c87f-2xgl9-1-6480-2.0","crm_record":"INV-%s"}' \
    "$1" "$((now - ${5:-60}))" "$4" "$2" "$id" "$4" "${3%%-*}"
}
# batch FILE EVENT...: the events framed as SendGrid frames them: [\r\n{..},\r\n{..}\r\n]\r\n
batch() {
  local file=$1 sep=''; shift
  { printf '[\r\n'; for e in "$@"; do printf '%s%s' "$sep" "$e"; sep=$',\r\n'; done; printf '\r\n]\r\n'; } >"$file"
}
# sign FILE TIMESTAMP: SendGrid's signature, base64 DER ECDSA P-256/SHA-256 over timestamp || body.
sign() { (printf '%s' "$2"; cat "$1") | openssl dgst -sha256 -sign "$signing_key" | base64 -w0; }

# post FILE [--signed SECONDS_AGO] [--chunked]: POSTs the file (signed, its timestamp that many seconds old), prints the HTTP status.
post() {
  local file=$1 args=(); shift
  if [ "${1:-}" = --signed ]; then
    local ts=$(( $(date +%s) - ${2:-0} ))
    args+=(--signature "$(sign "$file" "$ts")" --timestamp "$ts"); shift 2
  fi
  "$py" "$here/post.py" "$url" --body "$file" "${args[@]}" "$@"
}

# --- the database and the handler -------------------------------------------------------
psql -X -q -v ON_ERROR_STOP=1 -d postgres \
  -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" \
  -c "CREATE DATABASE $db TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'" >/dev/null || bail "cannot create database $db"
q "CREATE EXTENSION mailstatus" >/dev/null || bail "CREATE EXTENSION mailstatus failed"

# A python3 first in PATH that is not Debian's (a virtualenv's, pyenv's), without Flask: the
# handler runs by its first line, Debian's /usr/bin/python3, whatever PATH says.
mkdir -p "$work/other-python"
printf '#!/bin/sh\necho "not Debian'"'"'s python3: no Flask here" >&2\nexit 1\n' >"$work/other-python/python3"
chmod +x "$work/other-python/python3"

# start_handler LOG [VAR=VALUE...]: starts the handler (as ./sendgrid_webhook.py: by its first
# line) on a free port in the background, with the environment given; sets url and server_pid
# once it answers.
start_handler() {
  local log=$1 port; shift
  port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  url=http://127.0.0.1:$port/sendgrid/events
  env PATH="$work/other-python:$PATH" PGDATABASE=$db HOST=127.0.0.1 PORT="$port" "$@" "$handler" >"$log" 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
  for _ in $(seq 100); do
    kill -0 "$server_pid" 2>/dev/null || bail "the handler exited"
    [ "$("$py" "$here/post.py" "$url" --get 2>/dev/null)" = 405 ] && break   # up: GET is not allowed
    sleep 0.2
  done
  [ "$("$py" "$here/post.py" "$url" --get 2>/dev/null)" = 405 ] || bail "the handler does not answer on $url"
  echo "# handler listening on $url"
}
start_handler "$work/server.log"
check "the handler runs by its first line, Debian's python3, with another python3 first in PATH" \
  "$(head -1 "$handler") $(env PATH="$work/other-python:$PATH" python3 -c 1 2>/dev/null; echo $?)" "#!/usr/bin/python3 1"

# 1. Unsigned while no key is configured: taken.
batch "$work/1.json" "$(event ann@lopez-holdings.example processed 1-1 gP3tq8UxRZ2mX0vYk1bQhw 120)" \
                     "$(event ann@lopez-holdings.example delivered 1-2 gP3tq8UxRZ2mX0vYk1bQhw 110)"
check "unsigned body, no key configured: 204" "$(post "$work/1.json")" 204
check "unsigned body, no key configured: both events stored" \
  "$(events_of ann@lopez-holdings.example)" "ann@lopez-holdings.example:delivered ann@lopez-holdings.example:processed"

# 2. A key configured; a body signed now: taken.
q "INSERT INTO mailstatus.webhook_key (public_key, label) VALUES ('$public_key', 'handler test')" >/dev/null
check "key configured" "$(q "SELECT count(*) FROM mailstatus.webhook_key WHERE active")" 1
batch "$work/2.json" "$(event bob@chen-builders.example processed 2-1 Kx9bQ2vLTe6yH0pNc3sW1g 90)" \
                     "$(event bob@chen-builders.example delivered 2-2 Kx9bQ2vLTe6yH0pNc3sW1g 80)" \
                     "$(event bob@chen-builders.example open 2-3 Kx9bQ2vLTe6yH0pNc3sW1g 30)"
check "signed body: 204" "$(post "$work/2.json" --signed 0)" 204
check "signed body: its three events stored" "$(events_of bob@chen-builders.example)" \
  "bob@chen-builders.example:delivered bob@chen-builders.example:open bob@chen-builders.example:processed"
check "events stored so far: 5" "$(events_total)" 5

# 3. Wrongly signed: one byte of the body changed after signing.
batch "$work/3.json" "$(event carol@example.org processed 3-1 Rm4tZp8WQ0e2bVn7Hc1xLa 50)" \
                     "$(event carol@example.org delivered 3-2 Rm4tZp8WQ0e2bVn7Hc1xLa 40)"
ts=$(date +%s); sig=$(sign "$work/3.json" "$ts")
printf 'k' | dd of="$work/3.json" bs=1 seek=13 conv=notrunc status=none   # "carol" -> "karol"
check "tampered body (one byte changed after signing): 403" \
  "$("$py" "$here/post.py" "$url" --body "$work/3.json" --signature "$sig" --timestamp "$ts")" 403
check "tampered body: nothing stored" "$(q "SELECT count(*) FROM mailstatus.event WHERE email IN ('carol@example.org', 'karol@example.org')")" 0

# 4. Unsigned while a key is configured.
batch "$work/4.json" "$(event dan@oldmail.example processed 4-1 Vb7nQw2ErT5yU8iO1pAs3d 20)"
check "unsigned body, a key configured: 403" "$(post "$work/4.json")" 403
check "unsigned body, a key configured: nothing stored" "$(events_of dan@oldmail.example)" ""

# 5. Stale: signed with a timestamp 10 minutes old (tolerance: 5 minutes).
batch "$work/5.json" "$(event erin@example.net processed 5-1 Zx3cV6bN9mQ2wE5rT8yU1i 660)"
check "signed 10 minutes ago (stale or replayed): 403" "$(post "$work/5.json" --signed 600)" 403
check "stale body: nothing stored" "$(events_of erin@example.net)" ""

# 6. Malformed: truncated JSON (signed correctly, so it passes the signature check); invalid
#    UTF-8 (signed too); a raw NUL byte.
batch "$work/6.json" "$(event fay@example.com processed 6-1 Pq1wE4rT7yU0iO3pAs6dFg 15)" \
                     "$(event fay@example.com delivered 6-2 Pq1wE4rT7yU0iO3pAs6dFg 10)"
head -c $(( $(stat -c %s "$work/6.json") - 40 )) "$work/6.json" >"$work/6-truncated.json"
check "truncated JSON body, signed: 400" "$(post "$work/6-truncated.json" --signed 0)" 400
batch "$work/6-latin1.json" "$(event "ren$(printf '\xe9')e@example.com" processed 6-3 Pq1wE4rT7yU0iO3pAs6dFg 15)"
check "invalid UTF-8 body (a Latin-1 byte), signed: 400" "$(post "$work/6-latin1.json" --signed 0)" 400
{ printf '[\r\n'; event fay@example.com open 6-4 Pq1wE4rT7yU0iO3pAs6dFg 5; printf '\0\r\n]\r\n'; } >"$work/6-nul.json"
check "body with a raw NUL byte, signed: 400" "$(post "$work/6-nul.json" --signed 0)" 400
check "malformed bodies: nothing stored" "$(q "SELECT count(*) FROM mailstatus.event WHERE email IN ('fay@example.com', 'renée@example.com')")" 0
check "malformed bodies: no reject rows either" "$(rejects_total)" 0

# 7. Retried: body 2 again, re-signed with a fresh timestamp, as SendGrid does on a retry.
sleep 1
check "re-posted batch, re-signed: 204" "$(post "$work/2.json" --signed 0)" 204
check "re-posted batch: its events stored once" "$(q "SELECT count(*) FROM mailstatus.event WHERE email = 'bob@chen-builders.example'")" 3
check "events stored so far: still 5" "$(events_total)" 5

# 8. A batch mixing good events with one bad element (no "email").
batch "$work/8.json" "$(event gus@example.com processed 8-1 Lk8jH5gF2dS9aP6oI3uY0t 25)" \
                     '{"timestamp":'"$((now - 20))"',"event":"open","sg_event_id":"aGFuZGxlci10ZXN0LTgtMg","sg_message_id":"Lk8jH5gF2dS9aP6oI3uY0t.filterdrecv-5645d9c87f-2xgl9-1-6480-2.0","crm_record":"INV-8"}' \
                     "$(event gus@example.com delivered 8-3 Lk8jH5gF2dS9aP6oI3uY0t 15)"
check "batch with one bad element, signed: 204" "$(post "$work/8.json" --signed 0)" 204
check "batch with one bad element: the good events stored" "$(events_of gus@example.com)" \
  "gus@example.com:delivered gus@example.com:processed"
check "batch with one bad element: it is in rejected_event" \
  "$(q "SELECT count(*) || ' ' || string_agg(element ->> 'sg_event_id', ',') FROM mailstatus.rejected_event")" "1 aGFuZGxlci10ZXN0LTgtMg"
check "batch with one bad element, re-posted: 204" "$(post "$work/8.json" --signed 0)" 204
check "re-posted bad element: still one reject row, events stored once" "$(rejects_total) $(events_total)" "1 7"

# 9. The handler reads a chunked body whole, and refuses one over its 8 MB cap.
batch "$work/9.json" "$(event hana@example.jp processed 9-1 Mn2bV5cX8zL1kJ4hG7fD0s 10)" \
                     "$(event hana@example.jp delivered 9-2 Mn2bV5cX8zL1kJ4hG7fD0s 5)"
check "signed body sent chunked: 204" "$(post "$work/9.json" --signed 0 --chunked)" 204
check "chunked body: both events stored" "$(events_of hana@example.jp)" "hana@example.jp:delivered hana@example.jp:processed"
{ printf '[\r\n'; event ivy@example.com processed 9-3 Mn2bV5cX8zL1kJ4hG7fD0s 5; printf ',\r\n"%s"\r\n]\r\n' "$(head -c $((8 * 1024 * 1024)) /dev/zero | tr '\0' x)"; } >"$work/9-large.json"
check "body over 8 MB: 413" "$(post "$work/9-large.json" --signed 0)" 413
check "body over 8 MB, sent chunked: 413" "$(post "$work/9-large.json" --signed 0 --chunked)" 413
check "bodies over 8 MB: nothing stored" "$(events_of ivy@example.com)" ""

# 10. The database unreachable (a handler whose PGPORT has no server): 503, so SendGrid retries.
main_url=$url main_pid=$server_pid
start_handler "$work/server-nodb.log" PGPORT=1 POOL_TIMEOUT=2
check "database unreachable: 503" "$(post "$work/9.json" --signed 0)" 503
kill "$server_pid"; url=$main_url server_pid=$main_pid

# The refused bodies' contents are not in the handler's log.
check "the handler's log does not echo refused bodies" \
  "$(grep -cE 'karol@|dan@oldmail|erin@|fay@|ivy@' "$work/server.log")" 0
kill -0 "$server_pid" 2>/dev/null; check "the handler is still running" $? 0

echo "1..$n"
[ "$failed" = 0 ] || { echo "# $failed of $n failed; the handler's log:"; sed 's/^/#   /' "$work/server.log"; exit 1; }
