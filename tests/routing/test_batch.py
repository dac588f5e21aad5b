"""Many leads routed in one transaction decide exactly as if each had its own: fairness, caps, loads, audit, emails."""

import threading
import time
from collections import Counter

import psycopg
import pytest
from django.core import mail
from django.db import connection
from django.db.models import Count

from leads.models import Lead
from reps.services import rep_set_away
from routing.models import Assignment, RoutingDecision, RoutingRule
from routing.services import route_pending_leads
from tests.factories import (
    LeadFactory,
    PoolFactory,
    RoutingRuleFactory,
    RuleConditionFactory,
    TeamFactory,
    rep_named,
)
from tests.routing.support import statements_to_route

pytestmark = pytest.mark.django_db
Strategy = RoutingRule.Strategy


@pytest.fixture(autouse=True)
def fifty_leads_per_transaction(settings):
    settings.ROUTING_LEADS_PER_TRANSACTION = 50


def team_of(*names, **rep_kwargs):
    team = TeamFactory()
    return team, [rep_named(name, teams=[team], **rep_kwargs) for name in names]


def owner_names(leads):
    by_pk = dict(Lead.objects.filter(pk__in=[lead.pk for lead in leads]).values_list("pk", "owner__user__first_name"))
    return [by_pk[lead.pk] for lead in leads]


def test_round_robin_inside_one_transaction_rotates_lead_by_lead():
    team, _ = team_of("Anna", "Ben", "Carla")
    RoutingRuleFactory(target_team=team)
    leads = LeadFactory.create_batch(9)
    assert route_pending_leads(limit=100, worker="test") == 9
    assert owner_names(leads) == ["Anna", "Ben", "Carla"] * 3


def test_the_rotation_goes_on_from_where_the_previous_transaction_left_it(settings):
    settings.ROUTING_LEADS_PER_TRANSACTION = 2
    team, _ = team_of("Anna", "Ben", "Carla")
    RoutingRuleFactory(target_team=team)
    leads = LeadFactory.create_batch(7)
    route_pending_leads(limit=100, worker="test")
    assert owner_names(leads) == ["Anna", "Ben", "Carla", "Anna", "Ben", "Carla", "Anna"]


def test_an_open_lead_cap_holds_within_one_transaction():
    team, (anna, ben) = team_of("Anna", "Ben", max_open_leads=2)
    pool = PoolFactory(name="Overflow")
    RoutingRuleFactory(target_team=team, when_none_eligible=RoutingRule.WhenNoneEligible.QUEUE, pool=pool)
    leads = LeadFactory.create_batch(6)
    route_pending_leads(limit=100, worker="test")
    assert Counter(owner_names(leads)) == {"Anna": 2, "Ben": 2, None: 2}
    assert Lead.objects.filter(pool=pool).count() == 2
    last = RoutingDecision.objects.get(lead=leads[-1])
    assert "at open-lead cap 2/2" in last.explained


def test_a_daily_cap_holds_within_one_transaction():
    team, _ = team_of("Anna", max_new_leads_per_day=3)
    RoutingRuleFactory(target_team=team)
    leads = LeadFactory.create_batch(5)
    route_pending_leads(limit=100, worker="test")
    assert owner_names(leads) == ["Anna"] * 3 + [None] * 2
    assert "at daily cap 3/3" in RoutingDecision.objects.get(lead=leads[-1]).explained


def test_a_capped_rep_in_two_rules_is_not_overfilled_by_one_transaction():
    shared = rep_named("Anna", max_open_leads=3)
    first, second = TeamFactory(name="DE"), TeamFactory(name="FR")
    shared.teams.add(first, second)
    german = RoutingRuleFactory(target_team=first, priority=1)
    RuleConditionFactory(rule=german, field="country", operator="equals", value="DE")
    RoutingRuleFactory(target_team=second, priority=2)
    leads = [LeadFactory(country="DE" if i % 2 else "FR") for i in range(8)]
    route_pending_leads(limit=100, worker="test")
    assert Lead.objects.filter(owner=shared).count() == 3
    assert Counter(owner_names(leads))[None] == 5


def test_least_loaded_counts_the_leads_it_just_gave():
    team, (anna, ben) = team_of("Anna", "Ben")
    for _ in range(3):
        LeadFactory(owner=anna, status=Lead.Status.ASSIGNED, routing_requested_at=None)
    RoutingRuleFactory(target_team=team, strategy=Strategy.LEAST_LOADED)
    leads = LeadFactory.create_batch(5)
    route_pending_leads(limit=100, worker="test")
    # Ben catches up to Anna's three, then they alternate.
    assert owner_names(leads)[:3] == ["Ben", "Ben", "Ben"]
    assert Counter(owner_names(leads)) == {"Ben": 4, "Anna": 1}


def test_weighted_one_to_three_is_exact_inside_one_transaction():
    team = TeamFactory()
    light, heavy = rep_named("Light", teams=[team], weight=1), rep_named("Heavy", teams=[team], weight=3)
    RoutingRuleFactory(target_team=team, strategy=Strategy.WEIGHTED)
    leads = LeadFactory.create_batch(40)
    route_pending_leads(limit=100, worker="test")
    assert Counter(owner_names(leads)) == {"Light": 10, "Heavy": 30}


def test_a_rep_set_away_is_skipped_from_the_next_transaction_on():
    team, (anna, ben) = team_of("Anna", "Ben")
    RoutingRuleFactory(target_team=team)
    route_pending_leads(limit=100, worker="test")
    rep_set_away(rep=anna)
    leads = LeadFactory.create_batch(4)
    route_pending_leads(limit=100, worker="test")
    assert owner_names(leads) == ["Ben"] * 4


def test_every_lead_of_a_batch_gets_its_own_audit_row_timeline_event_and_email(django_capture_on_commit_callbacks):
    team, _ = team_of("Anna", "Ben")
    RoutingRuleFactory(target_team=team, name="Everyone")
    leads = LeadFactory.create_batch(4)
    with django_capture_on_commit_callbacks(execute=True):
        route_pending_leads(limit=100, worker="test")
    for lead, name in zip(leads, ["Anna", "Ben", "Anna", "Ben"]):
        decision = RoutingDecision.objects.get(lead=lead)
        assert decision.assignment.lead_id == lead.pk and decision.chosen_rep.name == name
        assert f"Chosen: {name} by rule 'Everyone'" in decision.explained
        data = lead.events.get(kind="routed").data
        assert (data["decision_id"], data["cause"]["code"]) == (decision.pk, "rule")
    assert Assignment.objects.filter(is_current=True).count() == 4
    assert sorted(message.to[0] for message in mail.outbox) == ["anna@example.com"] * 2 + ["ben@example.com"] * 2


def test_a_lead_owned_by_another_path_in_the_meantime_is_left_alone():
    team, (anna, ben) = team_of("Anna", "Ben")
    RoutingRuleFactory(target_team=team)
    taken, free = LeadFactory(), LeadFactory()
    Lead.objects.filter(pk=taken.pk).update(owner=ben, status=Lead.Status.ASSIGNED)
    route_pending_leads(limit=100, worker="test")
    assert owner_names([taken, free]) == ["Ben", "Anna"]
    assert not RoutingDecision.objects.filter(lead=taken).exists()
    assert Lead.objects.filter(routing_requested_at__isnull=False).count() == 0


@pytest.mark.parametrize("strategy", Strategy.values)
def test_a_batch_costs_the_same_statements_for_ten_leads_as_for_fifty(strategy):
    team, _ = team_of("Anna", "Ben", "Carla")
    RoutingRuleFactory(target_team=team, strategy=strategy)
    LeadFactory.create_batch(2)
    route_pending_leads(limit=100, worker="test")  # rules compiled, rotation state created

    assert statements_to_route(50) == statements_to_route(10)


class RivalTransaction(threading.Thread):
    """Another session on its own connection that holds the rule's row lock until the batch waits for it, then
    makes the batch fail for real: `deadlock` locks a lead the batch claimed (opposite order, PostgreSQL aborts
    the batch), `lost connection` terminates the batch's backend as a database restart or a proxy would."""

    def __init__(self, *, rule, lead, fault):
        super().__init__(daemon=True)
        settings = connection.settings_dict
        self.dsn = f"host={settings['HOST']} port={settings['PORT']} user={settings['USER']} dbname={settings['NAME']}"
        self.rule, self.lead, self.fault = rule, lead, fault
        self.locked = threading.Event()
        self.error = None

    def run(self):
        try:
            with psycopg.connect(self.dsn) as rival:
                # The batch must be the one PostgreSQL picks to break the deadlock: it waits first and checks first.
                rival.execute("SET deadlock_timeout = '10s'")
                rival.execute("SELECT 1 FROM routing_routingrule WHERE id = %s FOR UPDATE", [self.rule.pk])
                self.locked.set()
                batch_pid = self._wait_for_a_session_blocked_by(rival)
                if self.fault == "deadlock":
                    rival.execute("SELECT 1 FROM leads_lead WHERE id = %s FOR UPDATE", [self.lead.pk])
                else:
                    rival.execute("SELECT pg_terminate_backend(%s)", [batch_pid])
                rival.rollback()
        except Exception as error:  # noqa: BLE001 — reported by the test's thread
            self.error = error

    @staticmethod
    def _wait_for_a_session_blocked_by(rival):
        deadline = time.monotonic() + 20
        with psycopg.connect(rival.info.dsn, autocommit=True) as watcher:
            while time.monotonic() < deadline:
                row = watcher.execute(
                    "SELECT pid FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", [rival.info.backend_pid]
                ).fetchone()
                if row:
                    return row[0]
                time.sleep(0.05)
        raise AssertionError("the batch never waited for the rule's row lock")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("fault", "error"),
    [("deadlock", "deadlock detected"), ("lost connection", "terminating connection due to administrator command")],
)
def test_a_batch_that_deadlocks_or_loses_its_connection_is_routed_again_one_lead_per_transaction(
    fault, error, redis_connection, settings, caplog
):
    settings.ROUTING_LEADS_PER_TRANSACTION = 10
    team, _ = team_of("Anna", "Ben", "Carla")
    rule = RoutingRuleFactory(target_team=team)
    leads = LeadFactory.create_batch(10)
    rival = RivalTransaction(rule=rule, lead=leads[0], fault=fault)
    rival.start()
    assert rival.locked.wait(10)

    assert route_pending_leads(limit=100, worker="test") == 10

    rival.join(10)
    assert rival.error is None
    assert f"Routing a batch of 10 leads failed ({error}" in caplog.text
    assert not Lead.objects.filter(routing_requested_at__isnull=False).exists()
    assert Counter(owner_names(leads)) == {"Anna": 4, "Ben": 3, "Carla": 3}
    assert Assignment.objects.filter(is_current=True).count() == 10
    assert not RoutingDecision.objects.values("lead").annotate(n=Count("id")).filter(n__gt=1).exists()
    with connection.cursor() as cursor:  # each assignment written by a transaction of its own
        cursor.execute("SELECT count(DISTINCT xmin::text) FROM routing_assignment")
        assert cursor.fetchone()[0] == 10
