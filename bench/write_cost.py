"""What a lead costs the database to write, counted rather than timed: WAL bytes per relation, rows, HOT updates, triggers.

    .venv/bin/python bench/write_cost.py [--leads 200] [--explain-leads 20] [--quick]

The latency and throughput figures are wall-clock times on a shared machine; these are counts
that do not depend on the load, so two commits can be compared on a busy machine.
Same org as latency.py (10 reps, one round-robin rule, empty history). Three phases, in process:

1. intake: `Lead.objects.create`, one lead per transaction (as latency.py's producer);
2. routing, one lead per transaction (`route_pending_leads(limit=1)`, what a worker woken per lead does);
3. routing in batches of ROUTING_LEADS_PER_TRANSACTION (what throughput.py's workers do).

Per phase and lead: the WAL this database's relations received (read back with pg_walinspect from the
phase's LSN window: every record whose block belongs to this database, plus those transactions' commit
records), split by relation; rows inserted / updated / HOT-updated per table (pg_stat_user_tables); the
queries sent. Then a few more leads with each INSERT/UPDATE/DELETE first run under
EXPLAIN (ANALYZE, BUFFERS, WAL) in a savepoint that is rolled back: per statement, the buffers it
dirtied, its WAL, and the time and calls of every trigger it fired.
WAL includes full-page images after a checkpoint (reported apart as `fpi`): compare `bytes - fpi`.
Needs a superuser connection (pg_walinspect reads the server's WAL files) and PostgreSQL on this machine
(the backend's CPU is read from /proc).
"""

import argparse
import json
import os
import re
import time
from collections import Counter, defaultdict

import _common as bench

BLOCK_REF = re.compile(r"rel (\d+)/(\d+)/(\d+)")
WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


def _sql(cursor, query, params=None):
    cursor.execute(query, params)
    return cursor.fetchall()


def _lsn(cursor):
    # The flushed position: pg_walinspect reads no further, and our commits (synchronous) are flushed when they return.
    return _sql(cursor, "SELECT pg_current_wal_flush_lsn()")[0][0]


def _table_stats(cursor):
    # Our own backend's counters reach the shared statistics when it next goes idle; force that, then re-read.
    _sql(cursor, "SELECT pg_stat_force_next_flush()")
    _sql(cursor, "SELECT pg_stat_clear_snapshot()")
    rows = _sql(cursor, "SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del FROM pg_stat_user_tables")
    return {name: (ins, upd, hot, dele) for name, ins, upd, hot, dele in rows}


def _wal_by_relation(cursor, start, end):
    """{relation: [records, bytes, fpi bytes]} of this database's WAL between two LSNs, and the commits."""
    database_oid = _sql(cursor, "SELECT oid FROM pg_database WHERE datname = current_database()")[0][0]
    records = _sql(cursor, "SELECT xid, resource_manager, record_length, fpi_length, block_ref "
                           "FROM pg_get_wal_records_info(%s, %s)", [start, end])
    names = {}
    per_relation = defaultdict(lambda: [0, 0, 0])
    ours = set()
    for xid, _manager, length, fpi, block_ref in records:
        match = BLOCK_REF.search(block_ref or "")
        if not match or int(match.group(2)) != database_oid:
            continue
        if xid:
            ours.add(xid)
        filenode = int(match.group(3))
        if filenode not in names:
            found = _sql(cursor, "SELECT pg_filenode_relation(0, %s)::text", [filenode])[0][0]
            names[filenode] = found or f"filenode {filenode}"
        entry = per_relation[names[filenode]]
        entry[0] += 1
        entry[1] += length
        entry[2] += fpi
    for xid, manager, length, fpi, block_ref in records:
        if xid in ours and not BLOCK_REF.search(block_ref or ""):
            entry = per_relation[f"({manager} records)"]
            entry[0] += 1
            entry[1] += length
            entry[2] += fpi
    return per_relation


def _backend_cpu_seconds(pid):
    """CPU time of this connection's PostgreSQL process: unlike wall time, it hardly moves with the machine's load."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class QueryCount:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def measure(name, steps):
    """Runs each step (a callable writing `leads` leads) and prints what they wrote, per lead.

    The WAL is read back right after each step: other databases of the cluster write too, and a checkpoint
    may recycle a segment before a long window is read (a step whose WAL is gone is not counted).
    """
    from django.db import OperationalError, connection

    with connection.cursor() as cursor:
        before_stats = _table_stats(cursor)
        pid = _sql(cursor, "SELECT pg_backend_pid()")[0][0]
    backend_cpu = client_cpu = 0.0
    queries = QueryCount()
    wal = defaultdict(lambda: [0, 0, 0])
    leads = lost = 0
    for step, step_leads in steps:
        with connection.cursor() as cursor:
            start = _lsn(cursor)
        started_backend, started_client = _backend_cpu_seconds(pid), time.process_time()
        with connection.execute_wrapper(queries):
            step()
        backend_cpu += _backend_cpu_seconds(pid) - started_backend
        client_cpu += time.process_time() - started_client
        with connection.cursor() as cursor:
            try:
                for relation, values in _wal_by_relation(cursor, start, _lsn(cursor)).items():
                    wal[relation] = [a + b for a, b in zip(wal[relation], values)]
                leads += step_leads
            except OperationalError:
                lost += step_leads
    with connection.cursor() as cursor:
        after_stats = _table_stats(cursor)
    total = [sum(v[i] for v in wal.values()) for i in range(3)]
    all_leads = leads + lost
    print(f"\n## {name}: {all_leads} leads, {queries.count / all_leads:.2f} queries per lead"
          + (f" (WAL of {lost} leads recycled before it was read: not counted)" if lost else ""))
    print(f"CPU per lead: PostgreSQL backend {backend_cpu / all_leads * 1e6:,.0f} us, "
          f"this process {client_cpu / all_leads * 1e6:,.0f} us")
    print(f"WAL per lead: {total[0] / leads:.1f} records, {total[1] / leads:,.0f} bytes "
          f"({total[2] / leads:,.0f} of them full-page images; {(total[1] - total[2]) / leads:,.0f} without)")
    print(f"{'relation':<48} {'records':>8} {'bytes':>9} {'fpi':>8}   (per lead)")
    for relation, (count, length, fpi) in sorted(wal.items(), key=lambda item: -(item[1][1] - item[1][2])):
        print(f"{relation:<48} {count / leads:8.2f} {length / leads:9.0f} {fpi / leads:8.0f}")
    print(f"{'table':<36} {'inserted':>9} {'updated':>8} {'HOT':>6} {'deleted':>8}   (per lead)")
    for table in sorted(after_stats):
        delta = [a - b for a, b in zip(after_stats[table], before_stats.get(table, (0, 0, 0, 0)))]
        if any(delta):
            print(f"{table:<36} {delta[0] / all_leads:9.2f} {delta[1] / all_leads:8.2f} {delta[2] / all_leads:6.2f} "
                  f"{delta[3] / all_leads:8.2f}")


class ExplainWrites:
    """Runs each write first under EXPLAIN (ANALYZE, BUFFERS, WAL) in a savepoint it rolls back, then for real."""

    def __init__(self):
        self.statements = defaultdict(lambda: {"n": 0, "dirtied": 0, "wal_bytes": 0, "wal_fpi": 0, "ms": 0.0,
                                               "triggers": Counter(), "trigger_calls": Counter()})

    def __call__(self, execute, sql, params, many, context):
        verb = WRITE.match(sql)
        if verb and not many:
            table = re.search(r'(?:INTO|UPDATE|FROM)\s+"?(\w+)"?', sql, re.IGNORECASE).group(1)
            key = f"{verb.group(1).upper()} {table}"
            cursor = context["cursor"]
            cursor.execute("SAVEPOINT write_cost")
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, WAL, FORMAT JSON) " + sql, params)
            plan = cursor.fetchone()[0]
            cursor.execute("ROLLBACK TO SAVEPOINT write_cost")
            plan = (json.loads(plan) if isinstance(plan, str) else plan)[0]
            stats = self.statements[key]
            stats["n"] += 1
            top = plan["Plan"]
            stats["dirtied"] += top.get("Shared Dirtied Blocks", 0)
            stats["wal_bytes"] += top.get("WAL Bytes", 0)
            stats["wal_fpi"] += top.get("WAL FPI", 0)
            stats["ms"] += plan.get("Execution Time", 0.0)
            for trigger in plan.get("Triggers", []):
                stats["triggers"][trigger["Trigger Name"]] += trigger["Time"]
                stats["trigger_calls"][trigger["Trigger Name"]] += trigger["Calls"]
        return execute(sql, params, many, context)

    def report(self, leads):
        print(f"\n## Each write under EXPLAIN (ANALYZE, BUFFERS, WAL), {leads} leads (per lead; time is noisy, counts are not)")
        for key, stats in sorted(self.statements.items()):
            print(f"{key:<40} statements {stats['n'] / leads:4.2f}  dirtied {stats['dirtied'] / leads:5.1f}  "
                  f"WAL {stats['wal_bytes'] / leads:7.0f} B (fpi {stats['wal_fpi'] / leads:4.1f})  "
                  f"{stats['ms'] / leads:6.3f} ms")
            for trigger, ms in stats["triggers"].most_common():
                print(f"    trigger {trigger:<44} calls {stats['trigger_calls'][trigger] / leads:5.2f}  "
                      f"{ms / leads:6.3f} ms")


def create_leads(count, start):
    from leads.models import Lead

    for number in range(start, start + count):
        Lead.objects.create(email=f"paced{number}@latency.example", country="DE", industry="Software",
                            employee_count=250, score=50, source="web")


def route_one_by_one(count):
    from routing.services import route_pending_leads

    for _ in range(count):
        assert route_pending_leads(limit=1) == 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=200)
    parser.add_argument("--explain-leads", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="50 leads, 5 under EXPLAIN")
    args = parser.parse_args()
    if args.quick:
        args.leads, args.explain_leads = 50, 5
    bench.setup_django()
    bench.reset_data()
    bench.create_round_robin_org(10)
    from django.conf import settings
    from django.db import connection, transaction
    from django.db.models.signals import post_save

    from leads.models import Lead
    from routing.services import route_pending_leads

    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
    # No workers here: the wake-up the signal registers would only queue jobs in Redis.
    post_save.disconnect(sender=Lead, dispatch_uid="routing_wake_on_new_lead")
    create_leads(5, 0)
    route_pending_leads(limit=5)  # compiles the rules and creates the rotation states, as a worker's first job does
    leads = args.leads
    measure("intake, one lead per transaction",
            [(lambda number=number: create_leads(1, 1_000 + number), 1) for number in range(leads)])
    measure("routing, one lead per transaction", [(lambda: route_one_by_one(1), 1)] * leads)
    size = settings.ROUTING_LEADS_PER_TRANSACTION
    create_leads(leads, 10_000)
    measure(f"routing, {size} leads per transaction",
            [(lambda: route_pending_leads(limit=size), size)] * (leads // size))

    explain = ExplainWrites()
    with connection.execute_wrapper(explain):
        for number in range(args.explain_leads):
            with transaction.atomic():
                create_leads(1, 20_000 + number)
            route_one_by_one(1)
    explain.report(args.explain_leads)
    bench.reset_data()


if __name__ == "__main__":
    main()
