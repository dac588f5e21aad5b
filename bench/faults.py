"""Fault suite: routing survives worker crashes, Redis and PostgreSQL outages, unplaceable leads and job timeouts.

    .venv/bin/python bench/faults.py            # ~5 min
    .venv/bin/python bench/faults.py --quick    # ~1 min

Everything runs on services of its own, so nothing it stops or restarts is shared:
a PostgreSQL cluster `15 faults` on port 5439 (created as root with
`pg_createcluster 15 faults -p 5439 -- --auth=trust` when missing) and a redis-server on port 6391
that this script starts, stops and restarts. Prints per scenario: leads sent, routed, lost,
double-owned, cap violations and the time to recover.
"""

import argparse
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

FAULT_PG_PORT = 5439
FAULT_REDIS_PORT = 6391
os.environ["BENCH_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{FAULT_PG_PORT}/lr_bench"
os.environ["BENCH_REDIS_URL"] = f"redis://127.0.0.1:{FAULT_REDIS_PORT}/0"
os.environ.setdefault("INTAKE_API_RATE", "100000/m")  # the stream must not hit the API's rate limit
os.environ.setdefault("ROUTING_SWEEP_AFTER_SECONDS", "5")

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402  (pins the environment before Django loads)

LOG_DIR = Path("/tmp/lr_fault_logs")
CAP = 300
KILL_SEED = 20261203  # which worker each SIGKILL hits (--seed); printed, so a failed run can be replayed


# --- services of our own ---------------------------------------------------

class OwnRedis:
    """A redis-server on FAULT_REDIS_PORT without persistence: a restart loses every job and flag, as a crash would."""

    def __init__(self):
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(FAULT_REDIS_PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        import redis

        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=FAULT_REDIS_PORT).ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def fault_cluster(action):
    subprocess.run(["pg_ctlcluster", "15", "faults", action], check=True, capture_output=True)


def ensure_fault_cluster():
    clusters = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True).stdout
    if not any(line.split()[:2] == ["15", "faults"] for line in clusters.splitlines()):
        sys.exit("Create the fault cluster first (as root): pg_createcluster 15 faults -p 5439 -- --auth=trust")
    if not any(line.split()[:2] == ["15", "faults"] and "online" in line for line in clusters.splitlines()):
        fault_cluster("start")


# --- processes ---------------------------------------------------------------

def _spawn(args, log_name, env=None):
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    with open(LOG_DIR / log_name, "ab") as log:
        return subprocess.Popen([sys.executable, "manage.py", *args], cwd=_common.ROOT,
                                env={**_common.worker_env(), **(env or {})}, stdout=log, stderr=subprocess.STDOUT)


class Fleet:
    """RQ routing workers (RoutingWorker, a SimpleWorker) that can be killed and replaced, plus one routing_sweeper."""

    def __init__(self, count, *, env=None, seed=KILL_SEED):
        self.env = env or {}
        self.random = random.Random(seed)
        for old_log in LOG_DIR.glob("*.log"):
            old_log.unlink()  # each scenario's logs on their own
        self.workers = [self._worker(slot) for slot in range(count)]
        self.sweeper = _spawn(["routing_sweeper", "--interval", "1"], "sweeper.log", self.env)
        self.kills = 0
        self.restarts = []

    def _worker(self, slot):
        return _spawn(["rqworker", "routing", "--worker-class", "routing.worker.RoutingWorker"],
                      f"worker{slot}.log", self.env)

    def kill_and_restart_one(self):
        slot = self.random.randrange(len(self.workers))
        self.workers[slot].send_signal(signal.SIGKILL)
        self.workers[slot].wait()
        self.kills += 1
        self.workers[slot] = self._worker(slot)

    def supervise(self):
        """Restarts a worker that exited, as systemd or supervisord would in production."""
        for slot, process in enumerate(self.workers):
            if process.poll() is not None:
                self.restarts.append(Path(LOG_DIR / f"worker{slot}.log").read_text()[-600:])
                self.workers[slot] = self._worker(slot)

    def alive(self):
        return sum(p.poll() is None for p in self.workers)

    def stop(self):
        processes = [*self.workers, self.sweeper]
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# --- database reads that survive a PostgreSQL restart ---------------------------

def db(read, timeout=60):
    """Runs a read, reconnecting while the fault cluster restarts."""
    from django.db import InterfaceError, OperationalError, connection

    deadline = time.monotonic() + timeout
    while True:
        try:
            return read()
        except (OperationalError, InterfaceError):
            connection.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def pending_count():
    from leads.models import Lead

    return db(lambda: Lead.objects.filter(routing_requested_at__isnull=False).count())


def wait_until_routed(timeout, *, fleet=None):
    """Seconds until no lead waits for routing (None when the timeout passes)."""
    started = time.monotonic()
    while pending_count():
        if time.monotonic() - started > timeout:
            return None
        time.sleep(0.1)
    return time.monotonic() - started


def tally(sent):
    """The figures of a scenario, read from PostgreSQL (the truth)."""
    from django.db.models import Count, Exists, F, OuterRef, Q

    from leads.models import Lead
    from reps.models import Rep
    from routing.models import Assignment, RoutingDecision

    def read():
        leads = Lead.objects.count()
        pending = Lead.objects.filter(routing_requested_at__isnull=False).count()
        decided = Lead.objects.filter(routing_requested_at__isnull=True).annotate(n=Count("decisions")).filter(n__gt=0)
        routed_twice = (RoutingDecision.objects.values("lead").annotate(n=Count("id")).filter(n__gt=1).count())
        current = Assignment.objects.filter(is_current=True).values("lead").annotate(n=Count("id"))
        double_owned = current.filter(n__gt=1).count() + (
            Assignment.objects.values("lead").annotate(n=Count("id")).filter(n__gt=1).count())
        owner_matches = Assignment.objects.filter(lead=OuterRef("pk"), rep=OuterRef("owner"), is_current=True)
        owner_mismatch = Lead.objects.filter(owner__isnull=False).exclude(Exists(owner_matches)).count()
        over_cap = Rep.objects.filter(max_open_leads__isnull=False).annotate(
            open=Count("leads", filter=~Q(leads__status__in=Lead.CLOSED_STATUSES))
        ).filter(open__gt=F("max_open_leads")).count()
        return {
            "sent": sent, "saved": leads, "routed": decided.count(), "lost": sent - leads + pending,
            "double_owned": double_owned + owner_mismatch, "routed_twice": routed_twice, "cap_violations": over_cap,
            "owned": Lead.objects.filter(owner__isnull=False).count(),
        }

    return db(read)


def create_capped_org():
    """10 reps, round robin, at most CAP open leads each; an overflow pool catches what no rep can take."""
    from reps.models import Rep
    from routing.models import Pool, RoutingRule

    reps, teams = _common.create_reps(10)
    Rep.objects.update(max_open_leads=CAP)
    overflow = Pool.objects.create(name="Overflow")
    RoutingRule.objects.create(name="Everyone, round robin", priority=10, target_type=RoutingRule.TargetType.TEAM,
                               target_team=teams[0], strategy=RoutingRule.Strategy.ROUND_ROBIN)
    RoutingRule.objects.create(name="Overflow", priority=20, target_type=RoutingRule.TargetType.POOL, pool=overflow)
    return reps


def report(name, figures, recover, note=""):
    recover_text = "never (timed out)" if recover is None else f"{recover:6.2f} s"
    ok = (recover is not None and figures["lost"] == 0 and figures["double_owned"] == 0
          and figures["routed_twice"] == 0 and figures["cap_violations"] == 0 and figures["routed"] == figures["sent"])
    print(f"{name:<18} sent {figures['sent']:5d}  routed {figures['routed']:5d}  lost {figures['lost']:3d}  "
          f"double-owned {figures['double_owned']:3d}  routed twice {figures['routed_twice']:3d}  "
          f"cap violations {figures['cap_violations']:3d}  recover {recover_text}  {_common.verdict(ok)}"
          + (f"\n{'':<18} {note}" if note else ""), flush=True)
    return ok


# --- scenarios -----------------------------------------------------------------

def scenario_worker_crash(quick, seed):
    """A burst while a random worker is SIGKILLed (and restarted) every 200 ms; the sweeper re-wakes orphaned leads."""
    _common.reset_data()
    create_capped_org()
    count, kill_for = (500, 15) if quick else (2000, 60)
    with Fleet(4, seed=seed) as fleet:
        time.sleep(2)  # let the first workers boot
        _common.insert_leads(count, batch=100)
        started = time.monotonic()
        while time.monotonic() - started < kill_for and pending_count():
            fleet.kill_and_restart_one()
            time.sleep(0.2)
        routed_while_killing = count - pending_count()
        kill_phase = time.monotonic() - started
        recover = wait_until_routed(120)
        kills = fleet.kills
    return report("worker SIGKILL", tally(count), recover,
                  f"{kills} SIGKILLs in {kill_phase:.1f} s; {routed_while_killing} leads routed while killing; "
                  f"recover = last kill -> last lead routed")


def _stream_intake(seconds, *, rate, client, token, counter, during=None):
    """Creates leads at `rate`/s, alternating the intake service (form path) and the JSON API; returns errors."""
    from leads.services import lead_submit

    errors = []
    interval = 1 / rate
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        tick = time.monotonic()
        counter[0] += 1
        email = f"stream{counter[0]}-{uuid.uuid4().hex[:6]}@outage.example"
        try:
            if counter[0] % 2:
                lead_submit(raw={"email": email, "country": "DE", "first_name": "Form"}, channel="form")
            else:
                response = client.post("/api/v1/leads", {"email": email, "country": "DE"}, secure=True,
                                       content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
                if response.status_code != 201:
                    errors.append(f"API {response.status_code}: {response.content[:200]!r}")
        except Exception as error:  # noqa: BLE001 — every failure is a figure here
            errors.append(f"{type(error).__name__}: {error}")
        if during:
            during()
        time.sleep(max(0, interval - (time.monotonic() - tick)))
    return errors


def scenario_redis_outage(quick, redis_server):
    """Redis stopped while leads keep arriving by form and API: no intake error, all routed once Redis is back."""
    from django.conf import settings
    from django.test import Client

    from leads.services import api_token_create

    _common.reset_data()
    create_capped_org()
    _, token = api_token_create(name="Outage stream", source="api")
    client = Client()
    outage, rate = (10, 10) if quick else (30, 10)
    counter = [0]
    with Fleet(2) as fleet:
        time.sleep(2)
        errors = _stream_intake(3, rate=rate, client=client, token=token, counter=counter)
        redis_server.stop()
        stopped = time.monotonic()
        # A lull mid-outage lets the drain jobs end (and their workers talk to the missing Redis).
        errors += _stream_intake(outage / 3, rate=rate, client=client, token=token, counter=counter,
                                 during=fleet.supervise)
        while time.monotonic() - stopped < 2 * outage / 3:
            fleet.supervise()
            time.sleep(0.2)
        errors += _stream_intake(outage / 3, rate=rate, client=client, token=token, counter=counter,
                                 during=fleet.supervise)
        waiting_at_restart = pending_count()
        redis_server.start()
        back = time.monotonic()
        errors += _stream_intake(3, rate=rate, client=client, token=token, counter=counter, during=fleet.supervise)
        recover = wait_until_routed(120)
        recover = None if recover is None else time.monotonic() - back
        alive = fleet.alive()
        restarts = fleet.restarts
    bound = settings.ROUTING_SWEEP_AFTER_SECONDS + 1  # the sweeper runs every second
    ok = report(f"Redis down {outage} s", tally(counter[0]), recover,
                f"{len(errors)} intake errors; {waiting_at_restart} leads waiting when Redis came back; "
                f"recover = Redis back -> last lead routed (sweep bound {bound} s); workers alive {alive}/2, "
                f"restarted by the supervisor {len(restarts)}")
    for log_tail in restarts[:1]:
        print(f"{'':<18} an exited worker's log ends: {log_tail[-300:]!r}")
    for error in errors[:5]:
        print(f"{'':<18} intake error: {error}")
    return ok and not errors and recover is not None and recover <= bound + 5


def scenario_postgres_restart(quick):
    """The fault cluster restarts while workers route: they reconnect by themselves; nothing lost or doubled."""
    _common.reset_data()
    create_capped_org()
    count = 600 if quick else 2000
    with Fleet(4) as fleet:
        time.sleep(2)
        _common.insert_leads(count, batch=100)
        time.sleep(1)
        before = count - pending_count()
        fault_cluster("stop")
        time.sleep(3 if quick else 10)
        fault_cluster("start")
        back = time.monotonic()
        recover = wait_until_routed(120)
        recover = None if recover is None else time.monotonic() - back
        alive = fleet.alive()
    ok = report("PostgreSQL restart", tally(count), recover,
                f"{before} leads routed before the stop; workers alive after {alive}/4; "
                f"recover = cluster back -> last lead routed")
    return ok and alive == 4


def scenario_unplaceable_lead(quick):
    """Leads the engine cannot place are parked as unroutable with the reason in their audit; the rest flow on."""
    from leads.models import Lead
    from reps.models import Rep
    from routing.models import RoutingDecision, RoutingRule, RuleCondition

    _common.reset_data()
    reps, teams = _common.create_reps(10)
    Rep.objects.update(max_open_leads=CAP)
    rule = RoutingRule.objects.create(name="Germany, round robin", priority=10, target_team=teams[0],
                                      target_type=RoutingRule.TargetType.TEAM,
                                      strategy=RoutingRule.Strategy.ROUND_ROBIN)
    RuleCondition.objects.create(rule=rule, field="country", operator="equals", value="DE")
    scored = RoutingRule.objects.create(name="Big plans", priority=5, target_team=teams[0],
                                        target_type=RoutingRule.TargetType.TEAM)
    RuleCondition.objects.create(rule=scored, field="attributes.seats", operator="gte", value="1000")
    count = 200 if quick else 1000
    # Hostile attributes: lists, objects, huge numbers as text, NaN as text; no country any rule takes.
    odd_attributes = [{"seats": [1, 2]}, {"seats": {"a": 1}}, {"seats": "NaN"}, {"seats": None}, {"seats": True},
                      {"seats": "1e999999"}, {"seats": "9" * 5000}]
    big_enough = 2  # the last two are numbers >= 1000: "Big plans" takes them
    with Fleet(2):
        time.sleep(2)
        Lead.objects.bulk_create([Lead(email=f"odd{i}@poison.example", country="ZZ", attributes=attributes)
                                  for i, attributes in enumerate(odd_attributes)])
        _common.insert_leads(count, batch=50)
        recover = wait_until_routed(120)
    figures = tally(count + len(odd_attributes))
    unroutable = Lead.objects.filter(status=Lead.Status.UNROUTABLE).count()
    # The reason is the decision's trace, rendered when read (`explanation` stays empty since it is no longer stored).
    with_reason = sum(1 for decision in RoutingDecision.objects.filter(outcome="unroutable") if decision.explained)
    figures["routed"] = RoutingDecision.objects.values("lead").distinct().count()
    ok = report("unplaceable leads", figures, recover,
                f"{unroutable} unroutable (expected {len(odd_attributes) - big_enough}), {with_reason} with the reason "
                f"written; {figures['owned']} owned (expected {count} + {big_enough}); no condition raised on hostile attributes")
    return (ok and unroutable == len(odd_attributes) - big_enough == with_reason
            and figures["owned"] == count + big_enough)


def scenario_job_timeout(quick):
    """Workers whose drain jobs time out after 1 s under a steady stream: unfinished leads routed once by later jobs."""
    from django.test import override_settings
    from rq.registry import FailedJobRegistry

    _common.reset_data()
    create_capped_org()
    count = 300 if quick else 1000
    short = {"ROUTING_DRAIN_JOB_TIMEOUT": "1", "ROUTING_DRAIN_IDLE_SECONDS": "5"}
    # Whoever enqueues sets the timeout: this process (the wake-ups of the inserts), the workers and the sweeper.
    with Fleet(2, env=short), override_settings(ROUTING_DRAIN_JOB_TIMEOUT=1):
        time.sleep(2)
        # Small batches with pauses: a drain job keeps polling for the next batch and outlives its timeout.
        _common.insert_leads(count, batch=10, pause=0.1)
        end = time.monotonic()
        recover = wait_until_routed(120)
        recover = None if recover is None else time.monotonic() - end
        # One reading of the registry for both counts: drain jobs that started before the last lead was routed
        # are still polling and time out meanwhile, so a second reading may hold one failure more.
        failed_ids = FailedJobRegistry("routing", connection=_common.redis_connection()).get_job_ids()
        timeouts = 0
        for job in failed_ids:
            from rq.job import Job

            result = Job.fetch(job, connection=_common.redis_connection()).latest_result()
            timeouts += bool(result and "JobTimeoutException" in (result.exc_string or ""))
        failures = len(failed_ids)
    ok = report("job timeout 1 s", tally(count), recover,
                f"{timeouts} drain jobs timed out ({failures} failed in all); recover = last lead sent -> last routed")
    return ok and timeouts > 0 and failures == timeouts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller bursts and a 10 s Redis outage (~1 min)")
    parser.add_argument("--only", choices=["crash", "redis", "postgres", "poison", "timeout"], action="append")
    parser.add_argument("--seed", type=int, default=KILL_SEED, help="seed of the worker SIGKILL order")
    args = parser.parse_args()
    print(f"worker kill seed: {args.seed}", flush=True)
    ensure_fault_cluster()
    redis_server = OwnRedis()
    redis_server.start()
    try:
        _common.setup_django()
        from django.test.utils import setup_test_environment

        setup_test_environment()  # lets the test Client talk to the app (ALLOWED_HOSTS gets 'testserver')
        scenarios = {
            "crash": lambda: scenario_worker_crash(args.quick, args.seed),
            "redis": lambda: scenario_redis_outage(args.quick, redis_server),
            "postgres": lambda: scenario_postgres_restart(args.quick),
            "poison": lambda: scenario_unplaceable_lead(args.quick),
            "timeout": lambda: scenario_job_timeout(args.quick),
        }
        results = {name: run() for name, run in scenarios.items() if not args.only or name in args.only}
        print("overall:", _common.verdict(all(results.values())), flush=True)
        _common.reset_data()
    finally:
        redis_server.stop()
        ensure_fault_cluster()


if __name__ == "__main__":
    main()
