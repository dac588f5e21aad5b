"""Pool ageing: which pooled leads have waited too long, per pool, for a manager to act on.

A lead in a pool waits until a rep claims it; nobody is pushed to. The manager's question is
"what has been waiting longer than it should?": per pool, how many wait and how many longer than
each step of AGE_STEPS, and the leads past the chosen threshold, oldest first. Waiting is counted
from when the lead came in: that is the time the prospect has been waiting for an answer.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Min, Q, QuerySet

from leads.models import Lead
from reps.scoping import TeamScope, leads_in_scope

# The thresholds a manager picks from, in minutes; 15 minutes is the default (speed-to-lead studies
# put most of a lead's value in its first quarter hour).
AGE_STEPS = (5, 15, 60, 240, 1440)
DEFAULT_AGE_MINUTES = 15


@dataclass
class PoolAge:
    pool_id: int
    name: str
    waiting: int
    past_threshold: int
    oldest_since: dt.datetime


def waiting_in_pools(scope: TeamScope | None) -> QuerySet:
    """Unowned leads waiting in a pool that the scope may see."""
    return leads_in_scope(Lead.objects.filter(owner__isnull=True, pool__isnull=False), scope)


def pool_ages(*, scope: TeamScope | None, older_than: dt.timedelta, now: dt.datetime) -> list[PoolAge]:
    """Per pool: leads waiting, how many of them longer than `older_than`, and since when the oldest waits."""
    cutoff = now - older_than
    rows = (
        waiting_in_pools(scope).values("pool_id", "pool__name")
        .annotate(waiting=Count("pk"), past=Count("pk", filter=Q(created_at__lt=cutoff)), oldest=Min("created_at"))
        .order_by("oldest")
    )
    return [PoolAge(pool_id=row["pool_id"], name=row["pool__name"], waiting=row["waiting"],
                    past_threshold=row["past"], oldest_since=row["oldest"]) for row in rows]


def leads_waiting_longer_than(*, scope: TeamScope | None, older_than: dt.timedelta, now: dt.datetime,
                              pool_id: int | None = None) -> QuerySet:
    """The leads past the threshold, longest waiting first."""
    leads = waiting_in_pools(scope).filter(created_at__lt=now - older_than)
    if pool_id is not None:
        leads = leads.filter(pool_id=pool_id)
    return leads.select_related("pool").order_by("created_at", "pk")
