"""Per rule: where a lead goes when its first-touch deadline is missed (escalation team or pool)."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from leads.models import Lead, LeadEvent
from routing.models import Assignment, RoutingRule
from routing.reassignment import sla_reassign_overdue
from routing.services import route_pending_leads
from tests.factories import LeadFactory, PoolFactory, RoutingRuleFactory, TeamFactory, rep_named

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
BREACH = START + dt.timedelta(minutes=31)
Breach = RoutingRule.SlaBreachAction


def route_one_lead(**rule_fields):
    team = TeamFactory(name="Front line")
    anna = rep_named("Anna", teams=[team])
    RoutingRuleFactory(target_team=team, sla_minutes=30, **rule_fields)
    with time_machine.travel(START, tick=False):
        lead = LeadFactory()
        route_pending_leads(limit=10, worker="test")
    lead.refresh_from_db()
    assert lead.owner == anna
    return lead


def test_missed_deadline_goes_to_the_least_loaded_rep_of_the_escalation_team():
    closers = TeamFactory(name="Closers")
    busy, free = rep_named("Busy", teams=[closers]), rep_named("Free", teams=[closers])
    LeadFactory(owner=busy, status=Lead.Status.ASSIGNED, routing_requested_at=None)
    lead = route_one_lead(sla_breach_action=Breach.TEAM, sla_escalation_team=closers)

    with time_machine.travel(BREACH, tick=False):
        assert sla_reassign_overdue(now=BREACH) == 1
    lead.refresh_from_db()
    assert lead.owner == free and lead.reassignment_count == 1
    assert Assignment.objects.get(lead=lead, is_current=True).reason.startswith("SLA breach")


def test_missed_deadline_moves_the_lead_to_the_escalation_pool():
    overflow = PoolFactory(name="Escalations")
    lead = route_one_lead(sla_breach_action=Breach.POOL, sla_escalation_pool=overflow)

    with time_machine.travel(BREACH, tick=False):
        assert sla_reassign_overdue(now=BREACH) == 1
        assert sla_reassign_overdue(now=BREACH) == 0
    lead.refresh_from_db()
    assert (lead.owner, lead.pool, lead.status, lead.sla_due_at) == (None, overflow, Lead.Status.NEW, None)
    assert not Assignment.objects.filter(lead=lead, is_current=True).exists()
    assert "Anna → pool Escalations, SLA breach" in LeadEvent.objects.filter(lead=lead).last().message


def test_escalation_policy_needs_its_team_or_pool():
    team = TeamFactory(name="T")
    rep_named("Someone", teams=[team])
    rule = RoutingRuleFactory.build(target_team=team, sla_breach_action=Breach.POOL)
    with pytest.raises(ValidationError) as error:
        rule.full_clean()
    assert "sla_escalation_pool" in error.value.message_dict
