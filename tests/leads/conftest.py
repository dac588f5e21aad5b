import pytest
from django.core.cache import cache

from tests.factories import RoutingRuleFactory, TeamFactory, rep_named


@pytest.fixture(autouse=True)
def empty_rate_limit_counters():
    """Rate limits count in the cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def anna_takes_every_lead(settings, redis_connection):
    """One rule sends every lead to Anna's team; a drain job stops as soon as the queue is empty."""
    settings.ROUTING_DRAIN_IDLE_SECONDS = 0
    team = TeamFactory(name="Everyone")
    anna = rep_named("Anna", teams=[team])
    RoutingRuleFactory(name="Everyone", target_team=team)
    return anna
