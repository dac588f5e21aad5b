"""Routing, the simulation and claims read a rep's loads from one place: they agree on who is at a cap."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from leads.models import Lead
from routing.capacity import LAST_HOUR, TODAY, rep_loads
from routing.claims import _check_capacity
from routing.services import route_pending_leads
from routing.simulation import routing_simulate
from tests.factories import AssignmentFactory, LeadFactory, RoutingRuleFactory, TeamFactory, rep_named

pytestmark = pytest.mark.django_db
# 01:00 on 3 March in Tokyo, still 2 March in UTC.
NOW = dt.datetime(2026, 3, 2, 16, 0, tzinfo=dt.UTC)


def received_at(rep, *moments):
    """Leads the rep received (and has closed since) at these instants."""
    for moment in moments:
        with time_machine.travel(moment, tick=False):
            lead = LeadFactory(owner=rep, status=Lead.Status.CONVERTED, routing_requested_at=None)
            AssignmentFactory(lead=lead, rep=rep)


def what_each_reader_says(rep):
    """(routing gives the rep a lead, the simulation would, a claim is allowed) at NOW."""
    lead = LeadFactory()
    with time_machine.travel(NOW, tick=False):
        simulated = routing_simulate(leads=Lead.objects.filter(pk=lead.pk), at=NOW).leads[0].rep == rep
        try:
            _check_capacity(rep, NOW)
            may_claim = True
        except ValidationError:
            may_claim = False
        route_pending_leads(limit=10, worker="test")
    return Lead.objects.get(pk=lead.pk).owner == rep, simulated, may_claim


@pytest.fixture
def tokyo_rep():
    team = TeamFactory(name="APAC")
    rep = rep_named("Kenji", teams=[team], time_zone="Asia/Tokyo", max_new_leads_per_day=2)
    RoutingRuleFactory(name="APAC", target_team=team)
    return rep


def test_yesterday_in_the_reps_time_zone_does_not_count_for_any_reader(tokyo_rep):
    # 23:00 and 00:30 in Tokyo: only the second is the rep's today, though both are today in UTC.
    received_at(tokyo_rep, NOW - dt.timedelta(hours=2), NOW - dt.timedelta(minutes=30))

    loads = rep_loads([tokyo_rep], at=NOW)
    assert (loads.received(TODAY, tokyo_rep.pk), loads.received(LAST_HOUR, tokyo_rep.pk)) == (1, 0)
    assert what_each_reader_says(tokyo_rep) == (True, True, True)


def test_a_rep_at_the_daily_cap_is_refused_by_every_reader(tokyo_rep):
    received_at(tokyo_rep, NOW - dt.timedelta(minutes=50), NOW - dt.timedelta(minutes=30))

    assert what_each_reader_says(tokyo_rep) == (False, False, False)


def test_a_rep_at_the_hourly_cap_is_refused_by_every_reader_until_the_hour_is_over(tokyo_rep):
    tokyo_rep.max_new_leads_per_day, tokyo_rep.max_new_leads_per_hour = None, 1
    tokyo_rep.save()
    received_at(tokyo_rep, NOW - dt.timedelta(minutes=59))
    assert what_each_reader_says(tokyo_rep) == (False, False, False)


def test_an_assignment_exactly_an_hour_old_no_longer_counts_for_any_reader(tokyo_rep):
    tokyo_rep.max_new_leads_per_day, tokyo_rep.max_new_leads_per_hour = None, 1
    tokyo_rep.save()
    received_at(tokyo_rep, NOW - dt.timedelta(hours=1))
    assert what_each_reader_says(tokyo_rep) == (True, True, True)
