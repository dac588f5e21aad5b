"""The client's address as the rate limits see it, so login lockouts and request limits count the same client."""

from django.conf import settings


def client_ip(request) -> str:
    """REMOTE_ADDR, or the header the proxy sets (RATELIMIT_IP_META_KEY, e.g. HTTP_X_REAL_IP) behind a proxy."""
    return request.META.get(settings.RATELIMIT_IP_META_KEY or "REMOTE_ADDR", "")
