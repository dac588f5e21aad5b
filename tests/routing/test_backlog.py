"""The backlog drains: leads parked because nobody was eligible are routed again when capacity frees."""

import datetime as dt

import pytest
import time_machine
from django.db import transaction

from leads.lifecycle import lead_convert, lead_lose
from leads.models import Lead
from reps.models import Rep
from reps.services import rep_set_available
from routing.backlog import backlog_requeue, backlog_requeue_due
from routing.models import RoutingDecision, RoutingRule
from routing.reassignment import lead_reassign
from routing.services import route_pending_leads
from tests.factories import LeadFactory, PoolFactory, RoutingRuleFactory, TeamFactory, UserFactory, rep_named

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def full_team():
    """Anna can hold one open lead and has one; the rule parks what she cannot take in 'Overflow'."""
    team = TeamFactory(name="Sales")
    anna = rep_named("Anna", teams=[team], max_open_leads=1)
    pool = PoolFactory(name="Overflow")
    RoutingRuleFactory(
        name="Sales", target_team=team, pool=pool, when_none_eligible=RoutingRule.WhenNoneEligible.QUEUE
    )
    with time_machine.travel(START, tick=False):
        first, waiting = LeadFactory(), LeadFactory()
        route_pending_leads(limit=10, worker="test")
    first.refresh_from_db()
    waiting.refresh_from_db()
    assert (first.owner, waiting.owner, waiting.pool) == (anna, None, pool)
    return {"team": team, "anna": anna, "pool": pool, "first": first, "waiting": waiting}


def drain(at):
    with time_machine.travel(at, tick=False):
        route_pending_leads(limit=10, worker="test")


def test_converting_a_lead_routes_the_waiting_lead(full_team, django_capture_on_commit_callbacks):
    later = START + dt.timedelta(minutes=5)
    with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
        lead_convert(lead_id=full_team["first"].pk, actor=full_team["anna"].user)
    drain(later)

    waiting = Lead.objects.get(pk=full_team["waiting"].pk)
    assert (waiting.owner, waiting.pool, waiting.status) == (full_team["anna"], None, Lead.Status.ASSIGNED)


def test_losing_a_lead_routes_the_waiting_lead(full_team, django_capture_on_commit_callbacks):
    later = START + dt.timedelta(minutes=5)
    with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
        lead_lose(lead_id=full_team["first"].pk, actor=full_team["anna"].user, reason="No budget")
    drain(later)

    assert Lead.objects.get(pk=full_team["waiting"].pk).owner == full_team["anna"]


def test_a_close_that_rolls_back_retries_nothing(full_team, django_capture_on_commit_callbacks):
    later = START + dt.timedelta(minutes=5)
    with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            lead_convert(lead_id=full_team["first"].pk, actor=full_team["anna"].user)
            raise RuntimeError("rolled back")

    assert Lead.objects.get(pk=full_team["waiting"].pk).routing_requested_at is None


def test_moving_a_lead_away_from_a_full_rep_routes_the_waiting_lead(full_team, django_capture_on_commit_callbacks):
    ben = rep_named("Ben")
    later = START + dt.timedelta(minutes=5)
    with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
        lead_reassign(lead_id=full_team["first"].pk, to_rep=ben, actor=UserFactory(), reason="Key account")
    drain(later)

    assert Lead.objects.get(pk=full_team["waiting"].pk).owner == full_team["anna"]


def test_a_rep_back_from_away_gets_the_waiting_lead(full_team, django_capture_on_commit_callbacks):
    carla = rep_named("Carla", teams=[full_team["team"]], status=Rep.Status.AWAY)
    later = START + dt.timedelta(minutes=5)
    with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
        rep_set_available(rep=carla)
    drain(later)

    assert Lead.objects.get(pk=full_team["waiting"].pk).owner == carla


def test_still_nobody_eligible_goes_back_to_the_pool_with_one_more_decision(full_team):
    waiting = full_team["waiting"]
    later = START + dt.timedelta(minutes=5)
    with time_machine.travel(later, tick=False):
        assert backlog_requeue(limit=10, tried_before=later) == 1
        assert backlog_requeue(limit=10, tried_before=later) == 0  # already queued
        route_pending_leads(limit=10, worker="test")
        assert backlog_requeue(limit=10, tried_before=later - dt.timedelta(seconds=30)) == 0  # tried just now

    waiting.refresh_from_db()
    assert (waiting.owner, waiting.pool, waiting.routing_requested_at) == (None, full_team["pool"], None)
    assert list(RoutingDecision.objects.filter(lead=waiting).values_list("outcome", flat=True)) == ["pooled"] * 2


def test_capacity_events_retry_a_lead_at_most_every_30_seconds(full_team, django_capture_on_commit_callbacks):
    carla = rep_named("Carla", teams=[full_team["team"]], status=Rep.Status.AWAY)
    with time_machine.travel(START + dt.timedelta(seconds=10), tick=False), \
            django_capture_on_commit_callbacks(execute=True):
        rep_set_available(rep=Rep.objects.get(pk=full_team["anna"].pk))  # full: frees nothing
    assert Lead.objects.get(pk=full_team["waiting"].pk).routing_requested_at is None

    with time_machine.travel(START + dt.timedelta(seconds=31), tick=False), \
            django_capture_on_commit_callbacks(execute=True):
        rep_set_available(rep=carla)
    assert Lead.objects.get(pk=full_team["waiting"].pk).routing_requested_at is not None


def test_leads_of_a_claimable_pool_are_not_requeued():
    pool = PoolFactory(name="Self-serve")
    RoutingRuleFactory(name="Claim", target_type=RoutingRule.TargetType.POOL, pool=pool)
    with time_machine.travel(START, tick=False):
        lead = LeadFactory()
        route_pending_leads(limit=10, worker="test")
    assert Lead.objects.get(pk=lead.pk).pool == pool

    assert backlog_requeue(limit=10, tried_before=START + dt.timedelta(days=1)) == 0


def test_sweep_retries_the_backlog_when_no_event_announces_a_free_rep(full_team, settings):
    settings.ROUTING_BACKLOG_RETRY_SECONDS = 300
    # Anna's cap was raised in the admin: no service call, no capacity event.
    Rep.objects.filter(pk=full_team["anna"].pk).update(max_open_leads=2)

    with time_machine.travel(START + dt.timedelta(minutes=4), tick=False):
        assert backlog_requeue_due(now=START + dt.timedelta(minutes=4)) == 0  # tried 4 minutes ago

    with time_machine.travel(START + dt.timedelta(minutes=6), tick=False):
        assert backlog_requeue_due(now=START + dt.timedelta(minutes=6)) == 1
    drain(START + dt.timedelta(minutes=6))
    assert Lead.objects.get(pk=full_team["waiting"].pk).owner == full_team["anna"]
