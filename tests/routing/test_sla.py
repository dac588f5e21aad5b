"""First-touch deadlines: set on assignment, an untouched lead moves at the deadline, then escalates."""

import datetime as dt

import pytest
import time_machine

from django.utils import translation

from leads.models import Lead, LeadEvent
from routing.models import Assignment, RoutingRule
from routing.reassignment import sla_reassign_overdue
from routing.services import route_pending_leads
from routing.timeline import event_text
from tests.factories import LeadFactory, RoutingRuleFactory, TeamFactory, rep_named

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def routed_lead():
    """A lead routed at START by a 30-minute rule of a three-rep team."""
    team = TeamFactory(name="Sales")
    reps = [rep_named(name, teams=[team]) for name in ("Anna", "Ben", "Carla")]
    rule = RoutingRuleFactory(target_team=team, strategy=RoutingRule.Strategy.ROUND_ROBIN, sla_minutes=30)
    with time_machine.travel(START, tick=False):
        lead = LeadFactory()
        route_pending_leads(limit=10, worker="test")
    lead.refresh_from_db()
    return {"lead": lead, "reps": reps, "team": team, "rule": rule}


def test_assignment_sets_the_rules_first_touch_deadline(routed_lead):
    assert routed_lead["lead"].sla_due_at == START + dt.timedelta(minutes=30)


def test_rule_without_sla_uses_the_global_default(settings):
    settings.ROUTING_DEFAULT_SLA_MINUTES = 15
    team = TeamFactory(name="Default")
    rep_named("Dora", teams=[team])
    RoutingRuleFactory(target_team=team)
    with time_machine.travel(START, tick=False):
        lead = LeadFactory()
        route_pending_leads(limit=10, worker="test")
    assert Lead.objects.get(pk=lead.pk).sla_due_at == START + dt.timedelta(minutes=15)


def test_nothing_moves_before_the_deadline(routed_lead):
    assert sla_reassign_overdue(now=START + dt.timedelta(minutes=29)) == 0


def test_untouched_lead_goes_to_another_rep_at_the_deadline_and_only_once(routed_lead):
    first_owner = routed_lead["lead"].owner
    breach = START + dt.timedelta(minutes=31)
    with time_machine.travel(breach, tick=False):
        assert sla_reassign_overdue(now=breach) == 1
        assert sla_reassign_overdue(now=breach) == 0  # a second sweep changes nothing

    lead = Lead.objects.get(pk=routed_lead["lead"].pk)
    assert lead.owner not in (None, first_owner)
    assert lead.reassignment_count == 1
    assert lead.sla_due_at == breach + dt.timedelta(minutes=30)
    current = Assignment.objects.get(lead=lead, is_current=True)
    assert (current.kind, current.reason) == (
        Assignment.Kind.REASSIGN, "SLA breach: not contacted within 30 minutes"
    )
    assert LeadEvent.objects.filter(lead=lead).last().message.startswith(
        f"{first_owner.name} → {lead.owner.name}, SLA breach"
    )


def test_touched_lead_is_not_reassigned(routed_lead):
    Lead.objects.filter(pk=routed_lead["lead"].pk).update(first_touch_at=START + dt.timedelta(minutes=5))
    assert sla_reassign_overdue(now=START + dt.timedelta(hours=2)) == 0
    assert Assignment.objects.filter(lead=routed_lead["lead"]).count() == 1


def test_breaches_never_return_the_lead_to_a_previous_owner_then_escalate_to_a_manager(routed_lead, settings):
    settings.ROUTING_MAX_REASSIGNMENTS = 2
    manager = rep_named("Maria")
    routed_lead["team"].managers.add(manager.user)
    now = START
    owners = [routed_lead["lead"].owner]
    for _ in range(3):
        now += dt.timedelta(minutes=31)
        with time_machine.travel(now, tick=False):
            assert sla_reassign_overdue(now=now) == 1
        owners.append(Lead.objects.get(pk=routed_lead["lead"].pk).owner)

    assert len(set(owners[:3])) == 3  # Anna, Ben and Carla each had it once
    lead = Lead.objects.get(pk=routed_lead["lead"].pk)
    assert lead.owner == manager
    assert lead.sla_due_at is None  # escalated: the sweep leaves it to the manager
    assert "escalated to a manager" in Assignment.objects.get(lead=lead, is_current=True).reason
    assert sla_reassign_overdue(now=now + dt.timedelta(days=1)) == 0


def test_lead_with_no_other_eligible_rep_and_no_manager_is_flagged_for_the_manager(routed_lead):
    lead = routed_lead["lead"]
    for rep in routed_lead["reps"]:
        if rep != lead.owner:
            rep.is_active = False
            rep.save(update_fields=["is_active"])
    now = START + dt.timedelta(minutes=31)
    with time_machine.travel(now, tick=False):
        assert sla_reassign_overdue(now=now) == 1
        assert sla_reassign_overdue(now=now) == 0

    lead.refresh_from_db()
    assert lead.owner is not None and lead.sla_due_at is None
    event = LeadEvent.objects.get(lead=lead, kind=LeadEvent.Kind.ESCALATED)
    assert "no other rep is eligible" in event.message
    assert "Needs a manager" in event.message
    with translation.override("de"):  # the line is rendered for its reader from the stored cause
        assert "Braucht eine Führungskraft" in event_text(event)
        assert "Needs a manager" not in event_text(event)

