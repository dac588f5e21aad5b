"""Issue 14's table: every page and routing itself on a year of a mid-size organisation, against the targets.

    .venv/bin/python bench/organisation_scale.py [--leads 1000000] [--quick] [--rounds 3] [--explain]
                                                 [--pages-only | --throughput-only] [--rebuild]

Databases (BENCH_DATABASE_URL, default lr_bench_org; the empty twin BENCH_EMPTY_DATABASE_URL, default the
same name + `_empty`; both must start with lr_bench): built once by bench/organisation.py's generator and
kept; each run applies pending migrations first (timed). --rebuild builds them again. --quick: 20,000 leads
(its own databases, `lr_bench_org_quick`), 300 leads per throughput run, 1 round.

Pages: Django test Client in this process, logged in as the sales manager of every team, the manager of one
team (scoped lists), the rep with ~3,000 open leads, or a superuser (the admin), as the page requires; server time = the request through the
whole response (a streamed body read to its end), p50 of --rounds; queries counted on the last round.
Routing: real RQ worker (1), leads like the year's (copies of the 500 profiles) inserted in transactions of
100 as in throughput.py, on the big database and on the empty twin (same organisation); then the raw-SQL
floor (bench/_floor.py, rules mode: the same 50 rules evaluated in Python, the app's reads per rule
per batch, multi-row writes) on the empty twin. The leads a throughput run adds are deleted after it.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUICK_LEADS = 20_000
# Leads routed before a throughput run's clock starts: the worker's first batches compile the rules, create the
# rotation state and fill its caches, once per process (two batches of 50).
WARM_UP_LEADS = 100
TARGET_MS = 200


def _settings(quick):
    default = "lr_bench_org_quick" if quick else "lr_bench_org"
    os.environ.setdefault("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{default}")
    os.environ.setdefault("BENCH_EMPTY_DATABASE_URL", os.environ["BENCH_DATABASE_URL"].split("?", 1)[0] + "_empty")


def _parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the slowest queries of a page over target")
    parser.add_argument("--pages-only", action="store_true")
    parser.add_argument("--throughput-only", action="store_true")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--statement-timeout", type=float, default=0,
                        help="seconds: a page whose query runs longer is reported as '> N s' (FAIL); 0: no limit")
    parser.add_argument("--route-leads", type=int, default=3000, help="leads per throughput run")
    parser.add_argument("--throughput-rounds", type=int, default=None,
                        help="rounds of (big database, empty database, floor) in a rotating order, the ratios' median"
                             " reported (default 3; 1 with --quick)")
    parser.add_argument("--only", action="append", default=[], metavar="WORDS",
                        help="measure only the rows whose name contains WORDS (repeatable), e.g. --only experiment")
    parser.add_argument("--measure", choices=["app", "floor"], help=argparse.SUPPRESS)  # the child process's mode
    args = parser.parse_args()
    if args.quick:
        args.leads = QUICK_LEADS if args.leads == 1_000_000 else args.leads
        args.rounds = 1 if args.rounds == 3 else args.rounds
        args.route_leads = 300 if args.route_leads == 3000 else args.route_leads
    if args.throughput_rounds is None:
        args.throughput_rounds = 1 if args.quick else 3
    return args


ARGS = _parse()
_settings(ARGS.quick)
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as bench  # noqa: E402  (pins the environment before Django loads)
import organisation  # noqa: E402
from django.db import OperationalError  # noqa: E402

EMPTY_URL = os.environ["BENCH_EMPTY_DATABASE_URL"]
bench.OWN_DATABASE_URLS.append(EMPTY_URL)


# --- pages ------------------------------------------------------------------------------------------

class Row:
    def __init__(self, name, target, value="n/a", queries="", ok=None, note=""):
        self.name, self.target, self.value, self.queries, self.ok, self.note = name, target, value, queries, ok, note

    def line(self):
        verdict = "" if self.ok is None else bench.verdict(self.ok)
        return f"| {self.name} | {self.value} | {self.queries} | {self.target} | {verdict} | {self.note} |"


def _timed_get(client, url):
    """(ms to the first byte, ms to the last, status, bytes, streamed): the response is consumed like a browser would."""
    started = time.perf_counter()
    response = client.get(url)
    if response.streaming:
        chunks = iter(response.streaming_content)
        size = 0
        first_ms = None
        for chunk in chunks:
            if first_ms is None:
                first_ms = (time.perf_counter() - started) * 1000
            size += len(chunk)
        whole_ms = (time.perf_counter() - started) * 1000
        return first_ms or whole_ms, whole_ms, response.status_code, size, True
    whole_ms = (time.perf_counter() - started) * 1000
    return whole_ms, whole_ms, response.status_code, len(response.content), False


def measure_page(client, url, rounds, *, explain=False):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if rounds > 1:
        _timed_get(client, url)  # warm-up, not counted: templates, translations and the connection are loaded once
    firsts, wholes = [], []
    for n in range(rounds):
        if n == rounds - 1:
            with CaptureQueriesContext(connection) as captured:
                first, whole, status, size, streamed = _timed_get(client, url)
        else:
            first, whole, status, size, streamed = _timed_get(client, url)
        if status != 200:
            return {"status": status}
        firsts.append(first)
        wholes.append(whole)
    result = {"status": 200, "first": statistics.median(firsts), "whole": statistics.median(wholes),
              "queries": len(captured.captured_queries), "bytes": size, "streamed": streamed}
    if explain and result["whole"] > TARGET_MS:
        slowest = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:3]
        result["explain"] = [(q["time"], q["sql"], _explain(q["sql"])) for q in slowest]
    return result


def _explain(sql):
    from django.db import connection, transaction

    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            transaction.set_rollback(True)
            return plan
    except Exception as error:  # a captured query is not always valid SQL once interpolated
        return f"(not explained: {error})"


def _url(name, *args, query=""):
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse(name, args=args) + (f"?{query}" if query else "")
    except NoReverseMatch:
        return None


def wanted(name):
    """--only: a row is measured when its name contains one of the given words."""
    return not ARGS.only or any(words.lower() in name.lower() for words in ARGS.only)


def _page_row(client, name, url, rounds, explain, explained, *, target=TARGET_MS, note="", missing="page missing"):
    if not wanted(name):
        return None
    if url is None:
        return Row(name, f"≤ {target} ms", note=missing)
    try:
        result = measure_page(client, url, rounds, explain=explain)
    except OperationalError as error:  # --statement-timeout: the page never answered in time
        return Row(name, f"≤ {target} ms", value=f"> {ARGS.statement_timeout:.0f} s", ok=False,
                   note=str(error).splitlines()[0])
    if result["status"] != 200:
        return Row(name, f"≤ {target} ms", value=f"HTTP {result['status']}", ok=False, note=url)
    if "explain" in result:
        explained.append((name, url, result["explain"]))
    size = f"{result['bytes'] / 1024:,.0f} kB"
    return Row(name, f"≤ {target} ms", value=f"{result['whole']:,.0f} ms", queries=result["queries"],
               ok=result["whole"] <= target, note=" ".join(filter(None, [size, note])))


def dashboard_twelve_months():
    """The dashboard's 12-month period value, when the form offers one."""
    from routing.view_forms import DashboardFilterForm

    for value, _label in DashboardFilterForm(scope=None).fields["period"].choices:
        if value in ("12m", "365d", "1y", "year", "12mo", "365"):
            return value
    return None


def page_rows(rounds, explain):
    from django.contrib.auth import get_user_model
    from django.test import Client

    from leads.models import Lead
    from routing.models import Assignment, RoutingExperiment

    User = get_user_model()
    manager = User.objects.get(username=organisation.MANAGER_USERNAME)
    admin = User.objects.get(username=organisation.SUPERUSER_USERNAME)
    heavy = User.objects.get(username=organisation.HEAVY_REP_USERNAME)
    one_team = organisation.team_manager()
    clients = {}
    for key, user in (("manager", manager), ("admin", admin), ("rep", heavy), ("team", one_team)):
        clients[key] = Client(HTTP_HOST="localhost")
        clients[key].force_login(user)
    # Search terms a user types: a lead's e-mail (as support does), a company, a word of a reassignment reason.
    middle = Lead.objects.order_by().filter(pk__gte=Lead.objects.order_by("-pk").values_list("pk", flat=True)[0] // 2)
    lead = middle.order_by("pk").first()
    cause = (Assignment.objects.exclude(kind=Assignment.Kind.INITIAL).exclude(cause={})
             .values_list("cause__code", flat=True).first() or "manual")
    experiment = RoutingExperiment.objects.order_by("pk").first()
    explained = []
    m, a, r, t = clients["manager"], clients["admin"], clients["rep"], clients["team"]
    rows = []

    def add(row):
        if row is None:  # not asked for (--only)
            return
        rows.append(row)
        print("  " + row.line(), flush=True)

    add(_page_row(m, "dashboard, 7 days", _url("routing:dashboard", query="period=7d"), rounds, explain, explained))
    add(_page_row(m, "dashboard, 30 days", _url("routing:dashboard", query="period=30d"), rounds, explain, explained))
    year = dashboard_twelve_months()
    add(_page_row(m, "dashboard, 12 months", _url("routing:dashboard", query=f"period={year}") if year else None,
                  rounds, explain, explained, missing="not offered (the form's periods: today, 7d, 30d)"))
    for label, model in (("routing decisions", "routing_routingdecision"), ("assignments", "routing_assignment"),
                         ("leads", "leads_lead")):
        changelist = _url(f"admin:{model}_changelist")
        add(_page_row(a, f"admin {label} list", changelist, rounds, explain, explained))
        add(_page_row(a, f"admin {label} search (e-mail)", changelist and f"{changelist}?q={lead.email}", rounds,
                      explain, explained))
    add(_page_row(m, "reassignment log", _url("routing:reassignments"), rounds, explain, explained))
    add(_page_row(m, f"reassignment log, cause '{cause}'",
                  _url("routing:reassignments", query=f"cause={cause}"), rounds, explain, explained))
    # As the manager of one team of twenty: the lists are scoped, so every row is tested against the team.
    add(_page_row(t, "reassignment log, manager of one team", _url("routing:reassignments"), rounds, explain, explained))
    for label, model in (("routing decisions", "routing_routingdecision"), ("assignments", "routing_assignment"),
                         ("leads", "leads_lead")):
        add(_page_row(t, f"admin {label} list, manager of one team", _url(f"admin:{model}_changelist"), rounds,
                      explain, explained))
    # The manager's other pages over the year's data.
    add(_page_row(m, "trends, 30 days", _url("routing:trends", query="period=30d"), rounds, explain, explained))
    add(_page_row(m, "fairness, 30 days", _url("routing:fairness", query="period=30d"), rounds, explain, explained))
    add(_page_row(m, "capacity board", _url("routing:capacity"), rounds, explain, explained))
    add(_page_row(m, "pool ageing", _url("routing:pool_ageing"), rounds, explain, explained))
    add(csv_row(m, rounds))
    add(_page_row(r, "rep queue, rep with ~3,000 open leads", _url("routing:queue"), rounds, explain, explained,
                  note=f"{heavy_open_leads()} open leads"))
    add(_page_row(m, "experiment results", experiment and _url("routing:experiment_results", experiment.pk), rounds,
                  explain, explained, note=f"{experiment_leads(experiment):,} leads in the experiment" if experiment else ""))
    return rows, explained


def heavy_open_leads():
    from leads.models import Lead

    return Lead.objects.filter(owner__user__username=organisation.HEAVY_REP_USERNAME,
                               status__in=Lead.OPEN_STATUSES).count()


def experiment_leads(experiment):
    from routing.models import Assignment

    return Assignment.objects.filter(experiment=experiment).count()


def csv_row(client, rounds):
    if not wanted("reassignment CSV"):
        return None
    url = _url("routing:reassignments_csv")
    if url is None:
        return Row("reassignment CSV", "first byte ≤ 200 ms, whole ≤ 5 s", note="page missing")
    try:
        result = measure_page(client, url, rounds)
    except OperationalError as error:
        return Row("reassignment CSV", "first byte ≤ 200 ms, whole ≤ 5 s", value=f"> {ARGS.statement_timeout:.0f} s",
                   ok=False, note=str(error).splitlines()[0])
    if result["status"] != 200:
        return Row("reassignment CSV", "first byte ≤ 200 ms, whole ≤ 5 s", value=f"HTTP {result['status']}", ok=False)
    from routing.models import Assignment

    rows = Assignment.objects.exclude(kind=Assignment.Kind.INITIAL).count()
    ok = result["streamed"] and result["first"] <= TARGET_MS and result["whole"] <= 5000
    return Row("reassignment CSV", "streamed, first byte ≤ 200 ms, whole ≤ 5 s",
               value=f"{result['first']:,.0f} / {result['whole']:,.0f} ms", queries=result["queries"], ok=ok,
               note=f"{rows:,} rows, {result['bytes'] / 1e6:.1f} MB, {'streamed' if result['streamed'] else 'in memory'}")


# --- simulation ---------------------------------------------------------------------------------------

def simulation_row(count):
    """100,000 leads (scaled down with the database): a background SimulationRun when the app has one."""
    from django.utils import timezone

    from leads.models import Lead
    from routing import models as routing_models

    name, target = f"simulation of {count:,} leads", "≤ 60 s, background job with progress"
    leads = Lead.objects.order_by("-created_at", "-pk")
    if hasattr(routing_models, "SimulationRun"):
        return _simulation_run_row(name, target, count)
    from django.core.exceptions import ValidationError

    from routing.simulation import routing_simulate

    started = time.monotonic()
    try:
        routing_simulate(leads=leads[:count], at=timezone.now())
    except ValidationError as error:
        return Row(name, target, value="refused", ok=False, note=" ".join(error.messages))
    seconds = time.monotonic() - started
    return Row(name, target, value=f"{seconds:,.1f} s", ok=False, note="in the request, no background job")


def _simulation_run_row(name, target, count):
    """Starts a SimulationRun as the Simulate page does and runs its job here, as a `simulations` worker would."""
    from django.contrib.auth import get_user_model

    from routing.jobs import run_simulation
    from routing.models import SimulationRun
    from routing.simulation_runs import simulation_run_start

    admin = get_user_model().objects.get(username=organisation.SUPERUSER_USERNAME)
    parameters = {"days": None, "last": count, "source": "", "country": "", "switch_on": [], "switch_off": []}
    started = time.monotonic()
    run = simulation_run_start(user=admin, parameters=parameters, language="en")
    run_simulation(run.pk)
    seconds = time.monotonic() - started
    run = SimulationRun.objects.get(pk=run.pk)
    done = run.status == SimulationRun.Status.DONE
    return Row(name, target, value=f"{seconds:,.1f} s", ok=done and seconds <= 60,
               note=f"status {run.status}, {run.progress_done:,} of {run.progress_total:,} leads replayed")


# --- routing throughput (a child process per database) --------------------------------------------------

def _child(mode, url, leads, template):
    env = {**os.environ, "BENCH_DATABASE_URL": url}
    out = subprocess.run([sys.executable, __file__, "--measure", mode, "--route-leads", str(leads),
                          "--leads", str(ARGS.leads)] + (["--quick"] if ARGS.quick else []),
                         env={**env, "BENCH_FLOOR_TEMPLATE": str(template)}, cwd=bench.ROOT, stdout=subprocess.PIPE,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def insert_profile_leads(count, *, start, wake, notify):
    """`count` leads copied from the year's 500 profiles (same attributes, new e-mails), in transactions of 100."""
    import random

    from django.db import connection, transaction

    from leads.models import Lead
    from routing.jobs import wake_routing_workers

    rng = random.Random(14)
    profiles = [organisation.profile_attributes(p, rng) for p in range(organisation.PROFILES)]
    first_commit = None
    for offset in range(start, start + count, 100):
        size = min(100, start + count - offset)
        with transaction.atomic():
            Lead.objects.bulk_create([
                Lead(**{**profiles[(offset + i) % len(profiles)],
                        "email": f"bench{offset + i}@{profiles[(offset + i) % len(profiles)]['domain']}"})
                for i in range(size)])
            if wake:
                transaction.on_commit(wake_routing_workers)
            if notify:
                with connection.cursor() as cursor:
                    cursor.execute(f"NOTIFY {bench.FLOOR_CHANNEL}")
        first_commit = first_commit or time.time()
    return first_commit


def measure_child(mode, count):
    """In the child: routes `count` leads on this process's database with 1 RQ worker or 1 floor process; prints JSON."""
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Max

    from leads.models import Lead, LeadEvent

    bench.redis_connection().flushdb()
    _vacuum_routing_tables()
    before = Lead.objects.aggregate(m=Max("pk"))["m"] or 0
    template = Path(os.environ["BENCH_FLOOR_TEMPLATE"])
    try:
        if mode == "app":
            group = bench.Workers(1)
            group.wait_ready()
            insert = {"wake": True, "notify": False}
        else:
            with connection.cursor() as cursor:  # the floor reads rotation state; the app creates it lazily
                cursor.execute("INSERT INTO routing_rotationstate (rule_id, rep_id, last_assigned_seq, assigned_count,"
                               " virtual_pass, performance_credit) SELECT r.id, m.rep_id, 0, 0, 0, 0"
                               " FROM routing_routingrule r JOIN reps_rep_teams m ON m.team_id = r.target_team_id"
                               " ON CONFLICT DO NOTHING")
            group = bench.FloorWorkers(1, rule_id="rules", template_path=template, leads_per_transaction=50)
            insert = {"wake": False, "notify": True}
        with group:
            insert_profile_leads(WARM_UP_LEADS, start=0, **insert)
            bench.wait_until_routed(workers=group)
            warm = Lead.objects.aggregate(m=Max("pk"))["m"]
            first_commit = insert_profile_leads(count, start=WARM_UP_LEADS, **insert)
            bench.wait_until_routed(workers=group, poll=0.02)
        measured = Lead.objects.filter(pk__gt=warm)
        last = LeadEvent.objects.filter(lead__in=measured, kind="routed").aggregate(m=Max("created_at"))["m"]
        unowned = measured.filter(owner__isnull=True, pool__isnull=True).count()
        with connection.cursor() as cursor:  # the floor must write as much audit as the app: shown side by side
            cursor.execute("SELECT avg(octet_length(trace::text)) FROM routing_routingdecision WHERE lead_id > %s",
                           [warm])
            trace_bytes = float(cursor.fetchone()[0] or 0)
        if mode == "app":
            bench.capture_floor_template(template)
        rate = count / (last.timestamp() - first_commit)
        print(json.dumps({"rate": rate, "unowned": unowned, "trace_bytes": trace_bytes}))
    finally:
        _delete_leads_after(before)
        bench.redis_connection().flushdb()


# Every table a routing run writes: its rows (the rule rows, the counters, the rotation state above all) are
# updated hundreds of times per run.
ROUTING_TABLES = ("leads_lead", "leads_leadevent", "routing_assignment", "routing_routingdecision",
                  "routing_routingrule", "routing_rotationstate", "routing_repload")


def _vacuum_routing_tables():
    """Starts every run from tables as autovacuum keeps them in production, whatever the cluster's setting.

    This machine's cluster runs with autovacuum off: each run left thousands of dead row versions behind (4,680
    for the 50 rows of routing_routingrule after six runs on the empty twin), and the empty twin, routed on by
    the app and the floor, twice as many as the big database: the later a run, the slower, and the empty twin
    slower than the big one.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {', '.join(ROUTING_TABLES)}")


def _delete_leads_after(lead_id):
    """Removes what a throughput run added, so the kept database stays the year it was built as."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM leads_leadevent WHERE lead_id > %s", [lead_id])
        cursor.execute("DELETE FROM routing_routingdecision WHERE lead_id > %s", [lead_id])
        cursor.execute("DELETE FROM routing_assignment WHERE lead_id > %s", [lead_id])
        cursor.execute("DELETE FROM leads_lead WHERE id > %s", [lead_id])


def throughput_rows(count, rounds):
    """Each round routes the same leads on the big database, the empty twin and the floor, one after another.

    The machine is shared: a round's three runs are close in time, so the ratios are taken within a round and
    their median over the rounds is reported; the order rotates so that no run always goes first.
    """
    template = Path(tempfile.gettempdir()) / f"lr_bench_org_floor_template_{bench.DATABASE_NAME}.json"
    runs = [("big", "app", bench.BENCH_DATABASE_URL), ("empty", "app", EMPTY_URL), ("floor", "floor", EMPTY_URL)]
    results = {name: [] for name, _mode, _url in runs}
    size_ratios, floor_ratios = [], []
    for n in range(rounds):
        found = {}
        # Rotated: big, empty, floor; then empty, floor, big; ... (the floor copies an earlier app run's decisions).
        for name, mode, url in runs[n % 3:] + runs[:n % 3]:
            found[name] = _child(mode, url, count, template)
        for name in found:
            results[name].append(found[name])
        size_ratios.append(found["big"]["rate"] / found["empty"]["rate"])
        floor_ratios.append(found["empty"]["rate"] / found["floor"]["rate"])
        print(f"  throughput round {n + 1}: big {found['big']['rate']:,.0f}, empty {found['empty']['rate']:,.0f},"
              f" floor {found['floor']['rate']:,.0f} leads/s; big ÷ empty {size_ratios[-1]:.2f},"
              f" empty ÷ floor {floor_ratios[-1]:.0%}; trace bytes per decision app"
              f" {found['empty']['trace_bytes']:,.0f}, floor {found['floor']['trace_bytes']:,.0f}", flush=True)
    median = {name: statistics.median(r["rate"] for r in found) for name, found in results.items()}
    ratio, floor_ratio = statistics.median(size_ratios), statistics.median(floor_ratios)
    spread = f"{count:,} leads per run after {WARM_UP_LEADS} warm-up, median of {rounds} round(s)"
    return [
        Row("routing throughput, big ÷ empty database, 1 worker", "≥ 0.9", value=f"{ratio:.2f}", ok=ratio >= 0.9,
            note=f"{median['big']:,.0f} vs {median['empty']:,.0f} leads/s; per round "
                 f"{', '.join(f'{r:.2f}' for r in size_ratios)}; {spread}"),
        Row("routing throughput, 50 rules, empty database ÷ raw-SQL floor", "≥ 70 %", value=f"{floor_ratio:.0%}",
            ok=floor_ratio >= 0.7, note=f"{median['empty']:,.0f} vs floor {median['floor']:,.0f} leads/s; per round "
                                        f"{', '.join(f'{r:.0%}' for r in floor_ratios)}; {spread}"),
    ]


# --- main ----------------------------------------------------------------------------------------------

def main():
    if ARGS.measure:
        measure_child(ARGS.measure, ARGS.route_leads)
        return
    started = time.monotonic()
    info = bench.ensure_org_database(leads=ARGS.leads, rebuild=ARGS.rebuild)
    bench.ensure_org_database(leads=0, rebuild=ARGS.rebuild, database_url=EMPTY_URL)
    import django

    django.setup()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
    print(f"{bench.DATABASE_NAME}: {ARGS.leads:,} leads, {size}; rounds {ARGS.rounds};"
          f" load average at start {os.getloadavg()[0]:.1f} (2 cores shared)", flush=True)
    rows, explained = [], []
    if ARGS.statement_timeout:
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = %s", [int(ARGS.statement_timeout * 1000)])
    if not ARGS.throughput_only:
        page, explained = page_rows(ARGS.rounds, ARGS.explain)
        rows += page
        if wanted("simulation"):
            rows.append(simulation_row(100_000 if not ARGS.quick else 5_000))
            print("  " + rows[-1].line(), flush=True)
    if not ARGS.pages_only and (wanted("throughput") or wanted("floor")):
        rows += throughput_rows(ARGS.route_leads, ARGS.throughput_rounds)
    print()
    print("| what | measured | queries | target | verdict | notes |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(row.line())
    if info["migrate_seconds"] is not None:
        print(f"\nmigrate on the kept database: {info['migrate_seconds']:.1f} s")
    for name, url, plans in explained:
        print(f"\n### {name}: {url}")
        for seconds, sql, plan in plans:
            print(f"-- {float(seconds) * 1000:.0f} ms: {sql[:500]}\n{plan}\n")
    print(f"(total run {time.monotonic() - started:.0f} s; load average at the end {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
