"""Old routing decisions: compacted after ROUTING_DECISION_TRACE_RETENTION_DAYS, still readable wherever shown."""

import datetime as dt

import django_rq
import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from routing.explain import COMPACTED_KEY
from routing.jobs import schedule_trace_compaction
from routing.models import RoutingDecision
from routing.retention import decision_traces_compact
from routing.services import route_pending_leads
from tests.factories import (
    LeadFactory, RoutingDecisionFactory, RoutingRuleFactory, RuleConditionFactory, TeamFactory, rep_named,
    sales_manager,
)

pytestmark = pytest.mark.django_db
ROUTED_AT = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
LATER = ROUTED_AT + dt.timedelta(days=91)  # past the default 90 days


@pytest.fixture
def old_decision(db):
    """Rule 2 'DACH' places a German lead (score 50): rule 1 (score ≥ 90) did not match, Anna chosen, Ben and Carla eligible, Dan inactive."""
    team = TeamFactory(name="Sales")
    for name in ("Anna", "Ben", "Carla"):
        rep_named(name, teams=[team])
    rep_named("Dan", teams=[team], is_active=False)
    hot = RoutingRuleFactory(name="Hot", priority=10, target_team=team)
    RuleConditionFactory(rule=hot, field="score", operator="gte", value="90")
    dach = RoutingRuleFactory(name="DACH", priority=20, target_team=team)
    RuleConditionFactory(rule=dach, field="country", operator="in", value="DE, AT")
    lead = LeadFactory(country="DE", email="olga@kunde.example")
    with time_machine.travel(ROUTED_AT, tick=False):
        route_pending_leads(limit=10, worker="test")
    return RoutingDecision.objects.get(lead=lead)


def test_a_decision_past_the_retention_keeps_its_outcome_rule_and_rep_but_not_every_candidate(old_decision):
    before = old_decision.explained

    assert decision_traces_compact(now=LATER) == 1

    old_decision.refresh_from_db()
    trace = old_decision.trace
    assert trace[COMPACTED_KEY] == LATER.date().isoformat()
    assert [rule["name"] for rule in trace["rules"]] == ["DACH"]
    assert [c["name"] for c in trace["rules"][0]["candidates"]] == [old_decision.chosen_rep.name]
    assert trace["outcome"] == {"code": "chosen", "params": {"rep": old_decision.chosen_rep.name, "rule": "DACH"}}
    assert old_decision.outcome == "assigned" and old_decision.rule.name == "DACH"
    assert "more_excluded" not in trace["rules"][0] and "more_eligible" not in trace["rules"][0]
    explained = old_decision.explained
    assert "Rule 2 'DACH' matched: country is one of DE, AT (lead: DE)." in explained
    assert f"→ assigned to {old_decision.chosen_rep.name}." in explained
    assert "… and 3 other candidates, not listed any more" in explained
    assert "1 rule checked did not match" in explained
    assert "Rule 1 'Hot' did not match" in before and "'Hot'" not in explained


def test_decisions_within_the_retention_keep_their_whole_trace(old_decision, settings):
    settings.ROUTING_DECISION_TRACE_RETENTION_DAYS = 120
    trace = old_decision.trace

    assert decision_traces_compact(now=LATER) == 0

    old_decision.refresh_from_db()
    assert old_decision.trace == trace


def test_compacting_again_changes_nothing(old_decision):
    decision_traces_compact(now=LATER)
    old_decision.refresh_from_db()
    once = old_decision.trace

    assert decision_traces_compact(now=LATER + dt.timedelta(days=30)) == 0
    old_decision.refresh_from_db()
    assert old_decision.trace == once


def test_a_decision_written_before_traces_were_data_keeps_its_explanation_text(db):
    with time_machine.travel(ROUTED_AT, tick=False):
        decision = RoutingDecisionFactory(trace={"rules": []}, explanation="Chosen: Anna by rule 'DACH'.")

    decision_traces_compact(now=LATER)

    decision.refresh_from_db()
    assert decision.explained == "Chosen: Anna by rule 'DACH'."
    assert decision.trace[COMPACTED_KEY]


def test_every_page_showing_a_compacted_decision_renders_it(old_decision, client):
    decision_traces_compact(now=LATER)
    client.force_login(sales_manager(is_staff=True, sees_every_team=True))
    rep_user = old_decision.chosen_rep.user

    for url in (reverse("admin:routing_routingdecision_change", args=[old_decision.pk]),
                reverse("admin:leads_lead_change", args=[old_decision.lead_id]),
                reverse("routing:lead_detail", args=[old_decision.lead_id])):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "not listed any more" in response.content.decode(), url
    client.force_login(rep_user)
    queue = client.get(reverse("routing:queue")).content.decode()
    assert "Rule 2 &#x27;DACH&#x27; matched: country is one of DE, AT (lead: DE)." in queue


def test_the_command_compacts_every_old_decision(old_decision, capsys):
    with time_machine.travel(LATER, tick=False):
        call_command("compact_routing_decisions", "--batch-size", "1")

    assert "Compacted the traces of 1 routing decisions." in capsys.readouterr().out
    old_decision.refresh_from_db()
    assert COMPACTED_KEY in old_decision.trace


def test_the_sweep_enqueues_one_compaction_per_interval_when_decisions_wait_for_it(
        old_decision, settings, redis_connection, django_capture_on_commit_callbacks):
    settings.ROUTING_EMBEDDED = False

    with django_capture_on_commit_callbacks(execute=True):  # django-rq enqueues on commit
        with time_machine.travel(ROUTED_AT + dt.timedelta(days=1), tick=False):
            assert schedule_trace_compaction() is False  # nothing old enough yet
        with time_machine.travel(LATER, tick=False):
            assert schedule_trace_compaction() is True
            assert schedule_trace_compaction() is False  # another sweeper, or the next sweep: already queued

    assert [job.func_name for job in django_rq.get_queue("routing").jobs] == ["routing.jobs.compact_routing_decisions"]
