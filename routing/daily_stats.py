"""The per-day figures behind the dashboard and the trends: kept fresh by marks, recomputed a day at a time.

Summing a year of leads on every page view took seconds; the pages sum one row per day and group instead.
On PostgreSQL, triggers on leads and assignments mark the hour of every lead (and assignment) that
changed, whoever wrote it (migration 0017); a read first recomputes the days of those marks, so
the figures are never stale and today's are as live as before. Other databases (the SQLite demo)
have no marks: every day read is recomputed.
"""

import datetime as dt
import math
from collections import defaultdict

from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from leads.models import Lead
from routing.models import (
    Assignment, DailyAssignmentStats, DailyLeadStats, DailyStatsStaleHour, MonthlyAssignmentStats, MonthlyLeadStats,
    RepSetMember, SummedMonth,
)

# Histogram columns of DailyLeadStats and the time to first touch each one ends at (None: longer than a week).
FIRST_TOUCH_BUCKETS = [
    ("touched_within_1m", dt.timedelta(minutes=1)), ("touched_within_2m", dt.timedelta(minutes=2)),
    ("touched_within_5m", dt.timedelta(minutes=5)), ("touched_within_10m", dt.timedelta(minutes=10)),
    ("touched_within_15m", dt.timedelta(minutes=15)), ("touched_within_30m", dt.timedelta(minutes=30)),
    ("touched_within_1h", dt.timedelta(hours=1)), ("touched_within_2h", dt.timedelta(hours=2)),
    ("touched_within_4h", dt.timedelta(hours=4)), ("touched_within_8h", dt.timedelta(hours=8)),
    ("touched_within_1d", dt.timedelta(days=1)), ("touched_within_2d", dt.timedelta(days=2)),
    ("touched_within_1w", dt.timedelta(weeks=1)), ("touched_later", None),
]
# The figures of the daily and monthly rows (LeadStatsFigures, AssignmentStatsFigures): a month is their sums.
LEAD_FIGURES = ("leads", "converted", "touched", "contacted_late", "sla_breached",
                *(column for column, _ in FIRST_TOUCH_BUCKETS))
ASSIGNMENT_FIGURES = ("assigned", "reassignments", "sla_reassigned")
# Causes of the moves routing.reassignment.sla_reassign_overdue makes (to a rep or a manager).
SLA_CAUSES = ("sla_breach", "escalation")
REASSIGNMENT_KINDS = (Assignment.Kind.REASSIGN, Assignment.Kind.MANUAL)
# Serialises the recomputation: two readers recomputing one day would both insert its rows.
REFRESH_LOCK_KEY = 0x6C72_6461_7973  # "lrdays"


def local_day(at: dt.datetime) -> dt.date:
    return timezone.localtime(at, timezone.get_default_timezone()).date()


def day_start(day: dt.date) -> dt.datetime:
    """Midnight of the day in the site's time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time()), timezone.get_default_timezone())


def month_after(day: dt.date) -> dt.date:
    """The first day of the month after the day's."""
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def months_ended_within(first_day: dt.date, last_day: dt.date) -> list:
    """The first days of the months wholly within first_day..last_day that ended before last_day.

    The month of last_day (today, for the pages) is left to its days: its figures change all day long.
    """
    month, months = (first_day if first_day.day == 1 else month_after(first_day)), []
    while month_after(month) <= last_day:
        months.append(month)
        month = month_after(month)
    return months


def daily_stats_refresh(*, first_day: dt.date, last_day: dt.date, months=()):
    """Makes the daily figures of first_day..last_day current: recomputes every day marked stale (all on SQLite).

    The months summed (SummedMonth) whose days were recomputed are summed again in the same transaction, so a
    reader never finds a month summed without them; `months` (first days of months that ended) are summed too
    when they are not yet.
    """
    with transaction.atomic():
        if connection.vendor != "postgresql":
            days = [first_day + dt.timedelta(days=n) for n in range((last_day - first_day).days + 1)]
        else:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REFRESH_LOCK_KEY])
                cursor.execute(f"DELETE FROM {DailyStatsStaleHour._meta.db_table} RETURNING hour")
                hours = [row[0] for row in cursor.fetchall()]
            # An hour of UTC can hold two local days (zones half an hour off): both are recomputed.
            days = sorted({local_day(hour + shift) for hour in set(hours)
                           for shift in (dt.timedelta(), dt.timedelta(minutes=59, seconds=59))})
        for day in days:
            _recompute_day(day)
        changed = {day.replace(day=1) for day in days}
        wanted = set(months)
        if changed | wanted:
            summed = set(SummedMonth.objects.filter(month__in=changed | wanted).values_list("month", flat=True))
            for month in sorted((changed & summed) | (wanted - summed)):
                _sum_month(month, first_time=month not in summed)


def _sum_month(month: dt.date, *, first_time: bool):
    """Replaces the month's monthly rows by the sums of its daily rows: one statement a table, rows never leave the
    database (a month of the 1M-lead organisation is about 11,000 daily rows of 640 groups)."""
    days = {"month": month, "start": month, "end": month_after(month)}
    with connection.cursor() as cursor:
        for monthly, daily, keys, figures in (
            (MonthlyLeadStats, DailyLeadStats, "rep_set, owner_id, rule_id", LEAD_FIGURES),
            (MonthlyAssignmentStats, DailyAssignmentStats, "rep_id", ASSIGNMENT_FIGURES),
        ):
            cursor.execute(f"DELETE FROM {monthly._meta.db_table} WHERE month = %(month)s", days)
            cursor.execute(f"""
                INSERT INTO {monthly._meta.db_table} (month, {keys}, {", ".join(figures)})
                SELECT %(month)s, {keys}, {", ".join(f"sum({name})" for name in figures)}
                FROM {daily._meta.db_table} WHERE day >= %(start)s AND day < %(end)s
                GROUP BY {keys}
            """, days)
    if first_time:
        SummedMonth.objects.create(month=month)


def _recompute_day(day: dt.date):
    start, end = day_start(day), day_start(day + dt.timedelta(days=1))
    DailyLeadStats.objects.filter(day=day).delete()
    DailyAssignmentStats.objects.filter(day=day).delete()
    if connection.vendor == "postgresql":
        _insert_lead_rows(day, start, end)
    else:
        DailyLeadStats.objects.bulk_create(_lead_rows(day, start, end), batch_size=1000)
    _record_rep_sets(day)
    DailyAssignmentStats.objects.bulk_create(_assignment_rows(day, start, end), batch_size=1000)


def _record_rep_sets(day):
    """The reps of each rep set of the day's rows that RepSetMember does not hold yet (a set's members never change)."""
    rep_sets = (DailyLeadStats.objects.filter(day=day).exclude(rep_set="")
                .exclude(rep_set__in=RepSetMember.objects.values("rep_set"))
                .values_list("rep_set", flat=True).distinct())
    RepSetMember.objects.bulk_create(
        [RepSetMember(rep_set=rep_set, rep_id=int(rep_id)) for rep_set in rep_sets
         for rep_id in rep_set.strip(",").split(",")],
        batch_size=1000, ignore_conflicts=True)


def _lead_rows(day, start, end) -> list:
    reps_of, current_rule, breached = defaultdict(set), {}, set()
    moves = Assignment.objects.filter(lead__created_at__gte=start, lead__created_at__lt=end).values_list(
        "lead_id", "rep_id", "rule_id", "is_current", "kind", "cause__code")
    for lead_id, rep_id, rule_id, is_current, kind, code in moves:
        reps_of[lead_id].add(rep_id)
        if is_current:
            current_rule[lead_id] = rule_id
        if kind == Assignment.Kind.REASSIGN and code in SLA_CAUSES:
            breached.add(lead_id)
    groups = {}
    leads = Lead.objects.filter(created_at__gte=start, created_at__lt=end).values_list(
        "pk", "created_at", "owner_id", "status", "first_touch_at", "sla_due_at")
    for pk, created_at, owner_id, status, first_touch_at, sla_due_at in leads:
        # Sorted as text, as PostgreSQL's string_agg(DISTINCT ...) sorts them in _insert_lead_rows.
        rep_set = "".join(f",{rep_id}" for rep_id in sorted(map(str, reps_of[pk]))) + ("," if reps_of[pk] else "")
        rule_id = current_rule.get(pk) if owner_id else None
        key = (rep_set, owner_id, rule_id)
        row = groups.get(key)
        if row is None:
            row = groups[key] = DailyLeadStats(day=day, rep_set=rep_set, owner_id=owner_id, rule_id=rule_id)
        row.leads += 1
        row.converted += status == Lead.Status.CONVERTED
        late = first_touch_at is not None and sla_due_at is not None and first_touch_at > sla_due_at
        row.contacted_late += late
        row.sla_breached += late or pk in breached
        if first_touch_at is not None:
            row.touched += 1
            column = _bucket_of(first_touch_at - created_at)
            setattr(row, column, getattr(row, column) + 1)
    return list(groups.values())


def _bucket_conditions() -> list:
    """SQL for each histogram column: the leads first touched within its edge and not within the one before."""
    conditions, previous = [], None
    for column, edge in FIRST_TOUCH_BUCKETS:
        parts = ([f"to_first_touch > interval '{int(previous.total_seconds())} seconds'"] if previous else [])
        parts += [f"to_first_touch <= interval '{int(edge.total_seconds())} seconds'"] if edge else []
        conditions.append((column, " AND ".join(parts)))
        previous = edge
    return conditions


def _insert_lead_rows(day, start, end):
    """_lead_rows in one statement (PostgreSQL): a day of leads never leaves the database."""
    buckets = _bucket_conditions()
    columns = ", ".join(column for column, _ in buckets)
    counts = ", ".join(f"count(*) FILTER (WHERE {condition})" for _, condition in buckets)
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO {DailyLeadStats._meta.db_table} (day, rep_set, owner_id, rule_id, leads, converted, touched,
                contacted_late, sla_breached, {columns})
            SELECT %(day)s, rep_set, owner_id, rule_id, count(*), count(*) FILTER (WHERE status = %(converted)s),
                   count(to_first_touch), count(*) FILTER (WHERE late), count(*) FILTER (WHERE late OR sla_moved), {counts}
            FROM (
                SELECT lead.owner_id, lead.status, lead.first_touch_at - lead.created_at AS to_first_touch,
                       coalesce(lead.first_touch_at > lead.sla_due_at, false) AS late,
                       coalesce(',' || string_agg(DISTINCT move.rep_id::text, ',') || ',', '') AS rep_set,
                       CASE WHEN lead.owner_id IS NOT NULL THEN max(move.rule_id) FILTER (WHERE move.is_current) END
                           AS rule_id,
                       coalesce(bool_or(move.kind = %(reassign)s AND move.cause->>'code' = ANY(%(sla_causes)s)), false)
                           AS sla_moved
                FROM {Lead._meta.db_table} lead
                LEFT JOIN {Assignment._meta.db_table} move ON move.lead_id = lead.id
                WHERE lead.created_at >= %(start)s AND lead.created_at < %(end)s
                GROUP BY lead.id
            ) per_lead
            GROUP BY rep_set, owner_id, rule_id
        """, {"day": day, "start": start, "end": end, "converted": Lead.Status.CONVERTED,
              "reassign": Assignment.Kind.REASSIGN, "sla_causes": list(SLA_CAUSES)})


def _bucket_of(duration: dt.timedelta) -> str:
    for column, edge in FIRST_TOUCH_BUCKETS:
        if edge is None or duration <= edge:
            return column
    raise AssertionError("the last bucket takes every duration")


def _assignment_rows(day, start, end) -> list:
    per_rep = (
        Assignment.objects.filter(created_at__gte=start, created_at__lt=end).order_by().values("rep_id")
        .annotate(assigned=Count("pk"), reassignments=Count("pk", filter=Q(kind__in=REASSIGNMENT_KINDS)),
                  sla_reassigned=Count("pk", filter=Q(kind=Assignment.Kind.REASSIGN, cause__code__in=SLA_CAUSES)))
    )
    return [DailyAssignmentStats(day=day, **row) for row in per_rep]


def percentile_from_histogram(counts: dict, fraction: float) -> dt.timedelta | None:
    """Nearest-rank percentile of the summed histogram, as the upper edge of its bucket (a week for "later")."""
    total = sum(counts.get(column) or 0 for column, _ in FIRST_TOUCH_BUCKETS)
    if not total:
        return None
    rank, seen, last_edge = max(1, math.ceil(fraction * total)), 0, None
    for column, edge in FIRST_TOUCH_BUCKETS:
        seen += counts.get(column) or 0
        last_edge = edge or last_edge
        if seen >= rank:
            return last_edge
    return last_edge
