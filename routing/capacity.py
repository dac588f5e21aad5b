"""How many leads each rep holds and received: the one reader of the counts the caps compare with.

Routing (`routing.candidates`), the simulation and claims all count here, so "at daily cap
3/3" means the same everywhere. A rep's open leads are a counter the database keeps
(`RepLoad`, moved by triggers on the lead table), so reading them costs the same with a year
of history as on an empty database; new leads are assignments received within a window:
today (the rep's own day, in their time zone) and the last hour, counted on the index
`assignment_rep_created` within the window only. A weekly or monthly cap is one more `Window` in WINDOWS and a field on Rep.
"""

import datetime as dt
import operator
from dataclasses import dataclass, field
from functools import reduce

from django.db import connections, router, transaction
from django.db.models import Count, Q, QuerySet

from leads.models import Lead
from reps.availability import zone_or_utc
from reps.models import Rep
from routing.models import Assignment, RepLoad

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
    """Open leads per rep, from the counters; `rep_ids` may be a list or a subquery of rep ids."""
    connection = connections[router.db_for_read(RepLoad)]
    if isinstance(rep_ids, QuerySet) or connection.vendor != "postgresql":
        return dict(RepLoad.objects.filter(rep_id__in=rep_ids).values_list("rep_id", "open_leads"))
    # Written out: routing asks for a list of reps once per batch and again under each least-loaded rule's
    # lock (about 10 times per batch of 50 leads), and Django took longer to compile this than PostgreSQL
    # to answer it; the ids travel as one array, however many.
    with connection.cursor() as cursor:
        cursor.execute("SELECT rep_id, open_leads FROM routing_repload WHERE rep_id = ANY(%s)", [list(rep_ids)])
        return dict(cursor.fetchall())


def new_lead_counts(reps, *, at: dt.datetime) -> dict:
    """Window name -> {rep.pk: assignments received in it}, for the reps with that cap: one query for every window.

    Each rep's rows are read from the start of their own window on (reps grouped by that start,
    one group per time zone for today), on the index `assignment_rep_created`: the cost follows
    the window, not the history.
    """
    counts, in_windows = {}, {}
    for window in WINDOWS:
        capped = [rep for rep in reps if getattr(rep, window.cap_field) is not None]
        counts[window.name] = dict.fromkeys((rep.pk for rep in capped), 0)
        if not capped:
            continue
        by_start = {}
        for rep in capped:
            by_start.setdefault(window.start(at, rep.time_zone), []).append(rep.pk)
        in_window = Q()
        for start, rep_ids in by_start.items():
            in_window |= Q(rep_id__in=rep_ids, created_at__gte=start)
        in_windows[window.name] = in_window & Q(created_at__lte=at) if window.ends_at_at else in_window
    if in_windows:
        rows = (Assignment.objects.filter(reduce(operator.or_, in_windows.values())).values("rep_id")
                .annotate(**{name: Count("id", filter=q) for name, q in in_windows.items()}).order_by())
        for row in rows:
            for name in in_windows:
                if row["rep_id"] in counts[name]:
                    counts[name][row["rep_id"]] = row[name]
    return counts


def rep_loads(reps, *, at: dt.datetime, open_rep_ids=None) -> RepLoads:
    """Open leads and new leads per window of `reps` at `at`; `open_rep_ids` may pass them as a subquery."""
    return RepLoads(
        open=open_lead_counts(open_rep_ids if open_rep_ids is not None else [rep.pk for rep in reps]),
        new=new_lead_counts(reps, at=at),
    )


def replayed_loads(lead_ids, *, at: dt.datetime) -> RepLoads:
    """What the leads `lead_ids` (a list or a subquery of ids) add to their current owners' loads now: their open
    ones, and their assignments in each window; two queries however many leads."""
    loads = RepLoads(new={window.name: {} for window in WINDOWS})
    open_leads = (Lead.objects.filter(pk__in=lead_ids, owner__isnull=False, status__in=Lead.OPEN_STATUSES)
                  .values_list("owner_id").annotate(count=Count("id")).order_by())
    loads.open = dict(open_leads)
    longest = max(window.longest for window in WINDOWS)
    recent = Assignment.objects.filter(lead_id__in=lead_ids, created_at__gte=at - longest)
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


def counted_open_leads() -> dict:
    """Open leads per rep counted on the lead table: what the counters must equal."""
    rows = Lead.objects.filter(owner__isnull=False, status__in=Lead.OPEN_STATUSES).values("owner_id").annotate(n=Count("id"))
    return {row["owner_id"]: row["n"] for row in rows.order_by()}


def rep_load_mismatches(*, fix: bool = False) -> list:
    """(rep, counter, counted) for every rep whose open-lead counter is wrong; with `fix`, the counters are set right.

    The counters are locked (in rep order, as routing locks them) before counting: a lead change
    not yet committed then moves the corrected counter after this transaction, never before it.
    """
    with transaction.atomic():
        if fix:
            RepLoad.objects.bulk_create([RepLoad(rep_id=pk) for pk in Rep.objects.values_list("pk", flat=True)],
                                        ignore_conflicts=True)
            list(RepLoad.objects.select_for_update().order_by("rep_id").values_list("rep_id"))
        counters = dict(RepLoad.objects.values_list("rep_id", "open_leads"))
        counted = counted_open_leads()
        wrong = [(rep_id, counters.get(rep_id, 0), counted.get(rep_id, 0))
                 for rep_id in sorted(counters.keys() | counted.keys())
                 if counters.get(rep_id, 0) != counted.get(rep_id, 0)]
        if fix:
            for rep_id, _counter, right in wrong:
                RepLoad.objects.filter(rep_id=rep_id).update(open_leads=right)
    reps = Rep.objects.select_related("user").in_bulk([rep_id for rep_id, _, _ in wrong])
    return [(reps[rep_id], counter, right) for rep_id, counter, right in wrong]
