"""Workers reload their compiled rules after every configuration write, whichever way it is written."""

import pytest

from reps.models import Skill, Team, Territory
from routing.models import Pool, RoutingExperiment, RoutingRule, RuleCondition, RuleSkillRequirement
from routing.ruleset import current_ruleset
from tests.factories import (
    PoolFactory,
    RoutingExperimentFactory,
    RoutingRuleFactory,
    RuleConditionFactory,
    RuleSkillRequirementFactory,
    SkillFactory,
    TeamFactory,
    TerritoryFactory,
)

pytestmark = pytest.mark.django_db

# (model, a field a manager may change, a new value)
CONFIGURATION = [
    (RoutingRule, "name", "Renamed"),
    (RuleCondition, "value", "FR"),
    (RuleSkillRequirement, "min_level", 3),
    (Pool, "name", "Renamed pool"),
    (Territory, "name", "Renamed territory"),
    (Team, "name", "Renamed team"),
    (Skill, "name", "Renamed skill"),
    (RoutingExperiment, "name", "Renamed experiment"),
]
IDS = [model.__name__ for model, _field, _value in CONFIGURATION]


@pytest.fixture
def configuration():
    """One row of each configuration table, and a worker holding the compiled rules."""
    team, pool = TeamFactory(name="Sales"), PoolFactory(name="Inbound")
    rule = RoutingRuleFactory(name="Germany", target_team=team, pool=pool)
    RuleConditionFactory(rule=rule, field="country", operator="equals", value="DE")
    RuleSkillRequirementFactory(rule=rule, skill=SkillFactory(name="German"), min_level=2)
    TerritoryFactory(name="DACH", countries=["DE"])
    RoutingExperimentFactory(control_rule=rule, variant_rule=RoutingRuleFactory(is_active=False, target_team=team))
    return current_ruleset()


@pytest.mark.parametrize(("model", "field", "value"), CONFIGURATION, ids=IDS)
def test_a_queryset_update_makes_workers_reload(configuration, model, field, value):
    model.objects.filter(pk=model.objects.order_by("pk")[0].pk).update(**{field: value})
    assert current_ruleset() is not configuration


@pytest.mark.parametrize(("model", "field", "value"), CONFIGURATION, ids=IDS)
def test_a_bulk_update_makes_workers_reload(configuration, model, field, value):
    row = model.objects.order_by("pk")[0]
    setattr(row, field, value)
    model.objects.bulk_update([row], [field])
    assert current_ruleset() is not configuration


def test_a_queryset_delete_makes_workers_reload(configuration):
    RuleCondition.objects.all().delete()
    assert current_ruleset() is not configuration


def test_changing_who_may_claim_from_a_pool_makes_workers_reload(configuration):
    Pool.objects.get().teams.add(TeamFactory())
    assert current_ruleset() is not configuration


def test_the_rotation_moving_on_does_not_make_workers_reload(configuration):
    # The engine moves it under the rule's lock for every lead assigned: fairness state, not configuration.
    RoutingRule.objects.filter(name="Germany").update(rotation_seq=41)
    assert current_ruleset() is configuration


def test_a_reloaded_worker_sees_the_change(configuration):
    RoutingRule.objects.filter(name="Germany").update(is_active=False)
    assert [compiled.rule.name for compiled in current_ruleset().rules] == []
