#!/usr/bin/python3
"""Reads psql's output of a regression test run in a far time zone and writes it as it
would read in the zone its expected file was made in (test/timezones/run.sh).

  normalize.py ZONE < output-in-ZONE > output-as-expected
  normalize.py --input ZONE < test.sql > test-in-ZONE.sql

The launcher ran the test with the session's time zone ZONE where the test meant UTC or
pg_regress' PST8PDT; psql echoes the test's statements (-a), so the zone the test meant is
followed statement by statement: SET timezone = 'UTC' (which the launcher wrote as ZONE, with a
mark), SET timezone = 'X' (ZONE too, when the test sets it itself), RESET timezone. Every timestamp rendered in ZONE (ISO, with its offset, or
PostgreSQL's style, with ZONE's abbreviation) is rendered again in the zone the test meant,
in the same style and precision. Nothing else changes: a day or a time that mailstatus
computed in the session's zone instead of UTC (a date, a count per day, a time written
without its offset) still differs from the expected file.

Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE.
"""
import datetime as dt
import re
import sys
import unicodedata
from zoneinfo import ZoneInfo

ZONE_NAME = sys.argv[-1]
ZONE = ZoneInfo(ZONE_NAME)
DEFAULT = "PST8PDT"          # pg_regress' PGTZ
SET_UTC = re.compile(r"^(\s*SET\s+(?:SESSION\s+)?(?:timezone\s*(?:=|TO)|TIME\s+ZONE)\s*)'UTC'", re.I)
# The launcher's SET carries a mark: a test's own SET of ZONE (it checks that the session's zone
# does not matter) is a zone of its own, not the launcher's 'UTC'.
MARK = " /* test/timezones: was 'UTC' */"
SET_ZONE = re.compile(r"^(\s*SET\s+(?:SESSION\s+)?(?:timezone\s*(?:=|TO)|TIME\s+ZONE)\s*)'%s'%s" % (re.escape(ZONE_NAME), re.escape(MARK)), re.I)
SET_OTHER = re.compile(r"^\s*SET\s+(?:SESSION\s+)?(?:timezone\s*(?:=|TO)|TIME\s+ZONE)\s*'([^']+)'", re.I)
RESET_ZONE = re.compile(r"^\s*RESET\s+(?:timezone|TIME\s+ZONE)\b", re.I)
ISO = re.compile(r"(?<![\d:])(\d{4,})-(\d\d)-(\d\d)([ T])(\d\d):(\d\d):(\d\d)(\.\d{1,6})?([+-])(\d\d)(?::?(\d\d))?(?::(\d\d))?( BC)?(?![\d:])")
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
POSTGRES = re.compile(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (%s) (\d\d) (\d\d):(\d\d):(\d\d)(\.\d{1,6})? (\d{4}) ([A-Z]{3,4}|[+-]\d\d(?::?\d\d)?)\b"
                      % "|".join(MONTHS))


def offset_text(offset, always_minutes):
    total = int(offset.total_seconds())
    sign = "+" if total >= 0 else "-"
    h, rest = divmod(abs(total), 3600)
    m, sec = divmod(rest, 60)
    return "%s%02d" % (sign, h) + (":%02d" % m if m or sec or always_minutes else "") + (":%02d" % sec if sec else "")


def shifted(year):
    """Python's datetime holds years 1 to 9999 only; the Gregorian calendar repeats every 400
    years: the number of 400-year cycles that brings an astronomical year into 1000..8999."""
    cycles = 0
    while year + 400 * cycles < 1000:
        cycles += 1
    while year + 400 * cycles > 8999:
        cycles -= 1
    return cycles


def rewrite_iso(match, meant):
    y, mo, d, sep, h, mi, s, frac, sign, oh, om, osec, bc = match.groups()
    offset = dt.timedelta(hours=int(oh), minutes=int(om or 0), seconds=int(osec or 0)) * (1 if sign == "+" else -1)
    year = 1 - int(y) if bc else int(y)          # astronomical
    cycles = shifted(year)
    local = dt.datetime(year + 400 * cycles, int(mo), int(d), int(h), int(mi), int(s))
    at = (local - offset).replace(tzinfo=dt.timezone.utc)
    if meant is None or at.astimezone(ZONE).utcoffset() != offset:
        return match.group(0)       # not rendered in the session's zone: left as it is
    there = at.astimezone(meant)
    year = there.year - 400 * cycles
    # PostgreSQL's ISO style writes minutes only when the offset has them; JSON (with its T), always.
    return "%04d-%s%s%s%s%s%s" % (year if year > 0 else 1 - year, there.strftime("%m-%d"), sep, there.strftime("%H:%M:%S"),
                                  frac or "", offset_text(there.utcoffset(), sep == "T"), " BC" if year <= 0 else "")


def rewrite_postgres(match, meant):
    dow, mon, d, h, mi, s, frac, y, abbr = match.groups()
    local = dt.datetime(int(y), MONTHS.index(mon) + 1, int(d), int(h), int(mi), int(s))
    if meant is None:
        return match.group(0)
    for fold in (0, 1):
        at = local.replace(tzinfo=ZONE, fold=fold)
        if at.tzname() == abbr:
            there = at.astimezone(meant)
            return "%s%s %s %s" % (there.strftime("%a %b %d %H:%M:%S"), frac or "", there.strftime("%Y"), there.tzname())
    return match.group(0)


def rewrite_input():
    """The test's input, with SET timezone = 'UTC' made SET timezone = 'ZONE' and marked."""
    for line in sys.stdin:
        sys.stdout.write(SET_UTC.sub(lambda x: x.group(1) + "'%s'%s" % (ZONE_NAME, MARK), line, count=1))


SEPARATOR = re.compile(r"^-+(\+-+)*$")
FOOTER = re.compile(r"^\(\d+ rows?\)$")


def display_width(text):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 0 if unicodedata.combining(c) else 1 for c in text)


def parse_cell(raw, last):
    """A cell between bars: (content, whether it is padded on the left only, wrap marker)."""
    wrapped = raw.endswith("+") and len(raw) >= 2
    inner = raw[1:-1] if wrapped or not last else raw[1:]
    content = inner.strip(" ")
    right = content != "" and inner.startswith(" ") and not inner.endswith(" ")
    return content, right, wrapped


def render_table(lines, at):
    """Writes the table whose separator is lines[at] again for its cells as they are now,
    as psql's aligned format does (header centered, numbers to the right, the last column
    not padded), when a column's width changed; pg_regress compares white space too."""
    end = at + 1
    while end < len(lines) and not FOOTER.match(lines[end].strip()):
        end += 1
    header = lines[at - 1].rstrip("\n").split("|")
    rows = [line.rstrip("\n").split("|") for line in lines[at + 1:end]]
    old = [len(segment) - 2 for segment in lines[at].rstrip("\n").split("+")]
    if any(len(r) != len(header) for r in rows) or len(old) != len(header):
        return                      # a cell holding "|": left as it is
    last = len(header) - 1
    cells = [[parse_cell(c, i == last) for i, c in enumerate(r)] for r in rows]
    # psql aligns a column to the right (numbers) or to the left: a cell padded on the left says which.
    right_aligned = [any(r[c][1] for r in cells) for c in range(len(header))]
    names = [h.strip(" ") for h in header]
    widths = [max([display_width(names[c])] + [display_width(r[c][0]) for r in cells]) for c in range(len(header))]
    if widths == old:
        return

    def pad(text, width, right):
        gap = " " * (width - display_width(text))
        return gap + text if right else text + gap

    out = []
    head = []
    for c, name in enumerate(names):
        left = (widths[c] - display_width(name)) // 2
        head.append(" " + " " * left + name + " " * (widths[c] - display_width(name) - left) + " ")
    out.append("|".join(head) + "\n")
    out.append("+".join("-" * (w + 2) for w in widths) + "\n")
    for r in cells:
        row = []
        for c, (content, _, wrapped) in enumerate(r):
            right = right_aligned[c]
            if c == last and not right and not wrapped:
                row.append(" " + content)
            elif c == last and right and not wrapped:
                row.append(" " + pad(content, widths[c], True))
            else:
                row.append(" " + pad(content, widths[c], right) + ("+" if wrapped else " "))
        out.append("|".join(row) + "\n")
    lines[at - 1:end] = out


def main():
    meant = ZoneInfo(DEFAULT)   # None: the test set a zone of its own, its output is left alone
    lines = sys.stdin.readlines()
    out = []
    table = None                # while in a table: [index of its separator in out, whether a row changed]
    for line in lines:
        m = SET_ZONE.match(line)
        if m:
            line = SET_ZONE.sub(lambda x: x.group(1) + "'UTC'", line, count=1)
            meant = ZoneInfo("UTC")
        elif SET_OTHER.match(line):
            meant = None
        elif RESET_ZONE.match(line):
            meant = ZoneInfo(DEFAULT)
        written = POSTGRES.sub(lambda x: rewrite_postgres(x, meant), ISO.sub(lambda x: rewrite_iso(x, meant), line))
        if SEPARATOR.match(line.rstrip("\n")) and out:
            table = [len(out), False]
        elif table is not None and FOOTER.match(line.strip()):
            if table[1]:
                render_table(out, table[0])
            table = None
        elif table is not None and written != line:
            table[1] = True
        out.append(written)
    sys.stdout.write("".join(out))


if __name__ == "__main__":
    if sys.argv[1] == "--input":
        rewrite_input()
    else:
        main()
