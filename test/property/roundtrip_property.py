"""The round-trip property: whatever JSON shape each field of a posted event takes, the
event is given back as posted (event_payload(e) equals the element), or the element is kept
in rejected_event as posted, on both entry points.

Equality: the jsonb path posts jsonb, so "as posted" is jsonb equality with the element.
The raw-body path is compared with the element's text as posted, parsed as jsonb (key order,
white space, escapes and number spellings such as 1E+2 are not kept by jsonb, on either
path). Where jsonb cannot hold the element at all:
  - a number beyond numeric's range (1e1000000): the raw path rejects that element alone and
    keeps its text, byte for byte, as a JSON string in rejected_event.element; the jsonb path
    cannot be called with it (the cast fails with 22003 before mailstatus runs);
  - \\u0000 in any string: both paths refuse the whole body with SQLSTATE 22P05 and store
    nothing (the raw path as jsonb's own cast does);
  - a lone surrogate escape: both refuse the whole body with 22P02, and store nothing.

Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE.
"""
import psycopg
from hypothesis import strategies as st

import jsontext
from jsontext import Pairs, RawNumber
from state_property import HarnessFailure

# Characters at the edges of JSON's and UTF-8's ranges, and what needs escaping.
EDGE_CHARACTERS = ["\x01", "\x1f", " ", "\x7f", "\x80", "\u07ff", "\u0800", "\ud7ff", "\ue000", "\uffff",
                   "\U00010000", "\U0001f600", "\U0010ffff", '"', "\\", "/", "\n", "\t", "\b", "\f", "\r",
                   "\u00e9", "\u200b", "\u00a0", "\ufeff", "A", "z", "0"]
NUMBER_FORMS = ["0", "-0", "7", "-7", "0.0", "1.0", "1.50", "-1.5e-3", "1e2", "1E+2", "2.5E-10",
                "1e400", "123456789012345678901234567890", "-99999999999999999999", "2147483647",
                "2147483648", "-2147483649", "9223372036854775808", "0.000001", "1700000000", "1700000000000",
                "1e1000000"]
SENDGRID_KEYS = ["asm_group_id", "attempt", "bounce_classification", "category", "cert_err", "ip",
                 "marketing_campaign_id", "mc_stats", "newsletter", "pool", "reason", "response", "send_at",
                 "sg_content_type", "sg_event_id", "sg_machine_open", "sg_message_id", "sg_template_id",
                 "smtp-id", "status", "tls", "type", "url", "url_offset", "useragent"]
CUSTOM_KEYS = ["crm_record", "Branch", "k\u00e9y", "\U0001f600", "with space", "emp\ty", "a/b", ""]


def edge_strings():
    return st.lists(st.sampled_from(EDGE_CHARACTERS) | st.characters(blacklist_categories=("Cs",)),
                    max_size=6).map("".join)


def json_values(depth=2):
    scalars = (st.none() | st.booleans() | st.sampled_from(NUMBER_FORMS).map(RawNumber)
               | st.integers(-2 ** 70, 2 ** 70) | edge_strings())
    if depth == 0:
        return scalars
    return scalars | st.lists(json_values(depth - 1), max_size=3) | st.dictionaries(
        edge_strings(), json_values(depth - 1), max_size=3)


def timestamp_values():
    return st.sampled_from([1700000000, "1700000000", "0001700000000", RawNumber("1.7e9"), RawNumber("1700000000.250"),
                            1700000000123, "1700000000123", RawNumber("1700000000.0")]) | json_values(0)


@st.composite
def elements(draw, k):
    """One element: the required fields (usually valid), then any of SendGrid's fields and
    custom args with any JSON value; sometimes a key twice."""
    pairs = [("email", draw(st.sampled_from(["ann@example.com", " Ann@Example.COM ", "b\u00e9@example.com",
                                              "x\u200b@example.com"]) | json_values(0))),
             ("event", draw(st.sampled_from(["delivered", "Open", "bounce", "custom_thing"]) | json_values(0))),
             ("timestamp", draw(timestamp_values()))]
    for key in draw(st.lists(st.sampled_from(SENDGRID_KEYS + CUSTOM_KEYS), max_size=6, unique=True)):
        pairs.append((key, draw(json_values())))
    pairs.append(("sg_event_id", "rt-%d-%d" % (k, draw(st.integers(0, 9)))))
    pairs = draw(st.permutations(pairs))
    if draw(st.integers(0, 9)) == 0:
        pairs.append((pairs[0][0], draw(json_values(0))))
    return Pairs(pairs)


@st.composite
def batches(draw):
    n = draw(st.integers(1, 4))
    items = [draw(elements(k)) for k in range(n)]
    style = jsontext.Style(space=draw(st.sampled_from(["", " ", "\n\t"])), escape_non_ascii=draw(st.booleans()),
                           escape_letters=draw(st.booleans()), escape_solidus=draw(st.booleans()))
    return items, style


def contains(value, predicate):
    if isinstance(value, Pairs):
        return any(predicate(k) or contains(v, predicate) for k, v in value.pairs)
    if isinstance(value, dict):
        return any(predicate(k) or contains(v, predicate) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(contains(v, predicate) for v in value)
    return predicate(value)


def has_nul(value):
    return contains(value, lambda v: isinstance(v, str) and "\x00" in v)


def has_lone_surrogate(value):
    return contains(value, lambda v: isinstance(v, str) and any(0xD800 <= ord(c) <= 0xDFFF for c in v))


def beyond_numeric(value):
    return contains(value, lambda v: isinstance(v, RawNumber) and v.text in ("1e1000000",))


def check_batch(conn, items, style, path):
    """Posts the batch on one path; every element comes back as posted, or is rejected as posted."""
    texts = [jsontext.write(item, style) for item in items]
    body = "[" + ("," + style.space).join(texts) + "]"
    # What refuses the whole body (the first such thing in the body decides, when it has several).
    refused = set()
    if any(has_nul(i) for i in items):
        refused.add("22P05")
    if any(has_lone_surrogate(i) for i in items):
        refused.add("22P02")
    if path == "jsonb" and any(beyond_numeric(i) for i in items):
        refused.add("22003")
    before = conn.execute("SELECT (SELECT count(*) FROM mailstatus.event), (SELECT count(*) FROM mailstatus.rejected_event)").fetchone()
    try:
        if path == "jsonb":
            conn.execute("SELECT * FROM mailstatus.ingest_sendgrid_event(%s::jsonb)", (body,))
        else:
            conn.execute("SELECT * FROM mailstatus.ingest_sendgrid_webhook(%s::text)", (body,))
    except psycopg.Error as e:
        if e.sqlstate not in refused:
            raise HarnessFailure("%s path: the body was refused with SQLSTATE %s (%s), expected %s:\n%s"
                                 % (path, e.sqlstate, str(e).strip(), " or ".join(sorted(refused)) or "no error", body))
        after = conn.execute("SELECT (SELECT count(*) FROM mailstatus.event), (SELECT count(*) FROM mailstatus.rejected_event)").fetchone()
        if after != before:
            raise HarnessFailure("%s path: a refused body stored rows: %s -> %s" % (path, before, after))
        return
    if refused:
        raise HarnessFailure("%s path: the body was taken, expected SQLSTATE %s:\n%s" % (path, " or ".join(sorted(refused)), body))
    for item, text in zip(items, texts):
        if beyond_numeric(item):
            row = conn.execute("SELECT count(*) FROM mailstatus.rejected_event r WHERE r.element #>> '{}' = %s", (text,)).fetchone()
            if row[0] != 1:
                raise HarnessFailure("raw path: an element beyond numeric's range is not kept as posted text in "
                                     "rejected_event:\n%s" % text)
            continue
        stored = conn.execute(
            "SELECT mailstatus.event_payload(e) = %s::jsonb, mailstatus.event_payload(e)::text FROM mailstatus.event e "
            "WHERE e.content_hash = mailstatus.content_hash(%s::jsonb)", (text, text)).fetchall()
        rejected = conn.execute(
            "SELECT r.element = %s::jsonb, r.element::text, r.reason FROM mailstatus.rejected_event r "
            "WHERE r.element_key = mailstatus.content_key(%s::jsonb)", (text, text)).fetchall()
        if not stored and not rejected:
            raise HarnessFailure("%s path: the element was neither stored nor rejected:\n%s" % (path, text))
        for equal, payload in stored:
            if not equal:
                raise HarnessFailure("%s path: event_payload differs from the element as posted:\n posted:  %s\n"
                                     " payload: %s\n as jsonb: %s" % (path, text, payload,
                                                                      conn.execute("SELECT %s::jsonb::text", (text,)).fetchone()[0]))
        for equal, element, reason in rejected:
            if not equal:
                raise HarnessFailure("%s path: the rejected element (%s) is not kept as posted:\n posted: %s\n kept:   %s"
                                     % (path, reason, text, element))
