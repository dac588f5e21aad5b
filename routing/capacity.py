"""How many leads each rep holds and received: the one reader of the counts the caps compare with.

Routing (`routing.candidates`), the simulation and claims all count here, so "at daily cap
3/3" means the same everywhere. A rep's open leads are counted on the lead table; new leads
are assignments received within a window: today (the rep's own day, in their time zone) and
the last hour. A weekly or monthly cap is one more `Window` in WINDOWS and a field on Rep.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count

from leads.models import Lead
from reps.availability import zone_or_utc
from routing.models import Assignment

HOUR = dt.timedelta(hours=1)


def start_of_local_day(at: dt.datetime, time_zone: str) -> dt.datetime:
    local = at.astimezone(zone_or_utc(time_zone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class Window:
    """New leads a rep received in a span of time ending at `at`, for reps with a cap on it."""

    name: str
    cap_field: str  # the Rep field holding the cap; reps without a cap are not counted
    # The first instant counted for a rep whose time zone is `time_zone`; assignments at or after it, up to `at`, count.
    start: object
    # How far back the earliest start of any rep can be, to read the assignments once for every time zone.
    longest: dt.timedelta
    # Whether assignments written after `at` (by another worker since) count: they do for the rep's day.
    ends_at_at: bool = True

    def contains(self, created_at: dt.datetime, *, at: dt.datetime, time_zone: str) -> bool:
        return self.start(at, time_zone) <= created_at and (created_at <= at or not self.ends_at_at)


TODAY = Window("today", "max_new_leads_per_day", start_of_local_day, dt.timedelta(days=2), ends_at_at=False)
# The last 60 minutes, `at` included: an assignment exactly an hour ago no longer counts.
LAST_HOUR = Window("hour", "max_new_leads_per_hour", lambda at, _zone: at - HOUR + dt.timedelta(microseconds=1), HOUR)
WINDOWS = (TODAY, LAST_HOUR)


@dataclass
class RepLoads:
    """Per rep id: open leads, and new leads per window name."""

    open: dict = field(default_factory=dict)
    new: dict = field(default_factory=dict)  # window name -> {rep.pk: count}, only reps with that cap

    def received(self, window: Window, rep_id) -> int:
        return self.new.get(window.name, {}).get(rep_id, 0)


def open_lead_counts(rep_ids) -> dict:
    """Open leads per rep; `rep_ids` may be a list or a subquery of rep ids."""
    rows = (
        Lead.objects.filter(owner_id__in=rep_ids, status__in=Lead.OPEN_STATUSES)
        .values("owner_id")
        .annotate(n=Count("id"))
    )
    return {row["owner_id"]: row["n"] for row in rows}


def new_lead_counts(reps, window: Window, *, at: dt.datetime) -> dict:
    """Assignments each capped rep received in the window; one query for all of them (index assignment_rep_created)."""
    capped = [rep for rep in reps if getattr(rep, window.cap_field) is not None]
    if not capped:
        return {}
    starts = {rep.pk: window.start(at, rep.time_zone) for rep in capped}
    rows = Assignment.objects.filter(rep_id__in=starts, created_at__gte=min(starts.values()))
    if window.ends_at_at:
        rows = rows.filter(created_at__lte=at)
    counts = dict.fromkeys(starts, 0)
    for rep_id, created_at in rows.values_list("rep_id", "created_at"):
        if created_at >= starts[rep_id]:
            counts[rep_id] += 1
    return counts


def rep_loads(reps, *, at: dt.datetime, open_rep_ids=None) -> RepLoads:
    """Open leads and new leads per window of `reps` at `at`; `open_rep_ids` may pass them as a subquery."""
    return RepLoads(
        open=open_lead_counts(open_rep_ids if open_rep_ids is not None else [rep.pk for rep in reps]),
        new={window.name: new_lead_counts(reps, window, at=at) for window in WINDOWS},
    )


def replayed_loads(leads, *, at: dt.datetime) -> RepLoads:
    """What `leads` add to their current owners' loads now: their open ones, and their assignments in each window."""
    loads = RepLoads(new={window.name: {} for window in WINDOWS})
    for lead in leads:
        if lead.owner_id and lead.status in Lead.OPEN_STATUSES:
            loads.open[lead.owner_id] = loads.open.get(lead.owner_id, 0) + 1
    longest = max(window.longest for window in WINDOWS)
    recent = Assignment.objects.filter(lead_id__in=[lead.pk for lead in leads], created_at__gte=at - longest)
    for rep_id, created_at, time_zone in recent.values_list("rep_id", "created_at", "rep__time_zone"):
        for window in WINDOWS:
            if window.contains(created_at, at=at, time_zone=time_zone):
                counts = loads.new[window.name]
                counts[rep_id] = counts.get(rep_id, 0) + 1
    return loads


def capacity_problem(rep, open_count: int, today_count: int, hour_count: int = 0):
    """(code, params) when the rep is at a cap, else None; `routing.explain` says it in the reader's language."""
    if rep.max_open_leads is not None and open_count >= rep.max_open_leads:
        return "open_cap", {"count": open_count, "cap": rep.max_open_leads}
    if rep.max_new_leads_per_day is not None and today_count >= rep.max_new_leads_per_day:
        return "daily_cap", {"count": today_count, "cap": rep.max_new_leads_per_day}
    if rep.max_new_leads_per_hour is not None and hour_count >= rep.max_new_leads_per_hour:
        return "hourly_cap", {"count": hour_count, "cap": rep.max_new_leads_per_hour}
    return None


def rep_capacity_problem(rep, *, at: dt.datetime):
    """(code, params) when the rep is at a cap now, counted in the database, else None."""
    loads = rep_loads([rep], at=at)
    return capacity_problem(
        rep, loads.open.get(rep.pk, 0), loads.received(TODAY, rep.pk), loads.received(LAST_HOUR, rep.pk)
    )
