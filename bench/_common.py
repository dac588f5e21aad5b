"""Shared set-up of the benchmarks: a dedicated database and Redis db, data reset, org fixtures, worker processes.

Imported by every bench script before anything touches Django: it pins the environment
to `lr_bench` / Redis db 11 so a benchmark can never truncate a developer's or a test database.
"""

import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The database and Redis db come from the benchmark's own settings, never from DATABASE_URL / REDIS_URL (which
# name a developer's database): BENCH_DATABASE_URL, BENCH_REDIS_URL. A script may set its own default before
# importing this module (organisation_scale.py: lr_bench_org). A benchmark only ever creates and drops the
# databases named here, and only when their name starts with `lr_bench`.
BENCH_DATABASE_URL = os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/lr_bench")
BENCH_REDIS_URL = os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
DATABASE_NAME = BENCH_DATABASE_URL.rsplit("/", 1)[1].split("?", 1)[0]

if not DATABASE_NAME.startswith("lr_bench"):
    sys.exit(f"Refusing to run: BENCH_DATABASE_URL must name a database whose name starts with lr_bench,"
             f" not {BENCH_DATABASE_URL}")

os.environ["DATABASE_URL"] = BENCH_DATABASE_URL
os.environ["REDIS_URL"] = BENCH_REDIS_URL
os.environ["DJANGO_SETTINGS_MODULE"] = "leadrouting.settings"
# DEBUG off: with DEBUG on Django keeps every query in memory, which would skew both time and RSS.
os.environ["DEBUG"] = "false"
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")  # DEBUG off means HTTPS only; the test Client speaks http
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("ROUTING_LOG_LEVEL", "ERROR")

RAW_DSN = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
# Tables a reset empties; auth groups and permissions (data migrations) are kept.
APP_TABLE_PREFIXES = ("leads_", "routing_", "reps_", "auth_user")


def _migrations_fingerprint() -> str:
    """A hash of every migration file: migrations edited in place (common while the app is young) change it."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(ROOT.glob("*/migrations/*.py")):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _admin_dsn(dsn=None):
    return (dsn or RAW_DSN).rsplit("/", 1)[0] + "/postgres"


def _own_database(name):
    """Only a database named by this run's settings, and starting with lr_bench, may be created or dropped."""
    own = {DATABASE_NAME, *(url.rsplit("/", 1)[1].split("?", 1)[0] for url in OWN_DATABASE_URLS)}
    if name not in own or not name.startswith("lr_bench"):
        raise RuntimeError(f"refusing to create or drop {name!r}: not a benchmark database of this run's settings")
    return name


# Further databases a script names from its settings (organisation_scale.py: the empty twin).
OWN_DATABASE_URLS = []


def database_exists(name=None):
    import psycopg

    with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name or DATABASE_NAME,)).fetchone() is not None


def create_database(name=None):
    import psycopg
    from psycopg import sql

    with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(_own_database(name or DATABASE_NAME))))


def drop_database(name=None):
    import psycopg
    from psycopg import sql

    with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(_own_database(name or DATABASE_NAME))))


def migrate(database_url=None, verbosity=0):
    """`manage.py migrate` on the benchmark database (or `database_url`, one of this run's own)."""
    env = worker_env()
    if database_url:
        env["DATABASE_URL"] = database_url
    subprocess.run([sys.executable, "manage.py", "migrate", "--verbosity", str(verbosity)], cwd=ROOT, env=env,
                   check=True)


def ensure_database():
    """Creates the benchmark database and migrates it; recreates it when the migration files changed since it was built."""
    import psycopg

    fingerprint = _migrations_fingerprint()
    if database_exists():
        with psycopg.connect(RAW_DSN, autocommit=True) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS bench_meta (fingerprint text)")
            row = conn.execute("SELECT fingerprint FROM bench_meta").fetchone()
        if row is not None and row[0] == fingerprint:
            return
        drop_database()
    create_database()
    migrate()
    with psycopg.connect(RAW_DSN, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_meta (fingerprint text)")
        conn.execute("DELETE FROM bench_meta")
        conn.execute("INSERT INTO bench_meta VALUES (%s)", (fingerprint,))


def ensure_org_database(*, leads, rebuild=False, database_url=None, echo=print):
    """A kept benchmark database: built once (migrate, then organisation.generate in bench/_build_org.py), later migrated.

    Unlike `ensure_database`, it is never dropped because migrations changed: applying the pending
    ones to a big database is part of what is measured (`migrate` is timed and printed). `rebuild`
    drops and builds it again. Returns a dict with the build and migrate times.
    """
    import psycopg

    url = database_url or BENCH_DATABASE_URL
    name = url.rsplit("/", 1)[1].split("?", 1)[0]
    dsn = url.replace("postgres://", "postgresql://", 1)
    built = None
    if database_exists(name) and not rebuild:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS bench_org_meta (leads bigint, built_at timestamptz, seconds float8)")
            built = conn.execute("SELECT leads, built_at, seconds FROM bench_org_meta").fetchone()
    if built is not None and built[0] == leads:
        started = time.monotonic()
        migrate(url, verbosity=1)
        seconds = time.monotonic() - started
        echo(f"{name}: built {built[1]:%Y-%m-%d %H:%M} UTC with {leads:,} leads (in {built[2]:.0f} s);"
             f" migrate applied in {seconds:.1f} s")
        started = time.monotonic()
        subprocess.run([sys.executable, str(ROOT / "bench" / "_build_org.py"), "--derived-only"], cwd=ROOT,
                       env={**worker_env(), "DATABASE_URL": url}, check=True)
        echo(f"  derived data brought up to date in {time.monotonic() - started:.1f} s")
        return {"migrate_seconds": seconds, "build_seconds": None}
    if built is not None or database_exists(name):
        echo(f"{name}: dropping it to build it again" + ("" if rebuild else f" (it has {built and built[0]} leads, not {leads:,})"))
        drop_database(name)
    started = time.monotonic()
    echo(f"{name}: building with {leads:,} leads")
    create_database(name)
    migrate(url)
    echo(f"  migrate: {time.monotonic() - started:.1f} s")
    subprocess.run([sys.executable, str(ROOT / "bench" / "_build_org.py"), str(leads)], cwd=ROOT,
                   env={**worker_env(), "DATABASE_URL": url}, check=True)
    with psycopg.connect(dsn, autocommit=True) as conn:
        step = time.monotonic()
        conn.execute("VACUUM ANALYZE")
        echo(f"  vacuum analyze: {time.monotonic() - step:.1f} s")
        seconds = time.monotonic() - started
        conn.execute("CREATE TABLE IF NOT EXISTS bench_org_meta (leads bigint, built_at timestamptz, seconds float8)")
        conn.execute("DELETE FROM bench_org_meta")
        conn.execute("INSERT INTO bench_org_meta VALUES (%s, now(), %s)", (leads, seconds))
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
    echo(f"{name}: built in {seconds:.0f} s, {size}")
    return {"migrate_seconds": None, "build_seconds": seconds}


_FINGERPRINT_AT_START = None


def check_code_unchanged():
    """Fails fast when migrations changed mid-run (others edit the app): new workers would not match the schema."""
    if _FINGERPRINT_AT_START is not None and _migrations_fingerprint() != _FINGERPRINT_AT_START:
        raise RuntimeError("The app's migrations changed during this run: run the benchmark again.")


def setup_django():
    global _FINGERPRINT_AT_START
    _FINGERPRINT_AT_START = _migrations_fingerprint()
    ensure_database()
    import django

    django.setup()


def reset_data():
    """Empties every app table and the bench Redis db."""
    from django.db import connection

    with connection.cursor() as cursor:
        tables = [t for t in connection.introspection.table_names(cursor) if t.startswith(APP_TABLE_PREFIXES)]
        cursor.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
    redis_connection().flushdb()


def redis_connection():
    import django_rq

    return django_rq.get_connection("routing")


def worker_env():
    return {**os.environ}


# --- organisation fixtures ------------------------------------------------

def create_reps(count, *, team_size=None, prefix="rep"):
    """`count` available reps (no calendar, no caps) in teams of `team_size` (one team when None); returns (reps, teams)."""
    from django.contrib.auth import get_user_model

    from reps.models import Rep, Team

    User = get_user_model()
    users = User.objects.bulk_create(
        [User(username=f"{prefix}{i}", first_name=f"Rep{i}", last_name="Bench", password="!") for i in range(count)]
    )
    reps = Rep.objects.bulk_create([Rep(user=user, time_zone="UTC") for user in users])
    team_size = team_size or count
    teams = Team.objects.bulk_create(
        [Team(name=f"{prefix} team {i}") for i in range((count + team_size - 1) // team_size)]
    )
    Membership = Rep.teams.through
    Membership.objects.bulk_create(
        [Membership(rep_id=rep.pk, team_id=teams[i // team_size].pk) for i, rep in enumerate(reps)]
    )
    return reps, teams


def create_round_robin_org(rep_count=10):
    """The throughput/latency organisation: one team of reps and one round-robin rule with no condition."""
    from routing.models import RoutingRule

    reps, teams = create_reps(rep_count)
    rule = RoutingRule.objects.create(
        name="Everyone, round robin", priority=10, target_type=RoutingRule.TargetType.TEAM, target_team=teams[0],
        strategy=RoutingRule.Strategy.ROUND_ROBIN,
    )
    return reps, teams[0], rule


FLOOR_CHANNEL = "lr_bench_leads"


def insert_leads(count, *, batch=100, start=0, pause=0.0, wake=True, notify=False):
    """Inserts leads with bulk_create, one transaction per batch; each commit wakes the workers as the signal would.

    bulk_create skips post_save, so the wake-up the signal would register is registered here
    (`wake`); the raw-SQL floor is woken by a NOTIFY sent with the commit instead (`notify`).
    Returns the wall-clock time (time.time()) of the first commit.
    """
    from django.db import connection, transaction

    from leads.models import Lead
    from routing.jobs import wake_routing_workers

    first_commit = None
    for offset in range(start, start + count, batch):
        size = min(batch, start + count - offset)
        with transaction.atomic():
            Lead.objects.bulk_create(
                [Lead(email=f"lead{offset + i}@bench{(offset + i) % 97}.example", country="DE", industry="Software",
                      employee_count=250, score=50, source="web") for i in range(size)]
            )
            if wake:
                transaction.on_commit(wake_routing_workers)
            if notify:
                with connection.cursor() as cursor:
                    cursor.execute(f"NOTIFY {FLOOR_CHANNEL}")
        if first_commit is None:
            first_commit = time.time()
        if pause:
            time.sleep(pause)
    return first_commit


# --- worker processes -----------------------------------------------------

class ProcessGroup:
    """Processes stopped together: SIGTERM, then SIGKILL after `stop_timeout` seconds."""

    processes: list
    stop_timeout = 20

    def stop(self):
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                process.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class Workers(ProcessGroup):
    """Real `manage.py rqworker routing` processes (RoutingWorker, a SimpleWorker: jobs run in the worker process)."""

    def __init__(self, count, log_dir="/tmp/lr_bench_logs"):
        check_code_unchanged()
        Path(log_dir).mkdir(parents=True, exist_ok=True)
        self.processes = []
        for number in range(count):
            log = open(Path(log_dir) / f"worker{number}.log", "wb")  # noqa: SIM115 — kept open for the process
            process = subprocess.Popen(
                [sys.executable, "manage.py", "rqworker", "routing",
                 "--worker-class", "routing.worker.RoutingWorker"],
                cwd=ROOT, env=worker_env(), stdout=log, stderr=subprocess.STDOUT,
            )
            process.log_path = log.name
            self.processes.append(process)

    def wait_ready(self, timeout=30):
        """Waits until every worker has registered in Redis (i.e. is blocked waiting for jobs)."""
        from rq import Worker

        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            pids = {w.pid for w in Worker.all(connection=redis_connection())}
            if all(p.pid in pids for p in self.processes):
                return
            if time.monotonic() > deadline:
                raise RuntimeError("workers did not register in time")
            time.sleep(0.1)

    def check_alive(self):
        dead = [p for p in self.processes if p.poll() is not None]
        if dead:
            raise RuntimeError(f"worker exited:\n{Path(dead[0].log_path).read_text()[-3000:]}")


def wait_until_routed(*, timeout=600, workers=None, poll=0.05):
    """Blocks until no lead waits for routing."""
    from leads.models import Lead

    from rq.registry import FailedJobRegistry

    failed = FailedJobRegistry("routing", connection=redis_connection())
    deadline = time.monotonic() + timeout
    while Lead.objects.filter(routing_requested_at__isnull=False).exists():
        if workers is not None:
            workers.check_alive()
        job_ids = failed.get_job_ids()
        if job_ids:
            from rq.job import Job

            result = Job.fetch(job_ids[0], connection=redis_connection()).latest_result()
            raise RuntimeError(f"a routing job failed:\n{(result.exc_string if result else '')[-2000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError("leads still waiting for routing")
        time.sleep(poll)


def rss_kb(pid, field="VmRSS"):
    """A process's memory from /proc (kB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not found for {pid}")


def percentile(values, pct):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(values):
    return {
        "n": len(values),
        "mean": statistics.fmean(values) if values else float("nan"),
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p99": percentile(values, 99),
        "max": max(values) if values else float("nan"),
    }


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


# --- the raw-SQL floor ----------------------------------------------------

def capture_floor_template(path, samples=500):
    """Saves real routed leads' traces, explanations, reasons and event messages, so the floor writes as many bytes.

    The first (latest) at the top level, for the one-rule floors; the last `samples` leads under "samples", for the
    rules floor: with 50 rules a trace's size follows the rule and its team (1 to 4 kB), so one would not do.
    """
    import json

    from leads.models import LeadEvent
    from routing.models import RoutingDecision

    decisions = list(RoutingDecision.objects.select_related("assignment").order_by("-id")[:samples])
    events = {event.data.get("decision_id"): event
              for event in LeadEvent.objects.filter(kind="routed", lead__in=[d.lead_id for d in decisions])}
    found = []  # (outcome, sample)
    for decision in decisions:
        event = events.get(decision.pk)
        if event is None:
            continue
        found.append((decision.outcome, {
            "trace": decision.trace,
            "explanation": decision.explanation,
            "reason": decision.assignment.reason if decision.assignment else "",
            "cause": decision.assignment.cause if decision.assignment else {},
            "message": event.message,
            "event_data": {key: value for key, value in event.data.items() if key != "decision_id"},
        }))
    assigned = next(sample for outcome, sample in found if outcome == "assigned")
    template = {**assigned, "samples": [sample for _outcome, sample in found]}
    Path(path).write_text(json.dumps(template))
    return template


def create_rotation_states(rule, reps):
    """The floor reads rotation state rather than creating it lazily as the app does on a rule's first lead."""
    from routing.models import RotationState

    RotationState.objects.bulk_create([RotationState(rule=rule, rep=rep) for rep in reps])


class FloorWorkers(ProcessGroup):
    """`count` raw-psycopg floor processes (bench/_floor.py)."""

    def __init__(self, count, *, rule_id, template_path, leads_per_transaction=1):
        self.processes = []
        for _ in range(count):
            process = subprocess.Popen(
                [sys.executable, str(ROOT / "bench" / "_floor.py"), RAW_DSN, str(rule_id), str(template_path),
                 str(leads_per_transaction)],
                cwd=ROOT, stdout=subprocess.PIPE, text=True,
            )
            self.processes.append(process)
        for process in self.processes:
            if process.stdout.readline().strip() != "ready":
                raise RuntimeError("floor worker failed to start")

    def check_alive(self):
        if any(p.poll() is not None for p in self.processes):
            raise RuntimeError("a floor worker exited")

    stop_timeout = 10
