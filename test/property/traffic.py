"""Generated webhook traffic and the plan of how it is posted (test/property/README in
docs/tests.md, "Property harness").

A case is: events (each a JSON object as SendGrid could post it, in every field shape),
sends (record_send), posts (which events, which entry point, which client, which phase),
and maintenance. Few events are drawn one by one by Hypothesis (they shrink to a readable
minimal case); many (the bulk, for posts of more than 1,000 events) come from a seeded PRNG
with the same field shapes, and shrink by their count.

Equivalence of maintenance (what the oracle repeats): drop_event_partitions and
forget_recipients are barriers. Their outcome depends on what was stored before them (a late
event for a dropped month is rejected; a recipient is forgotten if its last event so far is
older), so every post and send whose events they could treat differently belongs to a phase:
it starts after the barrier before its phase has finished and finishes before the next one
starts; the oracle posts the same phases with the same barriers between them. A post whose
events no barrier treats differently (after every retention boundary, of recipients no forget
can reach, no async bounce) is free: it runs at any moment, concurrently with the barriers.
create_event_partitions and forget_status_changes change no view and run at any moment.
An async bounce is attributed to the sends recorded when it arrives: a send in its 72-hour
window is never in the same phase as the bounce's first post.

Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE.
"""
import datetime as dt
import random

from hypothesis import strategies as st

from jsontext import RawNumber

UTC = dt.timezone.utc
DAY = 86400
ASYNC_WINDOW = 72 * 3600


def month_start(t, months_back=0):
    y, m = t.year, t.month - months_back
    while m <= 0:
        y, m = y - 1, m + 12
    return dt.datetime(y, m, 1, tzinfo=UTC)


class Clock:
    """The months the traffic spans: two whole months before the current one, and the current
    one up to an hour ago (events must not lie in the future). Times are drawn relative to
    these, so a seed gives the same case in any month, shifted."""

    def __init__(self, now=None):
        now = now or dt.datetime.now(UTC)
        self.now = now
        self.months = [month_start(now, 2), month_start(now, 1), month_start(now, 0)]
        self.first = self.months[0]
        self.last = now - dt.timedelta(hours=1)

    def clamp(self, t):
        return min(max(t, self.first), self.last)

    def at(self, anchor, offset_seconds):
        """anchor 0..2: a month's start; 3: the last allowed time (offsets go back from it)."""
        base = self.months[anchor] if anchor < 3 else self.last
        return self.clamp(base + dt.timedelta(seconds=offset_seconds))


def epoch(t):
    return int(t.timestamp())


MESSAGES = ["Msg0", "Msg1", "Msg2", "Msg3"]
EMAILS = ["ann@example.com", "bob@example.org", "cy@example.net", "dee@example.com"]
EVENT_NAMES = ["processed", "deferred", "delivered", "open", "click", "bounce", "dropped", "spamreport",
               "unsubscribe", "group_unsubscribe", "group_resubscribe", "engagement_preview"]
CATEGORIES = ["invoice", "quote", "reminder"]
CUSTOM_KEYS = ["crm_record", "branch"]
CUSTOM_VALUES = ["INV-1", "INV-2", "north", "south", RawNumber("7"), RawNumber("7.0"), "007"]


class Chooser:
    """What a field generator draws with: Hypothesis (explicit events) or a PRNG (bulk)."""

    def __init__(self, draw=None, rnd=None):
        self.draw, self.rnd = draw, rnd

    def choice(self, options):
        if self.draw:
            return self.draw(st.sampled_from(options))
        return self.rnd.choice(options)

    def integer(self, lo, hi):
        if self.draw:
            return self.draw(st.integers(lo, hi))
        return self.rnd.randint(lo, hi)

    def chance(self, p):
        """True with probability about p (Hypothesis: a boolean that shrinks to False)."""
        if self.draw:
            return self.draw(st.integers(0, 99)) < int(p * 100)
        return self.rnd.random() < p


def email_form(c, email):
    form = c.choice(["plain", "plain", "upper", "spaces", "mixed"])
    if form == "upper":
        return email.upper()
    if form == "spaces":
        return " " + email + "\t"
    if form == "mixed":
        return email[0].upper() + email[1:]
    return email


def timestamp_form(c, t_ms):
    """Unix seconds or milliseconds, as a number or a string, with leading zeros, fractions,
    exponents: every form SendGrid's field may take and the mapping accepts."""
    whole = t_ms % 1000 == 0
    seconds = t_ms // 1000
    forms = ["ms", "ms_string", "seconds_fraction", "seconds_fraction_string"]
    if whole:
        forms += ["seconds", "seconds", "seconds_string", "leading_zeros", "exponent", "seconds_point_zero"]
    form = c.choice(forms)
    if form == "seconds":
        return seconds
    if form == "seconds_string":
        return str(seconds)
    if form == "leading_zeros":
        return "000" + str(seconds)
    if form == "exponent":
        return RawNumber("%d.%de%d" % (int(str(seconds)[0]), int(str(seconds)[1:]), len(str(seconds)) - 1))
    if form == "seconds_point_zero":
        return RawNumber("%d.0" % seconds)
    if form == "ms":
        return t_ms
    if form == "ms_string":
        return str(t_ms)
    fraction = "%d.%03d" % (seconds, t_ms % 1000)
    return RawNumber(fraction) if form == "seconds_fraction" else fraction


def sg_message_id_form(c, message, k):
    form = c.choice(["filter", "filter", "recvd", "bare", "smtp_only"])
    if form == "filter":
        return {"sg_message_id": "%s.filter0%dp1las1-12345-5F7E3C0A-%d.0" % (message, k % 10, k)}
    if form == "recvd":
        return {"sg_message_id": "%s.recvd-5f8c-%d-abc.1" % (message, k)}
    if form == "bare":
        return {"sg_message_id": message}
    return {"smtp-id": "<%s@ismtpd0001p1las1.sendgrid.net>" % message}


def category_form(c):
    form = c.choice(["none", "none", "string", "array", "array2", "empty"])
    if form == "string":
        return c.choice(CATEGORIES)
    if form == "array":
        return [c.choice(CATEGORIES)]
    if form == "array2":
        return [c.choice(CATEGORIES), c.choice(CATEGORIES)]
    if form == "empty":
        return []
    return None


def make_event(c, message, email, name, t_ms, k):
    """One event as posted: SendGrid's fields for its kind, in one of their shapes, and the
    CRM's custom args. message None: an event naming no message (an async bounce, or an
    unsubscribe from a list)."""
    e = {"email": email_form(c, email)}
    e["event"] = name.upper() if c.chance(0.1) else name
    e["timestamp"] = timestamp_form(c, t_ms)
    if message is not None:
        e.update(sg_message_id_form(c, message, k))
    elif c.chance(0.5):
        e["sg_message_id"] = ""
    if c.chance(0.8):
        e["sg_event_id"] = "ev-%d-%d" % (k, c.integer(0, 3))
    category = category_form(c)
    if category is not None:
        e["category"] = category
    if c.chance(0.6):
        for key in CUSTOM_KEYS:
            if c.chance(0.6):
                e[key] = c.choice(CUSTOM_VALUES)
    if name in ("bounce", "dropped", "deferred"):
        e["reason"] = c.choice(["550 5.1.1 no such user", "Bounced Address", "421 try later"])
        if c.chance(0.7):
            e["status"] = c.choice(["5.1.1", "5.0.0", "4.2.1"])
    if name == "bounce":
        if c.chance(0.8):
            e["type"] = c.choice(["bounce", "blocked"])
        if c.chance(0.5):
            e["bounce_classification"] = c.choice(["Invalid Address", "Reputation"])
    if name == "deferred" and c.chance(0.7):
        e["attempt"] = c.choice(["1", "2", RawNumber("3"), "03"])
    if name == "open":
        form = c.choice(["absent", "false", "true", "string_true", "string_false"])
        if form != "absent":
            e["sg_machine_open"] = {"false": False, "true": True, "string_true": "TRUE", "string_false": "false"}[form]
        e["useragent"] = "Mozilla/5.0"
    if name == "click":
        e["url"] = "https://crm.example/i/%d" % c.integer(1, 3)
    if name in ("group_unsubscribe", "group_resubscribe", "unsubscribe") or c.chance(0.05):
        e["asm_group_id"] = c.choice([RawNumber("42"), RawNumber("43"), "42", "042"])
    if name == "delivered" and c.chance(0.3):
        e["response"] = "250 OK"
        e["ip"] = "168.245.1.%d" % c.integer(1, 9)
    if c.chance(0.05):
        e["tls"] = RawNumber("1")
    return e


def event_time_ms(c, clock):
    anchor = c.integer(0, 3)
    if anchor < 3:
        offset = c.choice([0, 1, -1, 3600, -3600, DAY - 1, DAY, 2 * DAY + 7, 9 * DAY + 600, 20 * DAY])
        if c.chance(0.3):
            offset += c.integer(0, 40 * DAY)
    else:
        offset = -c.integer(0, 5 * DAY)
    t = clock.at(anchor, offset)
    return epoch(t) * 1000 + (c.choice([0, 0, 0, 250, 999]) if c.chance(0.2) else 0)


class Event:
    """A generated event: its posted object, and what the plan needs to know of it."""

    def __init__(self, index, body, message, email, t_ms, async_bounce):
        self.index, self.body, self.message, self.email = index, body, message, email
        self.t_ms, self.async_bounce = t_ms, async_bounce

    @property
    def at(self):
        return dt.datetime.fromtimestamp(self.t_ms / 1000, UTC)

    def __repr__(self):
        return "Event(%d, %r)" % (self.index, self.body)


@st.composite
def explicit_event(draw, clock, k):
    c = Chooser(draw=draw)
    name = c.choice(EVENT_NAMES)
    email = c.choice(EMAILS)
    async_bounce = name == "bounce" and c.chance(0.4)
    message = None if async_bounce or (name in ("unsubscribe", "group_unsubscribe") and c.chance(0.2)) else c.choice(MESSAGES)
    t_ms = event_time_ms(c, clock)
    return Event(k, make_event(c, message, email, name, t_ms, k), message, email, t_ms, async_bounce)


def bulk_events(seed, count, clock, first_index):
    """count events of realistic traffic from a PRNG: many messages, a few hundred addresses
    shared between them, each recipient's lifecycle over a few days."""
    rnd = random.Random(seed)
    c = Chooser(rnd=rnd)
    out = []
    emails = ["r%03d@bulk.example" % i for i in range(max(8, count // 12))]
    k = first_index
    while len(out) < count:
        message = "Bulk%04d" % rnd.randint(0, max(4, count // 30))
        email = rnd.choice(emails)
        start_ms = event_time_ms(c, clock)
        for name in ["processed", "delivered", "open", "click", "open", "bounce", "deferred"][:rnd.randint(1, 5)]:
            t_ms = min(start_ms + rnd.randint(0, 3 * DAY) * 1000, epoch(clock.last) * 1000)
            out.append(Event(k, make_event(c, message, email, name, t_ms, k), message, email, t_ms, False))
            k += 1
            if len(out) == count:
                break
    return out


class Send:
    def __init__(self, index, message, emails, addresses, custom_args, at):
        self.index, self.message, self.emails, self.custom_args, self.at = index, message, emails, custom_args, at
        self.addresses = addresses     # the emails as record_send normalizes them
        self.phase = 0
        self.client = 0
        self.free = False

    def __repr__(self):
        return "Send(%d, %r, %r, %r, %s, phase=%s)" % (self.index, self.message, self.emails, self.custom_args,
                                                       self.at.isoformat(), "free" if self.free else self.phase)


class Post:
    """One call of an entry point with these events (indices into the case's events). burst:
    the post is one of a burst, whose clients start their burst posts together. flush: its
    client (in landing mode) calls flush() right after it."""

    def __init__(self, events, path, client, phase, order, free=False, burst=False):
        self.events, self.path, self.client, self.phase, self.order, self.free = events, path, client, phase, order, free
        self.burst = burst
        self.flush = False

    def __repr__(self):
        return "Post(%s, %s%s%s, client %d, phase %s, %d events: %s)" % (
            self.path, "free" if self.free else "phased", ", burst" if self.burst else "",
            ", then flush" if self.flush else "", self.client, self.phase,
            len(self.events), self.events if len(self.events) <= 40 else "%s ... %s" % (self.events[:20], self.events[-5:]))


class Barrier:
    def __init__(self, kind, at, delay_ms):
        self.kind, self.at, self.delay_ms = kind, at, delay_ms

    def __repr__(self):
        return "Barrier(%s, %s, after %d ms)" % (self.kind, self.at.isoformat(), self.delay_ms)


class Case:
    """landing: the clients that post in landing mode (mailstatus.ingest_mode = landing)."""

    def __init__(self, clock, events, sends, posts, barriers, free_maintenance, clients, bulk, landing=frozenset()):
        self.clock, self.events, self.sends, self.posts = clock, events, sends, posts
        self.barriers, self.free_maintenance, self.clients, self.bulk = barriers, free_maintenance, clients, bulk
        self.landing = landing

    def __repr__(self):
        posted = {i for p in self.posts for i in p.events}
        explicit = [e for e in self.events if e.index in posted and not (e.message or "").startswith("Bulk")]
        lines = ["Case(%d clients%s, %d events (%d bulk, seed %s), %d posts, %s)" %
                 (self.clients, ", landing: %s" % sorted(self.landing) if self.landing else "", len(self.events),
                  self.bulk[0], self.bulk[1], len(self.posts), "no partition yet" if self.fresh else "default partition made")]
        lines += ["  %r" % e for e in explicit]
        lines += ["  %r" % s for s in self.sends]
        lines += ["  %r" % b for b in self.barriers]
        lines += ["  free maintenance: %r" % (m,) for m in self.free_maintenance]
        lines += ["  %r" % p for p in sorted(self.posts, key=lambda p: (p.client, p.order))]
        return "\n".join(lines)


def recipient_of(e):
    return (e.message or "", e.email)


def sensitivity(events, sends, barriers):
    """Which events and sends some barrier could treat differently, by when they arrive."""
    drops = [b.at for b in barriers if b.kind == "drop"]
    forgets = [b.at for b in barriers if b.kind == "forget"]
    latest_drop = max(drops) if drops else None
    # forget_recipients closes the whole UTC day of its cut-off, to midnight after it.
    closed_until = (dt.datetime.combine(max(forgets).astimezone(UTC).date() + dt.timedelta(days=1), dt.time(0), UTC)
                    if forgets else None)
    async_addresses = {e.email for e in events if e.async_bounce}
    earliest = {}
    for e in events:
        r = recipient_of(e)
        earliest[r] = min(earliest.get(r, e.at), e.at)
    for s in sends:
        for email in s.addresses:
            r = (s.message, email)
            earliest[r] = min(earliest.get(r, s.at), s.at)

    def recipient_sensitive(r, email):
        if email in async_addresses:
            return True
        return closed_until is not None and earliest[r] < closed_until

    event_sensitive = {}
    for e in events:
        event_sensitive[e.index] = (e.async_bounce or (latest_drop is not None and e.at < latest_drop)
                                    or recipient_sensitive(recipient_of(e), e.email))
    send_sensitive = {s.index: any(recipient_sensitive((s.message, email), email) for email in s.addresses) for s in sends}
    return event_sensitive, send_sensitive


BURST_LEAST_EVENTS = 2002     # a burst needs a bulk that makes at least two posts of more than 1,000


def burst_posts(seed, bulk, clients, phases):
    """The bulk posted as a burst: 2 to 4 posts (no more than the clients), one per client, that
    start together. The recipients in key order (how ingest sorts a post's events) are cut into
    consecutive ranges, one per post, that overlap where two meet: each event there goes to
    either post. So each post holds the recipients of its range, the posts of neighbouring
    ranges share recipients, and every post shares the day and status counters with the
    others; a post of more than 1,000 events is stored in several statements, the later ones
    holding the upper end of its range, where the next post's range starts. The cut points, the
    overlaps, the entry points, the clients and the phase come from seed."""
    rnd = random.Random(seed)
    ordered = sorted(bulk, key=lambda e: (e.message, e.email, e.index))
    n = len(ordered)
    k = rnd.randint(2, max(2, min(4, clients, n // 1001)))
    cuts = [0] + [j * n // k + rnd.randint(-n // (4 * k), n // (4 * k)) for j in range(1, k)] + [n]
    overlaps = [0] + [rnd.randint(0, n // (4 * k)) for _ in range(1, k)] + [0]
    members = [[] for _ in range(k)]
    post = 0
    for position, e in enumerate(ordered):
        while post + 1 < k and position >= cuts[post + 1] + overlaps[post + 1]:
            post += 1
        shared = post + 1 < k and position >= cuts[post + 1] - overlaps[post + 1]
        members[post + 1 if shared and rnd.random() < 0.5 else post].append(e.index)
    phase = rnd.randint(0, phases)
    # Before every other op of their clients in that phase (a negative order).
    return [Post(rnd.sample(m, len(m)), rnd.choice(["jsonb", "raw"]), client, phase, rnd.randint(-1000, -1), burst=True)
            for m, client in zip(members, rnd.sample(range(clients), k)) if m]


def barrier_strategy(clock):
    return st.one_of(
        st.builds(lambda m, d: Barrier("drop", clock.months[m], d), st.integers(1, 2), st.integers(0, 50)),
        st.builds(lambda a, o, d: Barrier("forget", clock.at(a, o), d), st.integers(0, 2),
                  st.sampled_from([0, DAY, 9 * DAY + 600, 20 * DAY]), st.integers(0, 50)))


@st.composite
def cases(draw, clock, max_bulk=4500, min_bulk=0, fresh_tables=True, barriers=True, categories=True, min_clients=1,
          burst="sometimes"):
    """A whole case: events, sends, barriers, posts with their clients and phases. fresh: the
    event table has no partition yet (the first ingest and create_event_partitions make the
    default one), or it has its default partition, as after the first ingest. burst (never,
    sometimes, always): whether a bulk of more than 2,000 events, in a case of several
    clients, is posted as a burst (burst_posts) rather than split at random."""
    fresh = draw(st.booleans()) if fresh_tables else False
    clients = draw(st.integers(min_clients, max(4, min_clients)))
    n_explicit = draw(st.integers(1, 24))
    events = [draw(explicit_event(clock, k)) for k in range(n_explicit)]
    # Copies of drawn events posted again as separate elements in the same or another post
    # (SendGrid's retries) come from the posts; an element duplicated within a post, here.
    if min_bulk > 0:
        bulk_count = draw(st.integers(min_bulk, max(min_bulk, max_bulk)))
    else:
        bulk_count = draw(st.one_of(st.just(0), st.just(0), st.integers(1, max_bulk))) if max_bulk > 0 else 0
    bulk_seed = draw(st.integers(0, 2 ** 31))
    events += bulk_events(bulk_seed, bulk_count, clock, len(events))
    if not categories:
        for e in events:
            e.body.pop("category", None)

    barriers = draw(st.lists(barrier_strategy(clock), max_size=2 if barriers else 0))
    free_maintenance = draw(st.lists(st.one_of(
        st.tuples(st.just("create_event_partitions"), st.integers(0, 3)),
        st.tuples(st.just("forget_status_changes"), st.just(0))), max_size=3))
    phases = len(barriers)

    sends = []
    for i in range(draw(st.integers(0, 4))):
        c = Chooser(draw=draw)
        message = c.choice(MESSAGES)
        addresses = draw(st.lists(st.sampled_from(EMAILS), min_size=1, max_size=3, unique=True))
        args = {}
        if c.chance(0.6):
            args = {k: c.choice(CUSTOM_VALUES) for k in CUSTOM_KEYS if c.chance(0.6)}
        t = dt.datetime.fromtimestamp(event_time_ms(c, clock) // 1000, UTC)
        s = Send(i, message, [email_form(c, a) if c.chance(0.3) else a for a in addresses], addresses, args, t)
        s.phase = draw(st.integers(-1, phases))
        s.client = draw(st.integers(0, clients - 1))
        sends.append(s)

    # Posts of the explicit events: each event in one post (more for a few), then re-posts.
    n_posts = draw(st.integers(1, max(1, n_explicit)))
    membership = [[] for _ in range(n_posts)]
    for e in events[:n_explicit]:
        membership[draw(st.integers(0, n_posts - 1))].append(e.index)
        if draw(st.integers(0, 9)) == 0:
            membership[draw(st.integers(0, n_posts - 1))].append(e.index)
    posts = []
    order = 0
    for members in membership:
        if not members:
            continue
        members = draw(st.permutations(members))
        for _ in range(1 + (draw(st.integers(0, 4)) == 0)):   # a retry of the whole post, now and then
            posts.append(Post(list(members), draw(st.sampled_from(["jsonb", "raw"])),
                              draw(st.integers(0, clients - 1)), draw(st.integers(0, phases)), draw(st.integers(0, 1000))))
    # The bulk: posts of 1 to 2,000 events (often more than 1,000), some posted twice.
    rnd = random.Random(bulk_seed + 1)
    bulk = [e.index for e in events[n_explicit:]]
    rnd.shuffle(bulk)
    i = 0
    while i < len(bulk):
        size = rnd.choice([rnd.randint(1, 200), rnd.randint(1001, 1500), rnd.randint(1001, 2000)])
        members = bulk[i:i + size]
        i += size
        for _ in range(1 + (rnd.random() < 0.25)):
            posts.append(Post(members, rnd.choice(["jsonb", "raw"]), rnd.randrange(clients),
                              rnd.randint(0, phases), rnd.randint(0, 1000)))

    # Free or phased: a post is free when no barrier can treat its events differently.
    event_sensitive, send_sensitive = sensitivity(events, sends, barriers)
    for p in posts:
        if not any(event_sensitive[i] for i in p.events) and draw(st.booleans()):
            p.free = True
    for s in sends:
        if not send_sensitive[s.index] and s.phase >= 0 and draw(st.booleans()):
            s.free = True

    # A send in an async bounce's 72-hour window is never in the phase of the bounce's first
    # post (which of the two came first would decide the attribution): it moves to before
    # all traffic.
    first_phase = {}
    for p in posts:
        for i in p.events:
            first_phase[i] = min(first_phase.get(i, phases + 1), p.phase)
    for e in events:
        if not e.async_bounce:
            continue
        for s in sends:
            if e.email in s.addresses and e.at - dt.timedelta(seconds=ASYNC_WINDOW) < s.at <= e.at:
                if s.free or s.phase == first_phase.get(e.index):
                    s.free, s.phase = False, -1
    # A burst is drawn last, so the draws before it, the rest of the case, are as without
    # bursts. Its posts are phased (the bulk holds no async bounce: no send moves for them).
    if bulk_count >= BURST_LEAST_EVENTS and clients > 1 and burst != "never":
        if burst == "always" or draw(st.booleans()):
            posts = [p for p in posts if p.events[0] < n_explicit] + burst_posts(bulk_seed + 2, events[n_explicit:],
                                                                                  clients, phases)
    # Landing mode: some clients post in landing mode (their posts flush when due, a quarter
    # of them flush right after), the others directly; the run ends with a flush. Chosen
    # with the bulk's seed, not drawn: Hypothesis draws a round's examples from one stream,
    # so a draw here would change the cases of every later example of a seed.
    rnd = random.Random(bulk_seed + 3)
    landing = frozenset(c for c in range(clients) if rnd.random() < 0.5)
    for p in posts:
        p.flush = p.client in landing and rnd.random() < 0.25
    case = Case(clock, events, sends, posts, barriers, free_maintenance, clients, (bulk_count, bulk_seed), landing)
    case.fresh = fresh
    return case
