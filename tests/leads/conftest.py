import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def empty_rate_limit_counters():
    """Rate limits count in the cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


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
