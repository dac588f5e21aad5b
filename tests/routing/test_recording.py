"""The engine only reads and locks; `routing.recording` writes what it decided, once per batch.

A decision that wrote as it went would leave half a rotation behind when a lead of the batch
fails, and the simulation (which replays the engine) would need a copy of it that does not.
"""

import ast
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.utils import timezone

from leads.models import Lead
from routing.batch import RoutingBatch
from routing.engine import Outcome, decide
from routing.models import RotationState, RoutingRule
from routing.recording import batch_write, decision_record
from routing.ruleset import current_ruleset
from routing.services import route_pending_leads
from tests.factories import LeadFactory, PoolFactory, RoutingRuleFactory, RuleConditionFactory, TeamFactory, rep_named

pytestmark = pytest.mark.django_db
Strategy = RoutingRule.Strategy
ROOT = Path(__file__).resolve().parents[2]
PROJECT_PACKAGES = ("routing", "reps", "leads", "leadrouting")
# Modules whose purpose is to change what is stored: the engine must reach none of them.
WRITERS = {"routing.ownership", "routing.recording", "routing.services", "routing.experiments", "routing.reassignment",
           "routing.claims", "routing.notifications", "routing.jobs", "leads.services", "reps.services"}


def _project_imports(module: str) -> set:
    path = ROOT / (module.replace(".", "/") + ".py")
    if not path.exists():
        return set()
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:  # `from routing import strategies` names a module too
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        found.update(name for name in names
                     if name.split(".")[0] in PROJECT_PACKAGES and (ROOT / (name.replace(".", "/") + ".py")).exists())
    return found


def _reached_from(module: str) -> set:
    reached, todo = set(), [module]
    while todo:
        current = todo.pop()
        for imported in _project_imports(current) - reached:
            reached.add(imported)
            todo.append(imported)
    return reached


def test_the_engine_imports_no_module_that_writes():
    reached = _reached_from("routing.engine")

    assert "routing.batch" in reached and "routing.strategies" in reached  # the walk follows the engine's imports
    assert reached & WRITERS == set()


class WritesRefused(Exception):
    pass


def _refuse_writes(execute, sql, params, many, context):
    if sql.lstrip().split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
        raise WritesRefused(sql)
    return execute(sql, params, many, context)


@pytest.mark.parametrize("strategy", [Strategy.ROUND_ROBIN, Strategy.WEIGHTED, Strategy.LEAST_LOADED,
                                      Strategy.PERFORMANCE])
def test_deciding_writes_nothing_even_when_reps_join_a_rotation(strategy):
    team = TeamFactory()
    reps = [rep_named(name, teams=[team], max_open_leads=5, max_new_leads_per_day=5) for name in ("Anna", "Ben")]
    RoutingRuleFactory(name="Team", target_team=team, strategy=strategy)
    lead = LeadFactory()
    batch = RoutingBatch(now=timezone.now(), worker="test")

    with transaction.atomic(), connection.execute_wrapper(_refuse_writes):
        decision = decide(Lead.objects.select_for_update().get(pk=lead.pk), ruleset=current_ruleset(),
                          now=batch.now, batch=batch)

    assert decision.outcome == Outcome.ASSIGNED and decision.rep in reps
    assert not RotationState.objects.exists()  # the newcomers' states wait for the batch's write


def test_the_batch_write_creates_the_newcomers_rotation_rows_with_the_picks_moves():
    team = TeamFactory()
    anna, ben, cleo = (rep_named(name, teams=[team]) for name in ("Anna", "Ben", "Cleo"))
    rule = RoutingRuleFactory(name="Team", target_team=team, strategy=Strategy.ROUND_ROBIN)
    leads = LeadFactory.create_batch(2)
    batch = RoutingBatch(now=timezone.now(), worker="test")

    with transaction.atomic():
        for lead in leads:
            decision = decide(Lead.objects.select_for_update().get(pk=lead.pk), ruleset=current_ruleset(),
                              now=batch.now, batch=batch)
            decision_record(batch, lead, decision, started=0.0)
        batch_write(batch)

    states = {state.rep_id: state for state in RotationState.objects.filter(rule=rule)}
    assert set(states) == {anna.pk, ben.pk, cleo.pk}  # all three joined, as before the split
    assert sorted(state.assigned_count for state in states.values()) == [0, 1, 1]
    assert {state.rep_id for state in states.values() if state.last_assigned_at} == {
        Lead.objects.get(pk=lead.pk).owner_id for lead in leads}


def test_a_rotation_continues_across_batches_after_newcomers_were_written():
    team = TeamFactory()
    reps = [rep_named(name, teams=[team]) for name in ("Anna", "Ben", "Cleo")]
    RoutingRuleFactory(name="Team", target_team=team, strategy=Strategy.ROUND_ROBIN)

    owners = []
    for _ in range(6):  # one lead per batch: every batch reads what the previous one wrote
        lead = LeadFactory()
        route_pending_leads(limit=1, worker="test")
        owners.append(Lead.objects.get(pk=lead.pk).owner_id)

    assert owners[:3] == owners[3:] and sorted(owners[:3]) == sorted(rep.pk for rep in reps)


def test_a_pooled_lead_writes_no_rotation_rows():
    pool = PoolFactory(name="Overflow")
    rule = RoutingRuleFactory(name="Pool", target_type=RoutingRule.TargetType.POOL, pool=pool)
    RuleConditionFactory(rule=rule, field="country", operator="equals", value="DE")
    LeadFactory(country="DE")

    route_pending_leads(limit=10, worker="test")

    assert Lead.objects.get().pool == pool
    assert not RotationState.objects.exists()
