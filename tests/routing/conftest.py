import pytest

from routing.models import RoutingRule
from tests.factories import RoutingRuleFactory, RuleConditionFactory, TeamFactory, rep_named


@pytest.fixture
def dach_and_nurture_rules():
    """Two rules: DACH leads to the DACH team (Anna), then everything else to nurture."""
    team = TeamFactory(name="DACH")
    rep_named("Anna", teams=[team])
    dach = RoutingRuleFactory(name="DACH", priority=10, target_team=team)
    RuleConditionFactory(rule=dach, field="country", operator="in", value="DE, AT, CH")
    RoutingRuleFactory(name="Nurture", priority=20, target_type=RoutingRule.TargetType.NURTURE)
