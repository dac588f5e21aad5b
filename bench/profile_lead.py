"""Profile of routing: every SQL query (for one lead, then a full batch) with the app function that issued it, then a
cProfile of many leads.

    .venv/bin/python bench/profile_lead.py [--leads 500] [--quick]

Same org as throughput.py (10 reps, one round-robin rule). Routing runs in this process
(routing.services.route_pending_leads), so the figures exclude RQ and worker start-up.
Baseline printed alongside: the raw-SQL floor's 11 statements per lead (bench/_floor.py).
"""

import argparse
import cProfile
import io
import pstats
import time
import traceback
from collections import Counter

import _common as bench

FLOOR_STATEMENTS_PER_LEAD = 11  # 10 statements + COMMIT, see bench/_floor.py
APP_DIRS = ("/routing/", "/leads/", "/reps/")


def app_frame():
    """The innermost frame of app code (routing/, leads/, reps/) on the stack: who issued the query."""
    for frame in reversed(traceback.extract_stack()[:-2]):
        if "/.venv/" not in frame.filename and any(d in frame.filename for d in APP_DIRS):
            return f"{frame.filename.split(str(bench.ROOT) + '/')[-1]}:{frame.lineno} {frame.name}"
    return "?"


class QueryLog:
    def __init__(self):
        self.queries = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append(((time.perf_counter() - started) * 1000, app_frame(), sql))


def profile_leads(count):
    """Every query of routing `count` waiting leads in one call (one transaction when count <= the batch size)."""
    from django.db import connection

    from routing.services import route_pending_leads

    bench.insert_leads(count, start=10_000 + count, wake=False)
    log = QueryLog()
    started = time.perf_counter()
    with connection.execute_wrapper(log):
        assert route_pending_leads(limit=count) == count
    elapsed = (time.perf_counter() - started) * 1000
    print(f"\n{count} lead(s) in one transaction (warm ruleset cache): {len(log.queries)} queries "
          f"({len(log.queries) / count:.2f} per lead), {elapsed:.1f} ms wall, "
          f"{sum(q[0] for q in log.queries):.1f} ms in the database driver")
    print(f"Raw-SQL floor, one lead per transaction: {FLOOR_STATEMENTS_PER_LEAD} statements per lead "
          f"-> app/floor = {len(log.queries) / count / FLOOR_STATEMENTS_PER_LEAD:.2f}x")
    for number, (ms, where, sql) in enumerate(log.queries, 1):
        short = " ".join(sql.split())
        short = short if len(short) <= 110 else short[:107] + "..."
        print(f"{number:>3} {ms:6.2f} ms  {where:<52} {short}")
    by_function = Counter(where.split(" ", 1)[1] for _, where, _ in log.queries)
    print("Queries by function:", ", ".join(f"{name} {n}" for name, n in by_function.most_common()))
    return log.queries


def profile_many(leads):
    from routing.services import route_pending_leads

    bench.insert_leads(leads, start=20_000, wake=False)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    routed = route_pending_leads(limit=leads)
    profiler.disable()
    elapsed = time.perf_counter() - started
    print(f"\n{routed} leads routed in-process (no RQ): {routed / elapsed:.1f} leads/s, "
          f"{elapsed / routed * 1000:.2f} ms per lead (under cProfile, which adds overhead)")
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.sort_stats("cumulative").print_stats(r"(routing|leads|reps)/[a-z_]+\.py", 30)
    print(stream.getvalue()[-9000:])


def time_without_profiler(leads):
    from routing.services import route_pending_leads

    bench.insert_leads(leads, start=40_000, wake=False)
    started = time.perf_counter()
    routed = route_pending_leads(limit=leads)
    elapsed = time.perf_counter() - started
    print(f"{routed} leads routed in-process without profiler: {routed / elapsed:.1f} leads/s "
          f"({elapsed / routed * 1000:.2f} ms per lead)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=500)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    leads = 100 if args.quick else args.leads
    bench.setup_django()
    bench.reset_data()
    bench.create_round_robin_org(10)
    from routing.services import route_pending_leads

    bench.insert_leads(5, wake=False)
    route_pending_leads(limit=5)  # compiles the rules and creates rotation state, as a worker's first job does
    from django.conf import settings

    profile_leads(1)
    profile_leads(settings.ROUTING_LEADS_PER_TRANSACTION)
    time_without_profiler(leads)
    profile_many(leads)
    bench.reset_data()


if __name__ == "__main__":
    main()
