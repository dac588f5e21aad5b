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


@pytest.fixture
def wsgi_app(db):
    """Django's real WSGI app, served on the test's database connection.

    A WSGI server closes the connection at each request's start and end; here it holds the test's transaction,
    so that step is left out while the test runs, as Django's own test client does.
    """
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
