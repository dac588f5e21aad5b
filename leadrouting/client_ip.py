"""The client's address as the rate limits see it, so login lockouts and request limits count the same client."""

import ipaddress

from django.conf import settings


def client_ip(request) -> str:
    """REMOTE_ADDR, or the header the proxy sets (RATELIMIT_IP_META_KEY, e.g. HTTP_X_REAL_IP) behind a proxy."""
    return request.META.get(settings.RATELIMIT_IP_META_KEY or "REMOTE_ADDR", "")


def client_ip_key(group, request) -> str:
    """client_ip as a django-ratelimit key, IPv6 clients counted per /64 network like its own "ip" key.

    Its "ip" key fails (a 500) when the address is missing (a Unix socket, a WSGI server that sets no REMOTE_ADDR,
    a request without the proxy's header) or is not one address (X-Forwarded-For: "a, b"); here such a value
    counts as one client of its own.
    """
    address = client_ip(request)
    try:
        prefix = 64 if ":" in address else 32
        return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)
    except ValueError:
        return address
