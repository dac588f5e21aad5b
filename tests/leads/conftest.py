import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def empty_rate_limit_counters():
    """Rate limits count in the cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()
