"""`manage.py routing_sweeper --once`: each step of the sweep has its effect (the loop runs the same steps)."""

import datetime as dt
import io

import django_rq
import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from leads.models import Lead, LeadEvent
from routing.jobs import QUEUE_NAME
from routing.models import RoutingDecision, RoutingRule
from routing.services import route_pending_leads
from tests.factories import LeadFactory, PoolFactory, RoutingRuleFactory, TeamFactory, rep_named
from tests.routing.support import work_the_routing_queue

# The command opens and closes its own connections (close_old_connections), as it does in production.
pytestmark = pytest.mark.django_db(transaction=True)
START = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def sales(settings, redis_connection):
    """Anna and Ben, round robin, 30 minutes to first touch, a reminder 10 minutes before."""
    settings.ROUTING_SLA_REMINDER_MINUTES = 10
    settings.ROUTING_DRAIN_IDLE_SECONDS = 0
    team = TeamFactory(name="Sales")
    reps = [rep_named("Anna", teams=[team]), rep_named("Ben", teams=[team])]
    RoutingRuleFactory(name="Sales", target_team=team, strategy=RoutingRule.Strategy.ROUND_ROBIN, sla_minutes=30)
    return {"team": team, "reps": reps}


def lead_routed_at(at):
    with time_machine.travel(at, tick=False):
        lead = LeadFactory()
        route_pending_leads(limit=10, worker="test")
    return Lead.objects.get(pk=lead.pk)


def sweep_once(at, redis_connection) -> str:
    """One sweep at `at`, after every wake-up so far was lost; its output (a failed step fails the test)."""
    redis_connection.flushdb()
    mail.outbox.clear()
    out, err = io.StringIO(), io.StringIO()
    with time_machine.travel(at, tick=False):
        call_command("routing_sweeper", "--once", stdout=out, stderr=err)
    assert err.getvalue() == ""
    return out.getvalue()


def test_sweep_reassigns_a_lead_past_its_first_touch_deadline(sales, redis_connection):
    lead = lead_routed_at(START)

    output = sweep_once(START + dt.timedelta(minutes=31), redis_connection)

    moved = Lead.objects.get(pk=lead.pk)
    assert moved.owner not in (None, lead.owner) and moved.reassignment_count == 1
    assert "Reassigned or escalated 1 leads past their first-touch deadline." in output


def test_sweep_reminds_the_owner_before_the_deadline(sales, redis_connection):
    lead = lead_routed_at(START)

    output = sweep_once(START + dt.timedelta(minutes=21), redis_connection)

    [reminder] = mail.outbox
    assert reminder.to == [lead.owner.user.email] and reminder.subject.startswith(f"Contact {lead} by")
    assert LeadEvent.objects.filter(lead=lead, data__sla_reminder=True).count() == 1
    assert Lead.objects.get(pk=lead.pk).owner == lead.owner  # before the deadline nothing moves
    assert "Reminded the owners of 1 leads" in output


def test_sweep_retries_a_lead_parked_for_lack_of_an_eligible_rep(sales, redis_connection):
    full = TeamFactory(name="Full")
    rep_named("Carla", teams=[full], max_open_leads=1)
    RoutingRule.objects.all().delete()
    RoutingRuleFactory(name="Full", target_team=full, pool=PoolFactory(name="Overflow"),
                       when_none_eligible=RoutingRule.WhenNoneEligible.QUEUE)
    lead_routed_at(START)  # Carla's one lead
    parked = lead_routed_at(START)
    assert (parked.owner, parked.routing_requested_at) == (None, None)

    output = sweep_once(START + dt.timedelta(minutes=6), redis_connection)

    assert Lead.objects.get(pk=parked.pk).routing_requested_at is not None
    assert "Queued 1 leads waiting for an eligible rep for routing again." in output
    work_the_routing_queue()
    assert RoutingDecision.objects.filter(lead=parked).count() == 2  # tried again (Carla is still full)
    assert Lead.objects.get(pk=parked.pk).owner is None


def test_sweep_wakes_workers_for_a_lead_whose_wake_up_was_lost(sales, redis_connection):
    with time_machine.travel(START, tick=False):
        stranded = LeadFactory()  # its wake-up is flushed away below: it waits only in PostgreSQL

    output = sweep_once(START + dt.timedelta(minutes=1), redis_connection)

    assert django_rq.get_queue(QUEUE_NAME).count == 1
    assert "Woke routing workers for leads waiting too long." in output
    work_the_routing_queue()
    assert Lead.objects.get(pk=stranded.pk).owner in sales["reps"]
