"""Duplicate detection at intake: the same person, still open, recently, is one lead."""

import datetime as dt
import hashlib

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from leads.models import Lead


def lock_identity(*, email: str, phone: str) -> None:
    """Serialises intake of one email / phone until commit, so two concurrent submissions cannot both create a lead."""
    if connection.vendor != "postgresql":
        return  # the embedded SQLite demo has one writer at a time anyway
    keys = sorted(f"lead-identity:{kind}:{value}" for kind, value in (("email", email), ("phone", phone)) if value)
    with connection.cursor() as cursor:
        for key in keys:  # sorted: two submissions sharing both values take the locks in the same order
            lock_id = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])


def open_duplicate_of(*, email: str, phone: str, first_name: str, last_name: str,
                      now: dt.datetime | None = None) -> Lead | None:
    """The oldest open lead of the same person created within INTAKE_DEDUPE_DAYS, locked for update.

    The same person: the same email address, or the same phone number and the same first and
    last name (case ignored). A phone number alone is no one's: a switchboard or a shared mobile
    reaches several people, and merging one into another's lead would hide them from sales.
    """
    match = Q(email=email) if email else Q()
    if phone and (first_name or last_name):
        match |= Q(phone=phone, first_name__iexact=first_name, last_name__iexact=last_name)
    if not match:
        return None
    since = (now or timezone.now()) - dt.timedelta(days=settings.INTAKE_DEDUPE_DAYS)
    return (
        Lead.objects.select_for_update()
        .filter(match, created_at__gte=since)
        .exclude(status__in=Lead.CLOSED_STATUSES)
        .order_by("created_at", "id")
        .first()
    )
