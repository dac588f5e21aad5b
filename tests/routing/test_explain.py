"""A decision's explanation: stored as codes and parameters, rendered in the reader's language; old ones as written."""

import datetime as dt
import json

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from leads.models import Lead, LeadEvent
from routing.models import Assignment, RoutingDecision
from routing.services import route_pending_leads
from tests.factories import (
    AssignmentFactory, LeadFactory, RepSkillFactory, RoutingDecisionFactory, RoutingRuleFactory, RuleConditionFactory,
    RuleSkillRequirementFactory, SkillFactory, TeamFactory, TimeOffFactory, rep_named, sales_manager,
)

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)

# A decision as the engine wrote it before its trace held codes: English fragments and the explanation as text.
OLD_TRACE = {
    "rules": [{
        "id": 1, "position": 1, "name": "DACH", "matched": True, "match_mode": "all",
        "conditions": [{"text": "country is one of DE, AT", "matched": True, "actual": "DE"}],
        "target": "team Sales", "strategy": "round_robin", "chosen_rep_id": None,
        "candidates": [{"rep_id": 1, "name": "Ben", "excluded": "on_leave", "reason": "on leave until 2026-03-04",
                        "state": None}],
        "result": "assigned to Anna",
    }],
    "rules_total": 1, "skipped_by_index": 0, "territory": None, "account": None, "excluded_previous_owners": [],
}
OLD_EXPLANATION = ("Rule 1 'DACH' matched: country is one of DE, AT (lead: DE).\n"
                   "  Candidates: team Sales (round robin: least recently assigned).\n"
                   "  Ben: on leave until 2026-03-04.\n  → assigned to Anna.\nChosen: Anna by rule 'DACH'.")


@pytest.fixture
def routed(db):
    """A lead routed by a rule with a condition and a skill: one rep on leave, one below the skill level, one chosen."""
    team = TeamFactory(name="Sales")
    anna = rep_named("Anna", teams=[team])
    ben = rep_named("Ben", teams=[team])
    carla = rep_named("Carla", teams=[team])
    TimeOffFactory(rep=ben, start=NOW - dt.timedelta(days=1), end=NOW + dt.timedelta(days=2), reason="Vacation")
    german = SkillFactory(name="German")
    RepSkillFactory(rep=anna, skill=german, level=4)
    RepSkillFactory(rep=carla, skill=german, level=2)
    rule = RoutingRuleFactory(name="DACH", target_team=team)
    RuleConditionFactory(rule=rule, field="country", operator="in", value="DE, AT")
    RuleSkillRequirementFactory(rule=rule, skill=german, min_level=3)
    lead = LeadFactory(country="DE")
    with time_machine.travel(NOW, tick=False):
        route_pending_leads(limit=10, worker="test")
    return RoutingDecision.objects.get(lead=lead)


def test_a_decision_stores_codes_and_parameters_and_no_sentence(routed):
    rule = routed.trace["rules"][0]
    candidates = {candidate["name"]: candidate for candidate in rule["candidates"]}

    assert routed.explanation == ""
    assert rule["conditions"] == [{"field": "country", "op": "in", "value": "DE, AT", "matched": True, "actual": "DE"}]
    assert rule["target"] == {"code": "team", "team": "Sales"} and rule["result"] == "assigned"
    assert candidates["Ben"]["excluded"] == "on_leave"
    assert candidates["Ben"]["why"] == {"until": "2026-03-04 10:00 UTC", "note": "Vacation"}
    assert candidates["Carla"] == {"rep_id": candidates["Carla"]["rep_id"], "name": "Carla", "excluded": "missing_skill",
                                   "why": {"skill": "German", "min": 3, "level": 2}}
    assert candidates["Anna"]["state"] == {}  # round robin: never had a lead from this rule
    assert routed.trace["outcome"] == {"code": "chosen", "params": {"rep": "Anna", "rule": "DACH"}}
    stored = json.dumps(routed.trace)
    assert not any(words in stored for words in ("matched:", "on leave", "missing skill", "Chosen:", "assigned to", "(lead:"))


def test_the_explanation_is_rendered_in_the_readers_language(routed):
    with translation.override("en"):
        english = routed.explained
    with translation.override("de"):
        german = routed.explained

    assert english.splitlines() == [
        "Rule 1 'DACH' matched: country is one of DE, AT (lead: DE).",
        "  Candidates: team Sales (round robin: least recently assigned).",
        "  Ben: on leave until 2026-03-04 10:00 UTC (Vacation).",
        "  Carla: missing skill German ≥ 3 (has 2).",
        "  Anna: chosen (no lead from this rule yet).",
        "  → assigned to Anna.",
        "Chosen: Anna by rule 'DACH'.",
    ]
    assert german.splitlines() == [
        "Regel 1 „DACH“ hat gepasst: country ist einer von DE, AT (Lead: DE).",
        "  Kandidaten: Team Sales (Round Robin: am längsten nicht zugewiesen).",
        "  Ben: im Urlaub bis 2026-03-04 10:00 UTC (Vacation).",
        "  Carla: fehlender Skill German ≥ 3 (hat 2).",
        "  Anna: gewählt (noch kein Lead von dieser Regel).",
        "  → zugewiesen an Anna.",
        "Gewählt: Anna durch die Regel „DACH“.",
    ]


@pytest.fixture
def old_decision(db):
    """A lead routed before traces were data: its decision, assignment and timeline event as they were written."""
    anna = rep_named("Anna")
    rule = RoutingRuleFactory(name="DACH", target_rep=anna, target_type="rep")
    lead = LeadFactory(owner=anna, status=Lead.Status.ASSIGNED, routing_requested_at=None)
    assignment = AssignmentFactory(lead=lead, rep=anna, rule=rule, kind=Assignment.Kind.INITIAL, reason="Rule 'DACH'")
    decision = RoutingDecisionFactory(lead=lead, rule=rule, chosen_rep=anna, assignment=assignment, trace=OLD_TRACE,
                                      explanation=OLD_EXPLANATION)
    LeadEvent.objects.create(lead=lead, kind=LeadEvent.Kind.ROUTED, message="Chosen: Anna by rule 'DACH'.",
                             data={"decision_id": decision.pk})
    return decision


def test_an_old_decision_shows_its_stored_explanation_on_the_lead_page_and_in_the_admin(client, old_decision):
    client.force_login(sales_manager(is_staff=True, sees_every_team=True))

    page = client.get(reverse("routing:lead_detail", args=[old_decision.lead_id]))
    admin = client.get(reverse("admin:routing_routingdecision_change", args=[old_decision.pk]))

    assert page.status_code == 200 and admin.status_code == 200
    assert "  Ben: on leave until 2026-03-04.\n" in page.content.decode()
    assert "Ben: on leave until 2026-03-04.<br>" in admin.content.decode()
    assert "Chosen: Anna by rule &#x27;DACH&#x27;." in page.content.decode()


def test_an_old_decision_still_says_why_you_in_the_queue(client, old_decision):
    client.force_login(old_decision.chosen_rep.user)

    response = client.get(reverse("routing:queue"))

    assert "Rule 1 &#x27;DACH&#x27; matched: country is one of DE, AT (lead: DE)." in response.content.decode()
