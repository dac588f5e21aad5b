"""The raw-SQL floor of bench/throughput.py writes the app's tables by hand: it must keep up with the schema."""

import importlib.util
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from leads.models import Lead
from routing.models import Assignment, RotationState, RoutingDecision
from tests.factories import LeadFactory, RoutingRuleFactory, TeamFactory, rep_named

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
