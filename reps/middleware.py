"""Pages show times in the viewer's time zone: a rep's own (Rep.time_zone), anyone else's the site's (TIME_ZONE)."""

import zoneinfo

from django.utils import timezone

from reps.models import Rep


class ViewerTimeZoneMiddleware:
    """Activates the signed-in rep's time zone for the request, as their emails already use it.

    A rep in Berlin reading "due 09:00" must not have to add an hour in their head: the queue, the lead
    page, the dashboard's "today" and the admin all follow the active time zone.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = _rep_time_zone(request.user) if request.user.is_authenticated else None
        if zone is None:
            timezone.deactivate()
            return self.get_response(request)
        with timezone.override(zone):
            return self.get_response(request)


def _rep_time_zone(user) -> zoneinfo.ZoneInfo | None:
    name = Rep.objects.filter(user_id=user.pk).values_list("time_zone", flat=True).first()
    try:
        return zoneinfo.ZoneInfo(name) if name else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None  # validated on save; a row written around the validator still gets a page, in the site's zone
