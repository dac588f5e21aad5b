"""Faults with real processes: workers killed mid-burst and Redis gone while leads arrive lose and double nothing.

The long version with figures is bench/faults.py.
"""

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import redis
from django.db import connection, transaction
from django.db.models import Count

from leads.models import Lead
from leads.services import lead_submit
from routing.jobs import sweep_stale_leads
from routing.models import Assignment, RoutingDecision, RoutingRule
from tests.factories import PoolFactory, RepFactory, RoutingRuleFactory, TeamFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[1]
OWN_REDIS_PORT = 6392  # a redis-server of this test's own, so stopping it disturbs nobody
CAP = 40
# Which worker each SIGKILL hits; replay a failed run with FAULTS_SEED=<the seed it printed>.
KILL_SEED = int(os.environ.get("FAULTS_SEED", "20261203"))


class WorkerFleet:
    """`manage.py rqworker routing` processes (RoutingWorker) on the test database, killable and replaceable."""

    def __init__(self, count, *, redis_url, log_dir, seed=KILL_SEED):
        self.env = {
            **os.environ,
            "DATABASE_URL": "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(**connection.settings_dict),
            "REDIS_URL": redis_url,
            "DJANGO_SETTINGS_MODULE": "leadrouting.test_settings",
        }
        self.log_dir = log_dir
        self.random = random.Random(seed)
        self.killed_slots = []
        print(f"worker kill seed: {seed} (FAULTS_SEED={seed} replays this run's kill order)")
        self.processes = [self._start(slot) for slot in range(count)]

    def _start(self, slot):
        with open(self.log_dir / f"worker{slot}.log", "ab") as log:
            return subprocess.Popen(
                [sys.executable, "manage.py", "rqworker", "routing",
                 "--worker-class", "routing.worker.RoutingWorker"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )

    def kill_and_restart_one(self):
        slot = self.random.randrange(len(self.processes))
        self.killed_slots.append(slot)
        self.processes[slot].send_signal(signal.SIGKILL)
        self.processes[slot].wait()
        self.processes[slot] = self._start(slot)

    def restart_exited(self):
        """What systemd or supervisord does: RQ workers exit when Redis goes away as a job ends."""
        for slot, process in enumerate(self.processes):
            if process.poll() is not None:
                self.processes[slot] = self._start(slot)

    def stop(self):
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def capped_team():
    team = TeamFactory(name="Capped")
    reps = [RepFactory(teams=[team], max_open_leads=CAP) for _ in range(10)]
    RoutingRuleFactory(priority=1, target_team=team, strategy=RoutingRule.Strategy.ROUND_ROBIN)
    RoutingRuleFactory(priority=2, target_type=RoutingRule.TargetType.POOL, pool=PoolFactory(name="Overflow"))
    return reps


@pytest.fixture
def sweep_at_once(settings):
    settings.ROUTING_SWEEP_AFTER_SECONDS = 0


def route_waiting_leads_with_sweeps(fleet, timeout=60):
    """Plays the sweeper: wakes the workers every second until no lead waits."""
    deadline = time.monotonic() + timeout
    while Lead.objects.filter(routing_requested_at__isnull=False).exists():
        assert time.monotonic() < deadline, "leads still waiting for routing"
        fleet.restart_exited()
        sweep_stale_leads()
        time.sleep(1)


def assert_routed_once_and_owned_once(count):
    assert Lead.objects.count() == count
    assert not Lead.objects.filter(routing_requested_at__isnull=False).exists()
    assert not RoutingDecision.objects.values("lead").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert not Assignment.objects.values("lead").annotate(n=Count("id")).filter(n__gt=1).exists()
    owners = Counter(Lead.objects.filter(owner__isnull=False).values_list("owner", flat=True))
    assert sum(owners.values()) == Assignment.objects.filter(is_current=True).count()
    assert max(owners.values()) <= CAP


def test_leads_of_killed_workers_are_routed_once_after_a_sweep(capped_team, redis_connection, sweep_at_once,
                                                               settings, tmp_path):
    fleet = WorkerFleet(3, redis_url=settings.REDIS_URL, log_dir=tmp_path)
    try:
        time.sleep(1.5)
        with transaction.atomic():
            for index in range(300):
                Lead.objects.create(email=f"lead{index}@crash.example", country="DE")
        for _ in range(25):  # a SIGKILL every 200 ms for 5 s
            fleet.kill_and_restart_one()
            time.sleep(0.2)
        route_waiting_leads_with_sweeps(fleet)
    finally:
        fleet.stop()

    assert_routed_once_and_owned_once(300)
    assert Lead.objects.filter(owner__isnull=False).count() == 300
    seeded = random.Random(KILL_SEED)
    assert fleet.killed_slots == [seeded.randrange(3) for _ in range(25)]  # the same workers killed every run


@pytest.fixture
def own_redis(settings):
    """A redis-server on a port of its own; the test process and its workers use it instead of the shared one."""
    server = OwnRedis()
    server.start()
    url = f"redis://127.0.0.1:{OWN_REDIS_PORT}/0"
    settings.REDIS_URL = url
    settings.RQ_QUEUES = {name: {**queue, "URL": url} for name, queue in settings.RQ_QUEUES.items()}
    yield server
    server.stop()


class OwnRedis:
    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(OWN_REDIS_PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=OWN_REDIS_PORT).ping()
                return
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def test_leads_created_while_redis_is_down_are_saved_and_routed_after_it_returns(capped_team, own_redis,
                                                                                   sweep_at_once, settings, tmp_path):
    fleet = WorkerFleet(2, redis_url=settings.REDIS_URL, log_dir=tmp_path)
    try:
        time.sleep(1.5)
        own_redis.stop()
        for index in range(30):
            lead_submit(raw={"email": f"lead{index}@outage.example", "country": "DE"}, channel="form")
        assert Lead.objects.count() == 30
        own_redis.start()
        route_waiting_leads_with_sweeps(fleet)
    finally:
        fleet.stop()

    assert_routed_once_and_owned_once(30)
