"""The state property: the same events posted at random (split, shuffled, retried, by
concurrent clients on both entry points, directly or in landing mode with flushes at random
moments, with sends and maintenance at random moments) give what they give posted once, in
order, into a second database; and state_differences() is empty in both.

Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE.
"""
import datetime as dt
import threading
import time

import psycopg

import jsontext
from traffic import CUSTOM_KEYS, CUSTOM_VALUES, EMAILS

STATUS_ORDER = ["sent", "deferred", "delivered", "opened", "clicked", "unsubscribed", "spam_report", "bounced", "dropped"]
LOCK_NOT_AVAILABLE = "55P03"
DEADLOCK = "40P01"
RUN_TIMEOUT = 600


class HarnessFailure(AssertionError):
    """The property does not hold: what differs, or which call failed and how. kinds: which of
    KINDS it is (a round shrinks a failure of the first kind it met)."""

    def __init__(self, message, kinds=("call",)):
        super().__init__(message)
        self.kinds = tuple(kinds)


KINDS = ["deadlock", "call", "state_differences", "views", "status_change"]


def connect(conninfo, dbname):
    conn = psycopg.connect(conninfo, dbname=dbname, autocommit=True)
    conn.execute("SET statement_timeout = '300s'")
    return conn


def post_style(order):
    """How a post's body is written: white space and escapes vary between posts."""
    return jsontext.Style(space=" " if order % 2 else "", escape_non_ascii=order % 3 == 0,
                          escape_letters=order % 7 == 0, escape_solidus=order % 5 == 0)


def body_text(case, indices, order=0):
    return jsontext.write([case.events[i].body for i in indices], post_style(order))


def call_post(conn, path, body):
    if path == "jsonb":
        return conn.execute("SELECT stored, duplicates, rejected FROM mailstatus.ingest_sendgrid_event(%s::jsonb)",
                            (body,)).fetchone()
    return conn.execute("SELECT stored, duplicates, rejected FROM mailstatus.ingest_sendgrid_webhook(%s::text)",
                        (body,)).fetchone()


def call_send(conn, send, excluded=frozenset()):
    """record_send of a send, but for its addresses in excluded ((message, address, time))."""
    emails = [e for e in send.emails if (send.message, e, send.at) not in excluded]
    if emails or not send.emails:
        conn.execute("SELECT mailstatus.record_send(%s, %s::text[], %s::jsonb, %s)",
                     (send.message, emails, jsontext.write(send.custom_args), send.at))


def call_barrier(conn, barrier, abort=None):
    """drop_event_partitions or forget_recipients; maintenance gives up (55P03) while a
    transaction holds the table: that is its documented behaviour, so it is tried again."""
    for attempt in range(60):
        try:
            if barrier.kind == "drop":
                conn.execute("SELECT mailstatus.drop_event_partitions(%s, '1 second')", (barrier.at,))
            else:
                conn.execute("SELECT mailstatus.forget_recipients(%s)", (barrier.at,))
            return attempt
        except psycopg.Error as e:
            if e.sqlstate != LOCK_NOT_AVAILABLE or (abort is not None and abort.is_set()):
                raise
            time.sleep(0.05)
    raise HarnessFailure("%s never got its locks in 60 attempts" % barrier, ["call"])


def call_free_maintenance(conn, op):
    kind, arg = op
    for _ in range(3):
        try:
            if kind == "create_event_partitions":
                conn.execute("SELECT mailstatus.create_event_partitions(%s, '1 second')", (arg,))
            else:
                conn.execute("SELECT mailstatus.forget_status_changes(clock_timestamp())")
            return True
        except psycopg.Error as e:
            if e.sqlstate != LOCK_NOT_AVAILABLE:
                raise
    return False       # gave up three times: it has no effect on what is compared


class Run:
    """The case against the database under test: clients and a maintenance thread."""

    def __init__(self, case, conninfo, dbname):
        self.case, self.conninfo, self.dbname = case, conninfo, dbname
        n = len(case.barriers)
        self.barrier_done = [threading.Event() for _ in range(n + 1)]
        self.barrier_done[0].set()
        self.remaining = [0] * (n + 1)
        self.cond = threading.Condition()
        self.abort = threading.Event()
        self.errors = []
        # The clients of a burst meet here before their first burst post, so that they start together.
        burst_clients = {p.client for p in case.posts if p.burst}
        self.burst_start = threading.Barrier(len(burst_clients)) if burst_clients else None
        self.maintenance_log = []
        self.forgot_status_changes = False
        self.landing_available = False

    def fail(self, what, error):
        with self.cond:
            self.errors.append("%s: SQLSTATE %s: %s" % (what, getattr(error, "sqlstate", None), str(error).strip()))
            self.abort.set()
            self.cond.notify_all()
        if self.burst_start is not None:
            self.burst_start.abort()

    def wait_for(self, event):
        while not event.wait(0.05):
            if self.abort.is_set():
                return False
        return True

    def client(self, client_id, ops):
        landing = client_id in self.case.landing and self.landing_available
        try:
            conn = connect(self.conninfo, self.dbname)
            if landing:
                conn.execute("SET mailstatus.ingest_mode = landing")
        except psycopg.Error as e:
            self.fail("connect", e)
            return
        started_burst = False
        with conn:
            for kind, op in ops:
                if self.abort.is_set():
                    return
                if not op.free and op.phase >= 1 and not self.wait_for(self.barrier_done[op.phase]):
                    return
                try:
                    if kind == "post":
                        body = body_text(self.case, op.events, op.order)
                        if op.burst and not started_burst:
                            started_burst = True
                            try:
                                self.burst_start.wait(RUN_TIMEOUT)
                            except threading.BrokenBarrierError:
                                return      # another client failed (or the run timed out): reported there
                        call_post(conn, op.path, body)
                        if landing and op.flush:
                            conn.execute("SELECT * FROM mailstatus.flush()")
                    else:
                        call_send(conn, op)
                except psycopg.Error as e:
                    self.fail("%r" % op if kind == "send" else "post of %d events (%s, client %d)" %
                              (len(op.events), op.path, op.client), e)
                    return
                if not op.free:
                    with self.cond:
                        self.remaining[op.phase] -= 1
                        self.cond.notify_all()

    def maintenance(self):
        case = self.case
        try:
            conn = connect(self.conninfo, self.dbname)
        except psycopg.Error as e:
            self.fail("connect", e)
            return
        with conn:
            free = list(case.free_maintenance)
            for j, barrier in enumerate(case.barriers, start=1):
                self.free_maintenance_before(conn, free, j - 1)
                with self.cond:
                    while any(self.remaining[:j]) and not self.abort.is_set():
                        self.cond.wait(0.05)
                if self.abort.is_set():
                    return
                time.sleep(barrier.delay_ms / 1000)
                try:
                    retries = call_barrier(conn, barrier, self.abort)
                    self.maintenance_log.append("%r (tried %d more times)" % (barrier, retries))
                except psycopg.Error as e:
                    self.fail("%r" % barrier, e)
                    return
                self.barrier_done[j].set()
            self.free_maintenance_before(conn, free, len(case.barriers))

    def free_maintenance_before(self, conn, free, position):
        """The free maintenance ops due before barrier position+1 (op i is due at i mod (barriers+1))."""
        n = len(self.case.barriers) + 1
        for i, op in enumerate(self.case.free_maintenance):
            if i % n != position or self.abort.is_set():
                continue
            try:
                done = call_free_maintenance(conn, op)
                self.maintenance_log.append("%s(%s)%s" % (op[0], op[1], "" if done else " gave up"))
                if op[0] == "forget_status_changes":
                    self.forgot_status_changes = True
            except psycopg.Error as e:
                self.fail("%s" % (op,), e)

    def run(self):
        case = self.case
        with connect(self.conninfo, self.dbname) as conn:
            # Landing mode is 0.5.0's: on an earlier version every client posts directly.
            self.landing_available = conn.execute(
                "SELECT to_regprocedure('mailstatus.flush()') IS NOT NULL").fetchone()[0]
            if not case.fresh:
                conn.execute("SELECT mailstatus.ensure_event_default_partition()")
            for s in case.sends:
                if s.phase == -1 and not s.free:
                    call_send(conn, s)
        per_client = [[] for _ in range(case.clients)]
        for p in case.posts:
            per_client[p.client].append(("post", p))
        for s in case.sends:
            if s.phase >= 0 or s.free:
                per_client[s.client].append(("send", s))
        for ops in per_client:
            ops.sort(key=lambda o: (o[1].phase, getattr(o[1], "order", 0)))
            for _, op in ops:
                if not op.free:
                    self.remaining[op.phase] += 1
        threads = [threading.Thread(target=self.client, args=(c, ops), daemon=True) for c, ops in enumerate(per_client)]
        threads.append(threading.Thread(target=self.maintenance, daemon=True))
        for t in threads:
            t.start()
        deadline = time.monotonic() + RUN_TIMEOUT
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        if any(t.is_alive() for t in threads):
            self.abort.set()
            if self.burst_start is not None:
                self.burst_start.abort()
            raise HarnessFailure("the run did not finish within %d s (maintenance: %s)" % (RUN_TIMEOUT, self.maintenance_log),
                                 ["call"])
        if self.errors:
            raise HarnessFailure("a call failed:\n  " + "\n  ".join(self.errors),
                                 ["deadlock" if "SQLSTATE %s" % DEADLOCK in e else "call" for e in self.errors])
        if case.landing and self.landing_available:
            try:
                with connect(self.conninfo, self.dbname) as conn:
                    conn.execute("SELECT * FROM mailstatus.flush()")
            except psycopg.Error as e:
                raise HarnessFailure("the final flush failed: %s" % e,
                                     ["deadlock" if e.sqlstate == DEADLOCK else "call"]) from e


def first_phases(case):
    """Each event's phase in the oracle: the phase of its first phased post; the last for an
    event only free posts carry (no barrier treats it differently)."""
    last = len(case.barriers)
    phase = {}
    for p in case.posts:
        for i in p.events:
            if not p.free:
                phase[i] = min(phase.get(i, last), p.phase)
            else:
                phase.setdefault(i, last)
    return phase


def run_oracle(case, conn, mirror_forgets=True, excluded=frozenset(), excluded_sends=frozenset()):
    """The events posted once each, in time order, phase by phase, by one client, with the
    same sends and barriers between the phases (forget_recipients left out when
    mirror_forgets is false, and the elements in excluded, the addresses in excluded_sends,
    not posted). Returns whether a recipient forget_recipients forgot came back to the state
    (an event or send of it stored after the forget), even if a later forget forgot it again."""
    phase = first_phases(case)
    last = len(case.barriers)
    recipients = lambda: set(conn.execute("SELECT message_id, email FROM mailstatus.recipient").fetchall())
    forgotten, seen_again = set(), False
    for s in case.sends:
        if s.phase == -1 and not s.free:
            call_send(conn, s, excluded_sends)
    for j in range(last + 1):
        for s in case.sends:
            if (not s.free and s.phase == j) or (s.free and j == last):
                call_send(conn, s, excluded_sends)
        indices = sorted((i for i, p in phase.items() if p == j and i not in excluded),
                         key=lambda i: (case.events[i].t_ms, i))
        if indices:
            call_post(conn, "jsonb", body_text(case, indices))
        if forgotten:
            seen_again = seen_again or bool(recipients() & forgotten)
        if j < last:
            barrier = case.barriers[j]
            if barrier.kind == "drop" or mirror_forgets:
                before = recipients() if barrier.kind == "forget" else None
                call_barrier(conn, barrier)
                if before is not None:
                    forgotten |= before - recipients()
    return seen_again


def rejected_sends(conn):
    """The (message, address as given, time) of the sends the database rejected (record_send
    keeps them in rejected_event): on a day forget_recipients closed, for instance. Since sends
    count in the deliverability figures, the oracle without forgets leaves them out too."""
    return frozenset(conn.execute(
        "SELECT element -> 'record_send' ->> 'message_id', element -> 'record_send' ->> 'email', "
        "(element -> 'record_send' ->> 'sent_at')::timestamptz "
        "FROM mailstatus.rejected_event WHERE element ? 'record_send'").fetchall())


def rejected_indices(case, conn):
    """The events whose element the database keeps in rejected_event."""
    bodies = [jsontext.write(e.body) for e in case.events]
    rows = conn.execute("SELECT b.i - 1 FROM unnest(%s::text[]) WITH ORDINALITY AS b(body, i) "
                        "WHERE mailstatus.content_key(b.body::jsonb) IN (SELECT element_key FROM mailstatus.rejected_event)",
                        (bodies,)).fetchall()
    return frozenset(r[0] for r in rows)


def addresses_of(case):
    out = set(EMAILS)
    for e in case.events:
        if isinstance(e.body.get("email"), str):
            out.add(e.body["email"])
        out.add(e.email)
    for s in case.sends:
        out.update(s.emails)
    return sorted(out)


def custom_args_queries(case):
    """recipient_status_for's arguments: every custom args object posted or sent, each single pair, {}."""
    objects = {"{}"}
    for e in case.events:
        args = {k: v for k, v in e.body.items() if k in CUSTOM_KEYS}
        if args:
            objects.add(jsontext.write(args))
            for k, v in args.items():
                objects.add(jsontext.write({k: v}))
    for s in case.sends:
        if s.custom_args:
            objects.add(jsontext.write(s.custom_args))
    for k in CUSTOM_KEYS:
        for v in CUSTOM_VALUES[:2]:
            objects.add(jsontext.write({k: v}))
    return sorted(objects)


def read_all(conn, case):
    """Every view and function a CRM reads, as lists of rows in a fixed order."""
    out = {}
    q = lambda sql, *args: conn.execute(sql, args or None).fetchall()
    out["state_differences()"] = q("SELECT * FROM mailstatus.state_differences() ORDER BY 1, 2, 3, 4")
    for setting in ("off", "on"):
        conn.execute("SET mailstatus.count_machine_opens = %s" % setting)
        out["recipient_status (machine opens %s)" % setting] = q(
            "SELECT * FROM mailstatus.recipient_status ORDER BY message_id, email")
        out["message_status (machine opens %s)" % setting] = q(
            "SELECT * FROM mailstatus.message_status ORDER BY message_id")
        out["status_counts (machine opens %s)" % setting] = q(
            "SELECT * FROM mailstatus.status_counts ORDER BY status NULLS FIRST")
    conn.execute("RESET mailstatus.count_machine_opens")
    out["suppression"] = q("SELECT * FROM mailstatus.suppression ORDER BY email, asm_group_id NULLS FIRST")
    out["is_suppressed"] = q(
        "SELECT a, g, mailstatus.is_suppressed(a, g) FROM unnest(%s::text[]) a, unnest('{NULL,42,43}'::int[]) g "
        "ORDER BY 1, 2 NULLS FIRST", addresses_of(case))
    out["deliverability_daily"] = q("SELECT * FROM mailstatus.deliverability_daily ORDER BY day")
    months = case.clock.months
    for dimension, since, until in [(None, None, None), ("category", None, None), ("crm_record", None, None),
                                    ("branch", None, None), ("no_such_arg", None, None),
                                    ("category", months[1], months[2]),
                                    (None, months[1] + dt.timedelta(hours=12), months[2] - dt.timedelta(hours=1)),
                                    ("crm_record", months[1] - dt.timedelta(seconds=1), None)]:
        out["deliverability_daily_by(%s, %s, %s)" % (dimension, since, until)] = q(
            "SELECT * FROM mailstatus.deliverability_daily_by(%s, %s, %s) ORDER BY day, value NULLS FIRST",
            dimension, since, until)
    for args in custom_args_queries(case):
        out["recipient_status_for(%s)" % args] = q(
            "SELECT * FROM mailstatus.recipient_status_for(%s::jsonb) ORDER BY message_id, email", args)
    out["status_change"] = q("SELECT message_id, email, old_status::text, new_status::text, status_at "
                             "FROM mailstatus.status_change ORDER BY id")
    return out


def status_change_problems(reads, forgets, trimmed):
    """The change log, order-independently: per recipient, each change raises the status
    (from NULL only first, or after forget_recipients), follows on from the previous one,
    and the last is the recipient's status now (but for a recipient forget_recipients forgot
    that came back with no status); a recipient with a status has a change
    unless forget_status_changes trimmed the log."""
    problems = []
    chains = {}
    for message_id, email, old, new, _ in reads["status_change"]:
        chains.setdefault((message_id, email), []).append((old, new))
    rank = {s: i for i, s in enumerate(STATUS_ORDER)}
    for key, chain in chains.items():
        previous = None
        for n, (old, new) in enumerate(chain):
            if new is None or (old is not None and rank[new] <= rank[old]):
                problems.append("%s: change %s -> %s does not raise the status" % (key, old, new))
            if n > 0 and old != previous and not (old is None and forgets):
                problems.append("%s: change %s -> %s does not follow the previous one (to %s)" % (key, old, new, previous))
            previous = new
    for row in reads["recipient_status (machine opens off)"]:
        key, status = (row[0], row[1]), row[2]
        chain = chains.get(key)
        # A forgotten recipient seen again with events that reach no status (a group
        # resubscribe) has none: its log ends with its former life's last change.
        if chain and chain[-1][1] != status and not (status is None and forgets):
            problems.append("%s: the last change is to %s, the status is %s" % (key, chain[-1][1], status))
        if not chain and status is not None and not trimmed:
            problems.append("%s: status %s, but no change logged" % (key, status))
    return problems


def describe_difference(name, got, expected, limit=6):
    got_set, expected_set = set(map(repr, got)), set(map(repr, expected))
    only_got = [r for r in map(repr, got) if r not in expected_set][:limit]
    only_expected = [r for r in map(repr, expected) if r not in got_set][:limit]
    lines = ["%s differs (%d rows under test, %d in the oracle):" % (name, len(got), len(expected))]
    lines += ["  under test only: " + r for r in only_got]
    lines += ["  oracle only:     " + r for r in only_expected]
    if not only_got and not only_expected:
        lines.append("  (same rows, other order or multiplicity)")
    return "\n".join(lines)


def check_case(case, server, run_only=False):
    """Runs a case against fresh databases and raises HarnessFailure when the property fails.
    run_only: only the run under test, whose calls must all succeed (no oracle, no comparison)."""
    sut_db = server.fresh_database("prop_sut")
    run = Run(case, server.conninfo, sut_db)
    run.run()
    if run_only:
        return
    oracle_db, plain_db = server.fresh_database("prop_oracle"), None
    forgets = any(b.kind == "forget" for b in case.barriers)
    with connect(server.conninfo, sut_db) as sut, connect(server.conninfo, oracle_db) as oracle:
        forgotten_seen_again = run_oracle(case, oracle)
        got, expected = read_all(sut, case), read_all(oracle, case)
        no_forget = None
        if forgets:
            # Deliverability figures are never forgotten: what forget_recipients does (and a
            # late event for a forgotten recipient) must leave the day's counts as if
            # nobody were forgotten, for the events the oracle stored. But for a forgotten
            # recipient seen again (an event or send of it stored after the forget): its state
            # starts anew, and it counts as a new recipient on its own send day, as the
            # send-day rule of the figures says (its former figures stand on its old send day),
            # where the oracle without forgets counts it once, on its first send day.
            plain_db = server.fresh_database("prop_no_forget")
            with connect(server.conninfo, plain_db) as plain:
                run_oracle(case, plain, mirror_forgets=False, excluded=rejected_indices(case, oracle),
                           excluded_sends=rejected_sends(oracle))
                if not forgotten_seen_again:
                    no_forget = {k: v for k, v in read_all(plain, case).items() if k == "deliverability_daily"
                                 or k.startswith("deliverability_daily_by(None")}
    problems = []
    kinds = []
    if got["state_differences()"]:
        problems.append(describe_difference("state_differences() under test", got["state_differences()"], []))
    if expected["state_differences()"]:
        problems.append(describe_difference("state_differences() in the oracle", expected["state_differences()"], []))
    if problems:
        kinds.append("state_differences")
    views_before = len(problems)
    for name in got:
        if name in ("state_differences()", "status_change"):
            continue
        reference = no_forget[name] if no_forget and name in no_forget else expected[name]
        if got[name] != reference:
            problems.append(describe_difference(name + (" (against the oracle without forget_recipients)"
                                                        if no_forget and name in no_forget else ""),
                                                got[name], reference))
    if len(problems) > views_before:
        kinds.append("views")
    changes_before = len(problems)
    for p in status_change_problems(got, forgets, run.forgot_status_changes):
        problems.append("status_change under test: " + p)
    for p in status_change_problems(expected, forgets, False):
        problems.append("status_change in the oracle: " + p)
    if not run.forgot_status_changes:
        logged = lambda reads: sorted({(r[0], r[1]) for r in reads["status_change"]})
        if logged(got) != logged(expected):
            problems.append(describe_difference("recipients in status_change", logged(got), logged(expected)))
    if len(problems) > changes_before:
        kinds.append("status_change")
    if problems:
        raise HarnessFailure("\n".join(problems) + "\nmaintenance: %s" % run.maintenance_log, kinds)


def still_fails(case, server, kind, tries):
    """Whether the case fails with a failure of this kind (a race: in any of tries runs; a
    deadlock needs only the run under test)."""
    for _ in range(tries):
        try:
            check_case(case, server, run_only=kind == "deadlock")
        except HarnessFailure as e:
            if kind in e.kinds:
                return str(e)
    return None


def minimize(case, server, kind, seconds):
    """After Hypothesis' shrinking, a greedy pass of our own over the case's structure (what
    Hypothesis cannot see through the drawn bytes): drop each post, each send, each free
    maintenance op (few, so they come before the events of a bulk, which may use up the
    time), each event from its posts, each optional field of the events left, then put
    every op on one client. A change is kept when the case still fails with the same kind of
    failure. Returns the smallest case and its failure."""
    import copy
    deadline = time.monotonic() + seconds
    tries = 3 if kind == "deadlock" else 1
    message = None

    def attempt(candidate):
        nonlocal case, message
        if time.monotonic() > deadline:
            return False
        failed = still_fails(candidate, server, kind, tries)
        if failed:
            case, message = candidate, failed
        return bool(failed)

    def without(**changes):
        c = copy.copy(case)
        c.posts = [copy.copy(p) for p in case.posts]
        c.events = list(case.events)
        c.sends = list(case.sends)
        c.free_maintenance = list(case.free_maintenance)
        for k, v in changes.items():
            setattr(c, k, v)
        return c

    for i in range(len(case.posts) - 1, -1, -1):
        if i < len(case.posts):
            c = without()
            del c.posts[i]
            if c.posts:
                attempt(c)
    for i in range(len(case.sends) - 1, -1, -1):
        c = without()
        del c.sends[i]
        attempt(c)
    for i in range(len(case.free_maintenance) - 1, -1, -1):
        c = without()
        del c.free_maintenance[i]
        attempt(c)
    for index in sorted({i for p in case.posts for i in p.events}, reverse=True):
        c = without()
        for p in c.posts:
            p.events = [i for i in p.events if i != index]
        c.posts = [p for p in c.posts if p.events]
        if c.posts:
            attempt(c)
    for index in sorted({i for p in case.posts for i in p.events}):
        for key in [k for k in case.events[index].body if k not in ("email", "event", "timestamp")]:
            c = without()
            e = copy.copy(c.events[index])
            e.body = {k: v for k, v in e.body.items() if k != key}
            c.events[index] = e
            attempt(c)
    if case.landing:
        attempt(without(landing=frozenset()))
    if case.clients > 1:
        c = without(clients=1, landing=frozenset([0]) if case.landing else frozenset())
        for p in c.posts:
            p.client = 0
        for s in c.sends:
            s.client = 0
        attempt(c)
    return case, message
