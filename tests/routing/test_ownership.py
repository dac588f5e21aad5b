"""Every change of a lead's owner goes through one writer: one assignment, one event, its cause as data, one publish."""

import datetime as dt

import pytest
import time_machine
from django.db import transaction

from leads.models import Lead, LeadEvent
from reps.services import rep_set_away
from routing.claims import lead_claim, leads_claim_next
from routing.events import OWNER_CHANGED, subscribe, unsubscribe
from routing.models import Assignment, RoutingRule
from routing.reassignment import lead_reassign, rep_deactivate, sla_reassign_overdue
from routing.services import route_pending_leads
from tests.factories import (
    AssignmentFactory, LeadFactory, PoolFactory, RoutingRuleFactory, TeamFactory, UserFactory, rep_named,
)
from tests.routing.support import lead_waiting_in_a_pool

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
BREACH = START + dt.timedelta(minutes=31)
Breach = RoutingRule.SlaBreachAction


@pytest.fixture
def published():
    """The OWNER_CHANGED payloads delivered, one list of changes per commit."""
    received = []

    def record(*, changes):
        received.append(changes)

    subscribe(OWNER_CHANGED, record)
    yield received
    unsubscribe(OWNER_CHANGED, record)


@pytest.fixture
def sales():
    """Anna owns one routed lead (30-minute SLA); Ben is her teammate; Mia manages the team and is a rep."""
    team = TeamFactory(name="Sales")
    anna, ben = rep_named("Anna", teams=[team]), rep_named("Ben", teams=[team])
    mia = rep_named("Mia")
    team.managers.add(mia.user)
    rule = RoutingRuleFactory(name="Everyone", target_team=team, sla_minutes=30)
    with time_machine.travel(START, tick=False):
        lead = LeadFactory()
        route_pending_leads(limit=10, worker="test")
    lead.refresh_from_db()
    if lead.owner != anna:
        lead_reassign(lead_id=lead.pk, to_rep=anna, actor=None, reason="Set up")
        Lead.objects.filter(pk=lead.pk).update(reassignment_count=0, sla_due_at=START + dt.timedelta(minutes=30))
        lead.refresh_from_db()
    return {"team": team, "anna": anna, "ben": ben, "mia": mia, "rule": rule, "lead": lead}


def sla_breach(sales, settings, **rule_fields):
    RoutingRule.objects.filter(pk=sales["rule"].pk).update(**rule_fields)
    with time_machine.travel(BREACH, tick=False):
        assert sla_reassign_overdue(now=BREACH) == 1


PATHS = {
    "manual": lambda sales, settings: lead_reassign(
        lead_id=sales["lead"].pk, to_rep=sales["ben"], actor=UserFactory(), reason="Speaks Portuguese"),
    "manual route again": lambda sales, settings: lead_reassign(
        lead_id=sales["lead"].pk, actor=UserFactory(), reason="Anna is overloaded"),
    "rep deactivated": lambda sales, settings: rep_deactivate(rep=sales["anna"], actor=None),
    "rep away": lambda sales, settings: (
        setattr(settings, "ROUTING_REASSIGN_WHEN_AWAY", True), rep_set_away(rep=sales["anna"])),
    "sla reroute": lambda sales, settings: sla_breach(sales, settings),
    "sla team": lambda sales, settings: sla_breach(
        sales, settings, sla_breach_action=Breach.TEAM, sla_escalation_team=rep_named(
            "Dora", teams=[TeamFactory(name="Closers")]).teams.get()),
    "sla escalation": lambda sales, settings: (
        setattr(settings, "ROUTING_MAX_REASSIGNMENTS", 0), sla_breach(sales, settings)),
}
CAUSES = {"manual": "manual", "manual route again": "manual", "rep deactivated": "rep_deactivated",
          "rep away": "rep_away", "sla reroute": "sla_breach", "sla team": "sla_breach", "sla escalation": "escalation"}


def counts():
    return Assignment.objects.count(), LeadEvent.objects.count()


@pytest.mark.parametrize("path", list(PATHS))
def test_every_move_writes_one_assignment_one_event_with_its_cause_and_publishes_once(
        path, sales, settings, published, django_capture_on_commit_callbacks):
    lead = sales["lead"]
    before = counts()
    with django_capture_on_commit_callbacks(execute=True):
        PATHS[path](sales, settings)

    assert counts() == (before[0] + 1, before[1] + 1)
    current = Assignment.objects.get(lead=lead, is_current=True)
    event = LeadEvent.objects.filter(lead=lead).last()
    assert current.cause["code"] == event.data["cause"]["code"] == CAUSES[path]
    assert (event.kind, event.data["from_rep_id"], event.data["to_rep_id"]) == (
        LeadEvent.Kind.REASSIGNED, sales["anna"].pk, current.rep_id)
    [[change]] = published
    assert (change["lead_id"], change["assignment_id"], change["previous_owner_id"], change["cause"]["code"]) == (
        lead.pk, current.pk, sales["anna"].pk, CAUSES[path])


def test_a_move_to_the_escalation_pool_writes_one_event_and_publishes_it_without_an_assignment(
        sales, settings, published, django_capture_on_commit_callbacks):
    pool = PoolFactory(name="Rescue")
    before = counts()
    with django_capture_on_commit_callbacks(execute=True):
        sla_breach(sales, settings, sla_breach_action=Breach.POOL, sla_escalation_pool=pool)

    assert counts() == (before[0], before[1] + 1)
    event = LeadEvent.objects.filter(lead=sales["lead"]).last()
    assert (event.data["cause"]["code"], event.data["pool_id"]) == ("sla_breach", pool.pk)
    [[change]] = published
    assert (change["assignment_id"], change["new_owner_id"], change["pool_id"]) == (None, None, pool.pk)


@pytest.mark.parametrize("path", list(PATHS))
def test_the_lead_keeps_the_rep_of_its_latest_assignment_as_its_last_owner(path, sales, settings):
    PATHS[path](sales, settings)

    lead = Lead.objects.get(pk=sales["lead"].pk)
    latest = Assignment.objects.filter(lead=lead).latest("created_at", "pk")
    assert (lead.last_owner_id, lead.owner_id) == (latest.rep_id, latest.rep_id)


def test_a_lead_moved_to_a_pool_keeps_the_rep_who_had_it_as_its_last_owner(sales, settings):
    sla_breach(sales, settings, sla_breach_action=Breach.POOL, sla_escalation_pool=PoolFactory(name="Rescue"))

    lead = Lead.objects.get(pk=sales["lead"].pk)
    assert (lead.owner, lead.last_owner) == (None, sales["anna"])


@pytest.mark.parametrize("path", list(PATHS))
def test_every_move_records_who_had_the_lead_before(path, sales, settings):
    PATHS[path](sales, settings)

    current = Assignment.objects.get(lead=sales["lead"], is_current=True)
    assert current.from_rep == sales["anna"]


def test_a_lead_taken_out_of_a_pool_was_last_had_by_the_rep_who_left_it_there(sales, settings):
    sla_breach(sales, settings, sla_breach_action=Breach.POOL, sla_escalation_pool=PoolFactory(name="Rescue"))

    lead_reassign(lead_id=sales["lead"].pk, to_rep=sales["ben"], actor=UserFactory(), reason="Ben has time")

    current = Assignment.objects.get(lead=sales["lead"], is_current=True)
    assert (current.rep, current.from_rep) == (sales["ben"], sales["anna"])


def test_assignments_before_the_column_get_the_rep_of_the_previous_assignment():
    """routing 0025's backfill: as the reassignment log worked it out from the previous assignment."""
    import importlib

    from django.db import connection

    migration = importlib.import_module("routing.migrations.0025_assignment_from_rep")
    anna, ben, carla = rep_named("Anna"), rep_named("Ben"), rep_named("Carla")
    lead = LeadFactory(routing_requested_at=None)
    first = AssignmentFactory(lead=lead, rep=anna, is_current=False)
    second = AssignmentFactory(lead=lead, rep=ben, is_current=False, kind=Assignment.Kind.MANUAL)
    third = AssignmentFactory(lead=lead, rep=carla, kind=Assignment.Kind.REASSIGN)
    Assignment.objects.update(from_rep=None)

    with connection.cursor() as cursor:
        cursor.execute(migration.BACKFILL)

    from_reps = dict(Assignment.objects.values_list("pk", "from_rep_id"))
    assert [from_reps[a.pk] for a in (first, second, third)] == [None, anna.pk, ben.pk]


def test_routing_a_batch_publishes_one_event_for_all_of_its_leads(published, django_capture_on_commit_callbacks):
    team = TeamFactory(name="Sales")
    rep_named("Anna", teams=[team])
    RoutingRuleFactory(name="Everyone", target_team=team)
    leads = LeadFactory.create_batch(3)
    with django_capture_on_commit_callbacks(execute=True):
        route_pending_leads(limit=10, worker="test")

    assert Assignment.objects.filter(cause__code="rule").count() == 3
    assert {(lead.owner.name, lead.last_owner.name) for lead in Lead.objects.all()} == {("Anna", "Anna")}
    assert LeadEvent.objects.filter(kind=LeadEvent.Kind.ROUTED, data__cause__code="rule").count() == 3
    [changes] = published
    assert sorted(change["lead_id"] for change in changes) == sorted(lead.pk for lead in leads)


@pytest.mark.parametrize("take_next", [False, True])
def test_a_claim_is_recorded_like_any_move_with_the_experiment_group_of_its_routing(
        take_next, published, django_capture_on_commit_callbacks):
    lead, claimer = lead_waiting_in_a_pool()
    before = counts()
    with django_capture_on_commit_callbacks(execute=True):
        if take_next:
            leads_claim_next(rep=claimer, count=5, actor=claimer.user)
        else:
            lead_claim(lead_id=lead.pk, rep=claimer, actor=claimer.user)

    assert counts() == (before[0] + 1, before[1] + 1)
    assignment = Assignment.objects.get(lead=lead, is_current=True)
    assert (assignment.kind, assignment.cause) == (
        Assignment.Kind.CLAIM, {"code": "claim", "params": {"pool": "Self-serve"}})
    assert Lead.objects.get(pk=lead.pk).last_owner == claimer
    assert LeadEvent.objects.filter(lead=lead).last().data["cause"]["code"] == "claim"
    [[change]] = published
    assert (change["assignment_id"], change["previous_owner_id"], change["new_owner_id"]) == (
        assignment.pk, None, claimer.pk)


@pytest.mark.parametrize("path", list(PATHS))
def test_a_move_that_rolls_back_publishes_nothing_and_writes_nothing(
        path, sales, settings, published, django_capture_on_commit_callbacks):
    lead = sales["lead"]
    before = counts()
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            PATHS[path](sales, settings)
            raise RuntimeError("the caller's transaction fails after the move")

    assert counts() == before and published == []
    assert Lead.objects.get(pk=lead.pk).owner == sales["anna"]


def test_a_manual_move_keeps_the_experiment_group_the_rules_put_the_lead_in(sales):
    from routing.models import RoutingDecision, RoutingExperiment

    experiment = RoutingExperiment.objects.create(
        name="Seniors", control_rule=sales["rule"], variant_rule=RoutingRuleFactory(name="Variant", is_active=False))
    RoutingDecision.objects.filter(lead=sales["lead"]).update(experiment=experiment, experiment_group="test")

    lead_reassign(lead_id=sales["lead"].pk, to_rep=sales["ben"], actor=UserFactory(), reason="Key account")

    current = Assignment.objects.get(lead=sales["lead"], is_current=True)
    assert (current.experiment, current.experiment_group) == (experiment, "test")
