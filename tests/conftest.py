import os
import socket
from urllib.parse import urlparse

import pytest

HOW_TO_START = {
    "PostgreSQL": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "Redis": 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no',
}


def _reachable(url: str, default_port: int) -> tuple:
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or default_port
    try:
        socket.create_connection((host, port), timeout=2).close()
        return True, f"{host}:{port}"
    except OSError:
        return False, f"{host}:{port}"


def pytest_sessionstart(session):
    """Stop at once, saying which service is down and how to start it: the suite needs both."""
    from django.conf import settings

    checks = [
        ("PostgreSQL", os.environ.get("DATABASE_URL", ""), 5432),
        ("Redis", settings.REDIS_URL, 6379),
    ]
    for name, url, port in checks:
        ok, where = _reachable(url, port)
        if not ok:
            pytest.exit(
                f"{name} is not reachable at {where} (from {url!r}). The tests need a real {name}. "
                f"Start it with: {HOW_TO_START[name]}",
                returncode=3,
            )


@pytest.fixture(scope="session", autouse=True)
def clean_redis():
    """Each run starts from an empty Redis database of its own (db 15 by default)."""
    import django_rq

    connection = django_rq.get_connection("routing")
    connection.flushdb()
    yield connection
    connection.flushdb()


@pytest.fixture
def redis_connection(clean_redis):
    clean_redis.flushdb()
    return clean_redis


@pytest.fixture(autouse=True)
def seeded_factories(request):
    """Factory Boy's Faker draws the same names, e-mails and companies for a test on every run, alone or in the suite."""
    import factory.random

    factory.random.reseed_random(request.node.nodeid)


@pytest.fixture(autouse=True)
def empty_cache_for_each_test():
    """The rate limits count in the cache (local memory here): one test's intake posts never use up the next one's."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def site_language_after_each_test():
    """A request leaves its language active in the thread: the next test starts in the site's language again."""
    yield
    from django.utils import translation

    translation.deactivate()
