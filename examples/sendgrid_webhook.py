#!/usr/bin/python3
"""SendGrid Event Webhook endpoint for mailstatus: a complete Flask app.

Every POST is handed to PostgreSQL as it was received, byte for byte, with SendGrid's
two signature headers, in one call; mailstatus checks the signature, parses the body
and stores the batch wholly or not at all.

    # Debian 12: apt-get install python3-flask python3-psycopg python3-psycopg-pool
    PGHOST=... PGDATABASE=... PGUSER=crm_webhook /usr/bin/python3 sendgrid_webhook.py
    # or DATABASE_URL=postgresql://crm_webhook@db.example/crm; HOST/PORT (default
    # 127.0.0.1:8080) set where it listens; POOL_SIZE (5) and POOL_TIMEOUT (10 s) the pool.
    # In production, run it under a WSGI server (Debian's python3-gunicorn):
    #   /usr/bin/python3 -m gunicorn -w 4 -b 127.0.0.1:8080 sendgrid_webhook:app

Debian's packages install Flask and psycopg for Debian's interpreter, /usr/bin/python3 (the
first line names it, so ./sendgrid_webhook.py runs with it too). Another python3 first in
PATH (a virtualenv's, pyenv's, conda's, a python.org build in /usr/local/bin) does not see
them: run /usr/bin/python3, or install flask, psycopg and psycopg_pool with that
interpreter's own pip.

The answers, as SendGrid reads them (it retries any non-2xx answer for up to 24 hours):
    204  stored (a re-posted batch stores nothing twice: that is normal)
    403  SQLSTATE 28000: unsigned, wrongly signed, or stale/replayed
    400  malformed: not UTF-8, not JSON (SQLSTATE class 22), nested too deep (54000)
    413  body over MAX_BODY
    503  anything else (database down, deadlock, timeout): SendGrid retries later
"""
import logging
import os

import psycopg
from flask import Flask, request
from psycopg_pool import ConnectionPool

MAX_BODY = 8 * 1024 * 1024  # SendGrid posts up to ~768 KB; refuse anything far beyond

log = logging.getLogger("sendgrid_webhook")
app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = MAX_BODY  # newer Flask enforces it too; read_body() always does

# An empty conninfo lets libpq take everything from PGHOST, PGPORT, PGDATABASE, PGUSER,
# PGPASSWORD (or ~/.pgpass), PGSSLMODE, ... A request waits at most POOL_TIMEOUT seconds
# for a connection, then gets psycopg_pool.PoolTimeout (an OperationalError): answered 503.
pool = ConnectionPool(os.environ.get("DATABASE_URL", ""), open=True, min_size=1,
                      max_size=int(os.environ.get("POOL_SIZE", "5")),
                      timeout=float(os.environ.get("POOL_TIMEOUT", "10")))


def read_body():
    """The raw request body as bytes, or None when it is longer than MAX_BODY.

    Reads at most MAX_BODY + 1 bytes, so a huge or endless chunked post cannot exhaust
    memory (Flask's get_data() on Debian 12's Werkzeug 2.2 applies no limit to a
    chunked body)."""
    if (request.content_length or 0) > MAX_BODY:
        return None
    body = bytearray()
    while len(body) <= MAX_BODY:
        chunk = request.stream.read(min(64 * 1024, MAX_BODY + 1 - len(body)))
        if not chunk:
            return bytes(body)
        body += chunk
    return None


@app.post("/sendgrid/events")
def sendgrid_events():
    raw = read_body()
    if raw is None:
        return "body too large\n", 413
    # Decode strictly. get_data(as_text=True) would silently replace invalid bytes: the
    # signature would no longer match and altered data would be stored.
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        log.warning("refused a %d-byte body: not valid UTF-8", len(raw))
        return "body is not valid UTF-8\n", 400
    if "\x00" in body:  # PostgreSQL text cannot hold a NUL byte, and JSON never has a raw one
        log.warning("refused a %d-byte body: it holds a NUL byte", len(raw))
        return "body holds a NUL byte\n", 400

    try:
        with pool.connection() as db:  # commits when the block ends without an error
            stored, duplicates, rejected = db.execute(
                "SELECT stored, duplicates, rejected"
                "  FROM mailstatus.ingest_sendgrid_webhook(%s, %s, %s)",
                (body,  # the raw body, exactly as received
                 request.headers.get("X-Twilio-Email-Event-Webhook-Signature"),   # None when absent
                 request.headers.get("X-Twilio-Email-Event-Webhook-Timestamp")),  # -> NULL
            ).fetchone()
    except psycopg.Error as e:
        # Log the SQLSTATE and PostgreSQL's message, never the body.
        state = e.sqlstate or ""
        log.warning("webhook post of %d bytes failed: SQLSTATE %s: %s", len(raw),
                    state or "-", str(e.diag.message_primary or e)[:300])
        if state == "28000":
            return "", 403  # unsigned, wrongly signed, or outside the timestamp window
        if state.startswith("22") or state == "54000":
            return "", 400  # malformed body (or signature header): retrying will not help
        return "", 503      # our trouble: let SendGrid retry later

    log.info("webhook post: %d stored, %d duplicates, %d rejected", stored, duplicates, rejected)
    return "", 204


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app.run(host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "8080")))
