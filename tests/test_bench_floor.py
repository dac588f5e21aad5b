"""The raw-SQL floor of bench/throughput.py writes the app's tables by hand: it must keep up with the schema."""

import importlib.util
from collections import Counter
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from leads.models import Lead
from routing.experiment_split import experiment_group_for
from routing.models import Assignment, RotationState, RoutingDecision, RoutingExperiment, RoutingRule
from tests.factories import LeadFactory, RoutingExperimentFactory, RoutingRuleFactory, TeamFactory, rep_named

pytestmark = pytest.mark.django_db(transaction=True)
FLOOR = Path(__file__).resolve().parents[1] / "bench" / "_floor.py"
TEMPLATE = {"trace": {"rules": []}, "explanation": "Rule 1 'Everyone' matched.", "reason": "Rule 'Everyone'",
            "message": "Chosen: Anna by rule 'Everyone'."}


def floor_module():
    spec = importlib.util.spec_from_file_location("bench_floor", FLOOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def rule_with_rotation():
    team = TeamFactory(name="Everyone")
    reps = [rep_named(name, teams=[team]) for name in ("Anna", "Ben")]
    rule = RoutingRuleFactory(name="Everyone", target_team=team)
    RotationState.objects.bulk_create([RotationState(rule=rule, rep=rep) for rep in reps])
    return rule


@pytest.mark.parametrize("leads_per_transaction", [1, 5])
def test_the_floor_routes_leads_into_the_current_schema(rule_with_rotation, leads_per_transaction):
    floor = floor_module()
    LeadFactory.create_batch(4)
    settings = connection.settings_dict
    dsn = f"postgresql://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    with psycopg.connect(dsn) as raw, raw.cursor() as cursor:
        if leads_per_transaction == 1:
            while floor.route_one(cursor, rule_with_rotation.pk, TEMPLATE, "floor-test"):
                pass
        else:
            floor.route_batch(cursor, rule_with_rotation.pk, TEMPLATE, "floor-test", leads_per_transaction)
    assert not Lead.objects.filter(owner__isnull=True).exists()
    assert Assignment.objects.filter(is_current=True).count() == RoutingDecision.objects.count() == 4


def test_the_floor_in_rules_mode_routes_each_lead_by_the_first_matching_rule():
    floor = floor_module()
    germany, everyone = TeamFactory(name="Germany"), TeamFactory(name="Everyone")
    anna, ben = rep_named("Anna", teams=[germany]), rep_named("Ben", teams=[everyone])
    german = RoutingRuleFactory(name="Germany", priority=1, target_team=germany)
    german.conditions.create(field="country", operator="in", value="DE,AT")
    german.conditions.create(field="employee_count", operator="gte", value="100")
    catch_all = RoutingRuleFactory(name="Everyone", priority=2, target_team=everyone)
    RotationState.objects.bulk_create([RotationState(rule=german, rep=anna), RotationState(rule=catch_all, rep=ben)])
    big_german = LeadFactory(country="DE", employee_count=500)
    small_german = LeadFactory(country="DE", employee_count=10)
    settings = connection.settings_dict
    dsn = f"postgresql://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    with psycopg.connect(dsn) as raw, raw.cursor() as cursor:
        rules = floor.load_rules(cursor)
        assert floor.route_batch_rules(cursor, rules, TEMPLATE, "floor-test", 50) == 2
    big_german.refresh_from_db()
    small_german.refresh_from_db()
    assert (big_german.owner, small_german.owner) == (anna, ben)
    assert RoutingDecision.objects.get(lead=small_german).rule_id == catch_all.pk


def test_the_rules_floor_picks_by_each_rules_strategy_and_places_an_experiments_test_group_by_its_variant():
    floor = floor_module()
    weighted_team, variant_team = TeamFactory(name="Weighted"), TeamFactory(name="Variant")
    light = rep_named("Light", teams=[weighted_team], weight=Decimal("1"))
    heavy = rep_named("Heavy", teams=[weighted_team], weight=Decimal("3"))
    variant_rep = rep_named("Vera", teams=[variant_team])
    rule = RoutingRuleFactory(name="Weighted", priority=1, target_team=weighted_team,
                              strategy=RoutingRule.Strategy.WEIGHTED)
    variant = RoutingRuleFactory(name="Variant", priority=2, target_team=variant_team, is_active=False)
    RotationState.objects.bulk_create([RotationState(rule=rule, rep=light), RotationState(rule=rule, rep=heavy),
                                       RotationState(rule=variant, rep=variant_rep)])
    LeadFactory.create_batch(8)
    settings = connection.settings_dict
    dsn = f"postgresql://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    with psycopg.connect(dsn) as raw, raw.cursor() as cursor:
        assert floor.route_batch_rules(cursor, floor.load_rules(cursor), TEMPLATE, "floor-test", 50) == 8
    assert Counter(Lead.objects.values_list("owner", flat=True)) == {light.pk: 2, heavy.pk: 6}

    experiment = RoutingExperimentFactory(control_rule=rule, variant_rule=variant, test_share=50,
                                          status=RoutingExperiment.Status.RUNNING)
    leads = LeadFactory.create_batch(20)
    with psycopg.connect(dsn) as raw, raw.cursor() as cursor:
        assert floor.route_batch_rules(cursor, floor.load_rules(cursor), TEMPLATE, "floor-test", 50) == 20
    for lead in leads:
        lead.refresh_from_db()
        group = experiment_group_for(experiment, lead.pk)
        assert (lead.owner == variant_rep) == (group == "test")
        assert RoutingDecision.objects.get(lead=lead).experiment_group == group
