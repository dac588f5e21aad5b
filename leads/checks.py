"""System checks for intake: `manage.py check --deploy` refuses rate limits that each process counts alone."""

from django.conf import settings
from django.core import checks

# Caches whose counters every process and machine shares, with an atomic increment.
SHARED_CACHE_BACKENDS = {
    "django.core.cache.backends.redis.RedisCache",
    "django_redis.cache.RedisCache",
    "django.core.cache.backends.memcached.PyMemcacheCache",
    "django.core.cache.backends.memcached.PyLibMCCache",
}


def check_rate_limit_cache_is_shared(app_configs, **kwargs):
    """The intake rate limits count in a cache: one per process lets N workers allow N times the rate."""
    # django-ratelimit's own check (not installed) would fail the embedded demo's locmem default on every
    # command and warn about Django's own RedisCache; this one runs with --deploy only and knows both.
    alias = getattr(settings, "RATELIMIT_USE_CACHE", "default")
    backend = settings.CACHES.get(alias, {}).get("BACKEND", "")
    if backend in SHARED_CACHE_BACKENDS:
        return []
    return [
        checks.Error(
            f"Rate limits count in the cache {alias!r} ({backend or 'not configured'}), which processes do not "
            "share: each gunicorn worker would allow the full INTAKE_FORM_RATE, INTAKE_API_RATE and "
            "INTAKE_API_AUTH_FAILURE_RATE on its own.",
            hint="Set CACHE_URL to a shared cache, e.g. CACHE_URL=redis://redis.internal:6379/2.",
            id="leads.E001",
        )
    ]
