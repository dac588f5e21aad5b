"""System checks for notifications: `manage.py check --deploy` warns when emails would link to this machine."""

from django.conf import settings
from django.core import checks


def check_site_url_is_set(app_configs, **kwargs):
    """Emails link to SITE_URL; left at the development default, every link a rep gets points at 127.0.0.1."""
    if settings.SITE_URL != settings.SITE_URL_DEFAULT:
        return []
    return [
        checks.Warning(
            f"SITE_URL is not set: links in emails (a lead's page, the queue) point at {settings.SITE_URL_DEFAULT}, "
            "which only works on the server itself.",
            hint="Set SITE_URL to the address people open the app at, e.g. SITE_URL=https://leads.example.com.",
            id="routing.W001",
        )
    ]
