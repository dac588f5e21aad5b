"""Performance-based routing: shares follow conversion over known outcomes, interleaved, with room for new reps."""

import datetime as dt
from collections import Counter

import pytest
import time_machine

from leads.models import Lead
from routing.explain import state_text
from routing.models import RotationState, RoutingDecision, RoutingRule
from routing.services import route_pending_leads
from tests.factories import LeadFactory, RoutingRuleFactory, TeamFactory, rep_named

pytestmark = pytest.mark.django_db
Status = Lead.Status
NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def fifty_leads_per_transaction(settings):
    settings.ROUTING_LEADS_PER_TRANSACTION = 50


def history(rep, *, converted=0, lost=0, open_leads=0, days_ago=10):
    """Leads the rep was given `days_ago` days ago (all in one segment: Software, 250 employees)."""
    for status, count in ((Status.CONVERTED, converted), (Status.LOST, lost), (Status.ASSIGNED, open_leads)):
        LeadFactory.create_batch(count, owner=rep, status=status, assigned_at=NOW - dt.timedelta(days=days_ago),
                                 routing_requested_at=None)


def performance_team(*names, **rule_fields):
    team = TeamFactory(name="Sales")
    reps = [rep_named(name, teams=[team]) for name in names]
    RoutingRuleFactory(target_team=team, strategy=RoutingRule.Strategy.PERFORMANCE, **rule_fields)
    return reps


def route_new_leads(count) -> list:
    """Names of the owners of `count` new leads, in the order they were routed (through the real batch path)."""
    leads = LeadFactory.create_batch(count)
    assert route_pending_leads(limit=count, worker="test") == count
    names = dict(Lead.objects.filter(pk__in=[lead.pk for lead in leads]).values_list("pk", "owner__user__first_name"))
    return [names[lead.pk] for lead in leads]


def longest_run(names) -> int:
    longest = run = 0
    for previous, name in zip([None, *names], names):
        run = run + 1 if name == previous else 1
        longest = max(longest, run)
    return longest


def strategy_state(lead, name) -> str:
    """What the strategy said about one rep when it routed `lead` (the audit trail's data, as the explanation says it)."""
    candidates = RoutingDecision.objects.get(lead=lead).trace["rules"][0]["candidates"]
    return state_text(next(candidate["state"] for candidate in candidates if candidate["name"] == name))


def measured_case():
    """The issue's case: A converts 40 % of its leads whose outcome is known, B 10 %, both also hold fresh
    leads nobody has worked yet, and C is new."""
    a, b, _c = performance_team("A", "B", "C")
    history(a, converted=8, lost=12, open_leads=20, days_ago=3)
    history(b, converted=2, lost=18, open_leads=20, days_ago=3)


def test_leads_are_shared_by_known_conversion_interleaved_and_a_new_rep_gets_the_average():
    measured_case()

    picks = route_new_leads(200)  # four transactions of 50

    # Before: A 150, B 50, C 0, in blocks of 50. Prior 25 % (the segment's known outcomes, 10/40):
    # A 37 %, B 13 %, C 25 % (no record: the average) -> shares 49 %, 17 %, 33 %.
    assert Counter(picks) == {"A": 99, "B": 35, "C": 66}
    assert longest_run(picks) <= 2
    assert picks[:6] == ["A", "C", "B", "A", "C", "A"]
    # Every transaction shares out alike: the leads A was given do not count against A.
    assert [Counter(picks[start:start + 50])["A"] for start in range(0, 200, 50)] == [25, 25, 24, 25]


def test_fresh_open_leads_do_not_lower_a_reps_rate():
    measured_case()
    first, *_ = LeadFactory.create_batch(1)
    route_pending_leads(limit=1, worker="test")
    route_new_leads(200)
    last = LeadFactory()
    route_pending_leads(limit=1, worker="test")

    for lead in (first, last):  # A holds 20 fresh leads, then 120: its rate is 8 of 20 known outcomes either way
        assert strategy_state(lead, "A").startswith(
            "conversion 37% in segment (8/20 known outcomes, smoothed), share 49%")
    assert strategy_state(last, "C").startswith("conversion 25% in segment (0/0 known outcomes, smoothed), new rep")


def test_one_lead_per_transaction_routes_exactly_as_fifty(settings):
    measured_case()
    settings.ROUTING_LEADS_PER_TRANSACTION = 1
    one_by_one = route_new_leads(30)
    Lead.objects.filter(status=Status.ASSIGNED, assigned_at=NOW).delete()
    RotationState.objects.update(performance_credit=0.0)
    settings.ROUTING_LEADS_PER_TRANSACTION = 50
    assert route_new_leads(30) == one_by_one  # the credit written at each flush is the credit kept in memory


def test_a_new_rep_gets_at_least_the_rules_minimum_share():
    a, b, c = performance_team("A", "B", "C", performance_new_rep_share=25)
    history(a, converted=40, lost=60)
    history(b, converted=10, lost=90)
    history(c, lost=10)  # a bad start: 8 % smoothed, 14 % of the leads by rate alone

    picks = route_new_leads(100)

    assert Counter(picks) == {"A": 59, "B": 16, "C": 25}
    assert longest_run(picks) <= 3


def test_a_rep_with_a_record_gets_no_minimum_share():
    a, b, c = performance_team("A", "B", "C", performance_new_rep_share=25)
    history(a, converted=40, lost=60)
    history(b, converted=10, lost=90)
    history(c, converted=1, lost=19)  # 20 known outcomes: no longer new

    assert Counter(route_new_leads(100))["C"] == 15  # its rate's share (9 % of 58 %), not the 25 % minimum


def test_an_open_lead_counts_as_lost_once_older_than_the_rules_outcome_window():
    a, b = performance_team("A", "B", performance_outcome_days=30)
    history(a, converted=4)
    history(a, open_leads=6, days_ago=45)
    history(b, converted=4)
    history(b, open_leads=6, days_ago=10)
    rule = RoutingRule.objects.get()

    lead = LeadFactory()
    route_pending_leads(limit=1, worker="test")
    assert "(4/10 known outcomes" in strategy_state(lead, "A")
    assert "(4/4 known outcomes" in strategy_state(lead, "B")

    rule.performance_outcome_days = 7
    rule.save()
    lead = LeadFactory()
    route_pending_leads(limit=1, worker="test")
    assert "(4/10 known outcomes" in strategy_state(lead, "B")


def test_leads_outside_the_segment_or_the_window_do_not_count():
    a, _b = performance_team("A", "B", performance_window_days=60)
    history(a, converted=4, lost=1)
    history(a, converted=9, days_ago=90)  # before the window
    LeadFactory.create_batch(9, owner=a, status=Status.CONVERTED, industry="Retail", routing_requested_at=None,
                             assigned_at=NOW - dt.timedelta(days=3))

    lead = LeadFactory()
    route_pending_leads(limit=1, worker="test")
    assert "(4/5 known outcomes" in strategy_state(lead, "A")


def test_with_no_conversion_anywhere_every_rep_gets_the_same_share():
    a, b, _c = performance_team("A", "B", "C")
    history(a, lost=30)
    history(b, lost=30)
    assert Counter(route_new_leads(30)) == {"A": 10, "B": 10, "C": 10}


def test_a_rep_at_a_cap_is_skipped_and_the_others_keep_their_proportions():
    a, b, c = performance_team("A", "B", "C")
    history(a, converted=8, lost=12)
    history(b, converted=2, lost=18)
    c.max_open_leads = 5
    c.save()

    picks = route_new_leads(50)

    assert Counter(picks)["C"] == 5
    assert Counter(picks[25:]) == {"A": 18, "B": 7}  # C is full: A and B go on 37 to 13, interleaved
    assert longest_run(picks) <= 4
