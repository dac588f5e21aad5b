"""bench/organisation.py builds issue 14's organisation: at a tiny size it must be a consistent year of routing."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from django.db.models import Count, F

from leads.models import Lead, LeadEvent
from reps.models import Rep, Team
from routing.models import Assignment, RoutingDecision, RoutingExperiment, RoutingRule

pytestmark = pytest.mark.django_db
BENCH = Path(__file__).resolve().parents[1] / "bench"
LEADS = 500


def organisation_module():
    spec = importlib.util.spec_from_file_location("bench_organisation", BENCH / "organisation.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def organisation():
    return organisation_module()


@pytest.fixture
def org(organisation):
    return organisation.generate(LEADS, echo=lambda *args: None)


def test_the_org_has_its_teams_reps_rules_experiment_and_a_consistent_year_of_routing(org, organisation):
    assert Team.objects.count() == 20
    assert Rep.objects.count() == 200
    assert RoutingRule.objects.count() == 50
    assert set(RoutingRule.objects.values_list("strategy", flat=True)) >= {"round_robin", "weighted", "least_loaded"}
    assert RoutingExperiment.objects.get().status == RoutingExperiment.Status.RUNNING
    assert Lead.objects.count() == LEADS + organisation.PROFILES

    # One owner per routed lead: exactly one current assignment, to the lead's owner.
    owned = Lead.objects.filter(owner__isnull=False)
    assert owned.count() > 0.95 * Lead.objects.count()
    current = Assignment.objects.filter(is_current=True)
    assert current.count() == owned.count()
    assert not current.exclude(rep_id=F("lead__owner_id")).exists()
    assert not current.values("lead").annotate(n=Count("id")).filter(n__gt=1).exists()

    # Every lead has its decision and its "routed" event; a generated lead exactly one, shaped like the app's.
    assert not Lead.objects.annotate(n=Count("decisions")).filter(n=0).exists()
    generated = Lead.objects.order_by("pk")[organisation.PROFILES:]
    assert RoutingDecision.objects.filter(lead__in=generated).count() == LEADS
    assert LeadEvent.objects.filter(kind="routed").count() == Lead.objects.count()
    decision = RoutingDecision.objects.filter(outcome="assigned").order_by("-pk").first()
    assert len(json.dumps(decision.trace)) > 500  # the app's trace, copied: rules checked, candidates, outcome
    assert decision.assignment.rep_id == decision.chosen_rep_id == decision.lead.assignments.order_by("pk")[0].rep_id
    event = LeadEvent.objects.filter(kind="routed").order_by("-pk").first()
    if "decision_id" in event.data:
        assert RoutingDecision.objects.get(pk=event.data["decision_id"]).lead_id == event.lead_id


def test_one_lead_in_twenty_is_reassigned_with_a_cause_the_experiment_has_both_groups_and_the_pool_has_leads(org, organisation):
    reassigned = Assignment.objects.exclude(kind=Assignment.Kind.INITIAL)
    assert 0.04 * LEADS <= reassigned.count() <= 0.06 * LEADS + 20
    assert all(cause.get("code") for cause in reassigned.values_list("cause", flat=True))
    moved = Lead.objects.filter(reassignment_count=1).order_by("-pk").first()
    assert moved.assignments.get(is_current=False).rep_id != moved.owner_id
    assert LeadEvent.objects.filter(kind="reassigned").count() == reassigned.count()

    in_experiment = Assignment.objects.filter(experiment__isnull=False)
    assert set(in_experiment.values_list("experiment_group", flat=True)) == {"control", "test"}
    assert 0.03 * Lead.objects.count() <= in_experiment.count() <= 0.06 * Lead.objects.count()  # 4.2 %
    assert Lead.objects.filter(owner__isnull=True, pool__isnull=False).exists()
    heavy_open = Lead.objects.filter(owner__user__username="rep000", status__in=Lead.OPEN_STATUSES,
                                     pk__gt=Lead.objects.order_by("pk")[organisation.PROFILES - 1].pk).count()
    assert heavy_open == len([i for i in range(LEADS) if i % organisation.HEAVY_REP_EVERY == 5])
