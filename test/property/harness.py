#!/usr/bin/python3
"""The property harness of mailstatus (docs/tests.md, "Property harness").

  harness.py [--property state|roundtrip|all] [--seed N] [--examples N] [--seconds N]

Runs against the server in PGHOST/PGPORT/PGUSER, where the mailstatus extension is
installed (test/property/run.sh starts a throwaway one). Each property runs rounds of
--examples Hypothesis examples, each round from a seed it prints, until --seconds have
passed (at least one round); --seed N runs the one round of that seed, and so reproduces a
failure (with the same --examples). A failing example is shrunk to the fewest events and
posts that still fail, and printed with its seed. Prints one line per property,
"test property_state ... ok" or "... FAILED".

Copyright (c) 2026, the mailstatus developers. PostgreSQL License: see LICENSE.
"""
import argparse
import os
import random
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import psycopg  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import seed as hypothesis_seed  # noqa: E402
from hypothesis.errors import Flaky  # noqa: E402

import roundtrip_property  # noqa: E402
import state_property  # noqa: E402
import traffic  # noqa: E402

TEMPLATE = "mailstatus_property_template"
RESET = """
DO $$
DECLARE
    part regclass;
BEGIN
    FOR part IN SELECT i.inhrelid::regclass FROM pg_inherits i WHERE i.inhparent = 'mailstatus.event'::regclass LOOP
        EXECUTE format('DROP TABLE %s', part);
    END LOOP;
    EXECUTE (SELECT 'TRUNCATE ' || string_agg(format('%I.%I', t.schemaname, t.tablename), ', ') || ' RESTART IDENTITY'
               FROM pg_tables t WHERE t.schemaname = 'mailstatus');
END $$"""


class Server:
    """The server under test: a template database with the extension, copied per example."""

    def __init__(self):
        self.conninfo = ""
        with psycopg.connect(self.conninfo, dbname="postgres", autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS %s WITH (FORCE)" % TEMPLATE)
            conn.execute("CREATE DATABASE %s" % TEMPLATE)
        with psycopg.connect(self.conninfo, dbname=TEMPLATE, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION mailstatus")
            self.version = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'mailstatus'").fetchone()[0]
        self.made = set()

    def fresh_database(self, name):
        """A database with the extension and no data: made from the template the first time,
        emptied afterwards (every monthly and default partition dropped, every table of the
        extension truncated), which is twice as fast."""
        if name not in self.made:
            with psycopg.connect(self.conninfo, dbname="postgres", autocommit=True) as conn:
                conn.execute("DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)
                conn.execute("CREATE DATABASE %s TEMPLATE %s" % (name, TEMPLATE))
            self.made.add(name)
            return name
        with psycopg.connect(self.conninfo, dbname=name, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = current_database() AND pid <> pg_backend_pid()")
            conn.execute(RESET)
        return name

    def drop_all(self):
        with psycopg.connect(self.conninfo, dbname="postgres", autocommit=True) as conn:
            for name in sorted(self.made) + [TEMPLATE]:
                conn.execute("DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)


class Failure:
    """The last example that failed, kept for the report (a concurrent failure may not fail
    again when Hypothesis replays it; while shrinking, the last failure is the smallest)."""
    case = None
    message = None
    kind = None                # the kind of failure the round shrinks (state_property.KINDS)
    others = {}                # failures of other kinds met meanwhile: kind -> message
    shrink_deadline = None     # once a failure is found: when to stop shrinking it


def out_of_time():
    """Whether shrinking has had its time: every later example then passes without running,
    which ends the shrinking with the smallest failure found so far."""
    if Failure.case is None:
        return False
    if Failure.shrink_deadline is None:
        Failure.shrink_deadline = time.monotonic() + Failure.shrink_seconds
    return time.monotonic() > Failure.shrink_deadline


def hypothesis_settings(examples):
    return settings(max_examples=examples, deadline=None, database=None, derandomize=False,
                    report_multiple_bugs=False, print_blob=False,
                    phases=(Phase.explicit, Phase.generate, Phase.shrink),
                    suppress_health_check=list(HealthCheck))


def state_test(server, clock, examples, seed, args):
    @hypothesis_seed(seed)
    @hypothesis_settings(examples)
    @given(case=traffic.cases(clock, max_bulk=args.max_bulk, min_bulk=args.min_bulk, fresh_tables=not args.no_fresh_tables,
                              barriers=not args.no_barriers, categories=not args.no_categories, min_clients=args.min_clients,
                              burst=args.burst))
    def property_state(case):
        if out_of_time():
            return
        try:
            # Shrinking a deadlock: only the run under test can deadlock, the oracle is not needed.
            state_property.check_case(case, server, run_only=Failure.kind == "deadlock")
        except state_property.HarnessFailure as e:
            # A round shrinks the kind of failure it met first: an example failing otherwise
            # only is noted, and passes (shrinking would wander from one defect to another).
            if Failure.kind is None:
                Failure.kind = e.kinds[0]
            if Failure.kind not in e.kinds:
                Failure.others.setdefault(e.kinds[0], "%r\n%s" % (case, e))
                return
            Failure.case, Failure.message = case, str(e)
            raise
    return property_state


def roundtrip_test(server, examples, seed):
    db = server.fresh_database("prop_roundtrip")
    conn = psycopg.connect(server.conninfo, dbname=db, autocommit=True)

    @hypothesis_seed(seed)
    @hypothesis_settings(examples)
    @given(batch=roundtrip_property.batches(), path=roundtrip_property.st.sampled_from(["jsonb", "raw"]))
    def property_roundtrip(batch, path):
        if out_of_time():
            return
        items, style = batch
        conn.execute("TRUNCATE mailstatus.event, mailstatus.rejected_event")
        try:
            roundtrip_property.check_batch(conn, items, style, path)
        except state_property.HarnessFailure as e:
            Failure.case, Failure.message = (path, items, style), str(e)
            raise
    return property_roundtrip


def run_round(name, test, seed, examples):
    """One round of a property from a seed; True when it held."""
    Failure.case = Failure.message = Failure.shrink_deadline = Failure.kind = None
    Failure.others = {}
    started = time.monotonic()
    try:
        test()
    except (state_property.HarnessFailure, Flaky, AssertionError, psycopg.Error, Exception) as e:
        print("== %s FAILED with seed %d (rerun: test/property/run.sh --property %s --seed %d --examples %d)"
              % (name, seed, name.replace("property_", ""), seed, examples))
        if isinstance(e, Flaky) and Failure.shrink_deadline and time.monotonic() > Failure.shrink_deadline:
            print("   (shrinking stopped after %d s: the smallest failure found is below)" % Failure.shrink_seconds)
        elif isinstance(e, Flaky):
            print("   (the failure did not repeat when Hypothesis replayed it: a race; the last failing example is below)")
        if Failure.message and name == "property_state" and Failure.minimize_seconds > 0:
            print("   (Hypothesis' shrinking done; the harness' own pass over the case, %d s at most)" % Failure.minimize_seconds)
            sys.stdout.flush()
            case, message = state_property.minimize(Failure.case, Failure.server, Failure.kind, Failure.minimize_seconds)
            if message:
                Failure.case, Failure.message = case, message
        if Failure.message:
            print("-- minimal failing example%s:\n%r\n-- what failed:\n%s" % (
                " (%s)" % Failure.kind if Failure.kind else "", Failure.case, Failure.message))
        else:
            traceback.print_exc(file=sys.stdout)
        for kind, message in Failure.others.items():
            print("-- also met, a failure of another kind (%s), not shrunk:\n%s" % (kind, message))
        sys.stdout.flush()
        return False
    print("   %s: seed %d, %d examples, %.1f s: ok" % (name, seed, examples, time.monotonic() - started))
    sys.stdout.flush()
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--property", choices=["state", "roundtrip", "all"], default="all")
    parser.add_argument("--seed", type=int, help="run the one round of this seed")
    parser.add_argument("--examples", type=int, default=None, help="examples per round (state 8, roundtrip 200)")
    parser.add_argument("--seconds", type=float, default=0, help="keep running rounds for this long")
    parser.add_argument("--max-bulk", type=int, default=4500, help="most bulk events in a case")
    parser.add_argument("--min-bulk", type=int, default=0, help="fewest bulk events in a case")
    parser.add_argument("--no-barriers", action="store_true",
                        help="no drop_event_partitions or forget_recipients (looks past their failures)")
    parser.add_argument("--min-clients", type=int, default=1, help="fewest concurrent clients in a case")
    parser.add_argument("--burst", choices=["never", "sometimes", "always"], default="sometimes",
                        help="post a bulk of more than 2,000 events as a burst of posts that start together, "
                             "of overlapping ranges of recipients (sometimes: as Hypothesis draws)")
    parser.add_argument("--no-categories", action="store_true",
                        help="events without categories (looks past a failure of the category counters)")
    parser.add_argument("--no-fresh-tables", action="store_true",
                        help="every case starts with the default partition made (looks past a failure of the first ingest)")
    parser.add_argument("--keep-going", action="store_true", help="after a failing round, go on with other seeds")
    parser.add_argument("--minimize-seconds", type=float, default=180,
                        help="how long the harness' own pass may minimize a failing case after Hypothesis")
    parser.add_argument("--shrink-seconds", type=float, default=300, help="how long to shrink a failure")
    args = parser.parse_args()
    Failure.shrink_seconds = args.shrink_seconds
    Failure.minimize_seconds = args.minimize_seconds

    server = Server()
    Failure.server = server
    print("== property harness against mailstatus %s" % server.version)
    clock = traffic.Clock()
    names = ["state", "roundtrip"] if args.property == "all" else [args.property]
    deadline = time.monotonic() + args.seconds
    ok = True
    try:
        for name in names:
            examples = args.examples or {"state": 8, "roundtrip": 200}[name]
            held = True
            rounds = 0
            share = deadline if name == names[-1] else time.monotonic() + args.seconds / len(names)
            while True:
                seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2 ** 32)
                if name == "state":
                    test = state_test(server, clock, examples, seed, args)
                else:
                    test = roundtrip_test(server, examples, seed)
                held = run_round("property_" + name, test, seed, examples) and held
                rounds += 1
                if args.seed is not None or (not held and not args.keep_going) or time.monotonic() >= share:
                    break
            print("test property_%-21s ... %s" % (name, "ok" if held else "FAILED"))
            sys.stdout.flush()
            ok = ok and held
    finally:
        server.drop_all()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
