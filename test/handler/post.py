#!/usr/bin/env python3
"""POSTs a file's bytes, unchanged, to the webhook handler and prints the HTTP status.

    post.py URL [--body FILE] [--signature SIG] [--timestamp TS] [--chunked] [--get]

Sends what SendGrid sends: Content-Type application/json, the two signature headers when
given, the body as raw bytes (with Content-Length, or Transfer-Encoding: chunked with
--chunked). Prints 000 when the server cannot be reached (used to wait for it to start).
"""
import argparse
import http.client
import sys
import urllib.parse

p = argparse.ArgumentParser()
p.add_argument("url")
p.add_argument("--body", default=None)
p.add_argument("--signature", default=None)
p.add_argument("--timestamp", default=None)
p.add_argument("--chunked", action="store_true")
p.add_argument("--get", action="store_true")
a = p.parse_args()

body = b""
if a.body is not None:
    with open(a.body, "rb") as f:
        body = f.read()

url = urllib.parse.urlsplit(a.url)
conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
try:
    conn.putrequest("GET" if a.get else "POST", url.path)
    conn.putheader("User-Agent", "SendGrid Event API")
    if not a.get:
        conn.putheader("Content-Type", "application/json")
        if a.signature is not None:
            conn.putheader("X-Twilio-Email-Event-Webhook-Signature", a.signature)
        if a.timestamp is not None:
            conn.putheader("X-Twilio-Email-Event-Webhook-Timestamp", a.timestamp)
        if a.chunked:
            conn.putheader("Transfer-Encoding", "chunked")
        else:
            conn.putheader("Content-Length", str(len(body)))
    conn.endheaders()
    if not a.get:
        try:
            if a.chunked:
                for i in range(0, len(body), 4000):
                    piece = body[i:i + 4000]
                    conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
                conn.send(b"0\r\n\r\n")
            else:
                conn.send(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before reading it all (a body over its cap)
    print(conn.getresponse().status)
except (OSError, http.client.HTTPException) as e:
    print("000")
    print(f"post.py: {e!r}", file=sys.stderr)
finally:
    conn.close()
