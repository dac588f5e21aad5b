"""The manager's dashboard and trends: a period's figures per rep and rule, and per day, for the teams in scope.

Read from the per-day and per-month figures (`routing.daily_stats`), never from a year of leads.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet, Sum, Value

from leads.models import Lead
from reps.models import Rep
from reps.scoping import TeamScope, leads_in_scope, reps_in_scope
from routing import daily_stats
from routing.models import (
    Assignment, DailyAssignmentStats, DailyLeadStats, MonthlyAssignmentStats, MonthlyLeadStats, RepSetMember,
    RoutingRule,
)

# Days each period of the dashboard and the trends covers, today included.
PERIOD_DAYS = {"today": 1, "7d": 7, "30d": 30, "12m": 365}


def period_first_day(period: str, *, now: dt.datetime) -> dt.date:
    """The first day (site time zone) of the period that ends today: "today", 7 or 30 days, 12 months."""
    return daily_stats.local_day(now) - dt.timedelta(days=PERIOD_DAYS.get(period, 7) - 1)


@dataclass
class RepRow:
    rep_id: int
    name: str
    assigned: int = 0
    owned: int = 0
    converted: int = 0

    @property
    def conversion_rate(self):
        return self.converted / self.owned if self.owned else None


@dataclass
class Dashboard:
    since: dt.datetime
    received: int = 0
    routed: int = 0
    median_to_first_touch: dt.timedelta | None = None
    p90_to_first_touch: dt.timedelta | None = None
    touched: int = 0
    sla_reassigned: int = 0
    contacted_late: int = 0
    overdue_now: int = 0
    reassignments: int = 0
    reps: list = field(default_factory=list)
    rules: list = field(default_factory=list)
    waiting: list = field(default_factory=list)
    unroutable: list = field(default_factory=list)


def _lead_rows_in_scope(rows: QuerySet, scope: TeamScope | None) -> QuerySet:
    """Rows of lead figures (daily or monthly) of the leads ever routed to one of the scope's reps."""
    if scope is None:
        return rows
    if not scope.rep_ids:
        return rows.none()
    # One of its reps is in the group's rep set: a join through the sets' members (index repsetmember_rep_rep_set),
    # not a match of every row's text.
    return rows.filter(rep_set__in=RepSetMember.objects.filter(rep_id__in=scope.rep_ids).values("rep_set"))


def _assignment_rows_in_scope(rows: QuerySet, scope: TeamScope | None) -> QuerySet:
    return rows if scope is None else rows.filter(rep_id__in=scope.rep_ids)


# The sums the dashboard reads off the lead rows, per owner and rule: the tiles, the reps and the rules are
# added up from these in Python, so the period's rows are read once instead of once per figure.
LEAD_SUMS = {
    "received": Sum("leads"), "routed": Sum("leads", filter=~Q(rep_set="")), "converted": Sum("converted"),
    "touched": Sum("touched"), "contacted_late": Sum("contacted_late"),
    **{column: Sum(column) for column, _ in daily_stats.FIRST_TOUCH_BUCKETS},
}


def _period_rows(*, first_day: dt.date, today: dt.date) -> tuple:
    """The fresh rows of lead figures and of assignment figures from first_day to today, each a list of
    (queryset, sign) to add up (1) or take away (-1).

    The months that ended are read summed by month (a year is 12 rows a group or a rep, not 365). The month the
    period starts in, when it ended, is read as the month less its days before the period when those are fewer
    than its days in it. The month of today is read day by day: it changes all day.
    """
    months = daily_stats.months_ended_within(first_day.replace(day=1), today)
    if months and (first_day - months[0]).days > (daily_stats.month_after(first_day) - first_day).days:
        months = months[1:]  # the period starts late in its month: its days in the period are fewer
    daily_stats.daily_stats_refresh(first_day=first_day, last_day=today, months=months)
    lead_days = DailyLeadStats.objects.filter(day__gte=first_day)
    assignment_days = DailyAssignmentStats.objects.filter(day__gte=first_day)
    if not months:
        return [(lead_days, 1)], [(assignment_days, 1)]
    in_months = Q(month__gte=months[0], month__lte=months[-1])
    elsewhere = ~Q(day__gte=months[0], day__lt=daily_stats.month_after(months[-1]))
    lead_rows = [(lead_days.filter(elsewhere), 1), (MonthlyLeadStats.objects.filter(in_months), 1)]
    assignment_rows = [(assignment_days.filter(elsewhere), 1), (MonthlyAssignmentStats.objects.filter(in_months), 1)]
    if months[0] < first_day:
        before = Q(day__gte=months[0], day__lt=first_day)
        lead_rows.append((DailyLeadStats.objects.filter(before), -1))
        assignment_rows.append((DailyAssignmentStats.objects.filter(before), -1))
    return lead_rows, assignment_rows


def _lead_groups(lead_rows: list, scope: TeamScope | None) -> list:
    """LEAD_SUMS of the scope's rows per owner and rule, netted over the (queryset, sign) pairs of lead_rows.

    A group whose leads all fall outside the period nets to no lead: it is left out, as a period without it.
    """
    groups = {}
    for row in _union_all(_lead_rows_in_scope(rows, scope).values("owner_id", "rule_id")
                          .annotate(**LEAD_SUMS, sign=Value(sign)).order_by() for rows, sign in lead_rows):
        group = groups.setdefault((row["owner_id"], row["rule_id"]), dict.fromkeys(LEAD_SUMS, 0))
        group.update(owner_id=row["owner_id"], rule_id=row["rule_id"])
        for name in LEAD_SUMS:
            group[name] += row["sign"] * (row[name] or 0)
    return [group for group in groups.values() if group["received"]]


def _assignments_per_rep(assignment_rows: list, scope: TeamScope | None) -> list:
    """The scope's assignment figures per rep, netted over the (queryset, sign) pairs of assignment_rows."""
    sums = {name: Sum(name) for name in daily_stats.ASSIGNMENT_FIGURES}
    per_rep = {}
    for row in _union_all(_assignment_rows_in_scope(rows, scope).values("rep_id")
                          .annotate(**sums, sign=Value(sign)).order_by() for rows, sign in assignment_rows):
        figures = per_rep.setdefault(row["rep_id"], dict.fromkeys(daily_stats.ASSIGNMENT_FIGURES, 0))
        for name in daily_stats.ASSIGNMENT_FIGURES:
            figures[name] += row["sign"] * row[name]
    return [{"rep_id": rep_id, **figures} for rep_id, figures in per_rep.items()]


def _union_all(querysets) -> QuerySet:
    """The querysets' rows in one query (UNION ALL): days, months and days taken away in one round trip."""
    first, *others = querysets
    return first.union(*others, all=True) if others else first


def dashboard(*, scope: TeamScope | None, first_day: dt.date, now: dt.datetime, list_limit: int = 25) -> Dashboard:
    """Funnel, speed to lead, SLA, distribution and conversion for leads created since first_day, of the scope's teams."""
    lead_rows, assignment_rows = _period_rows(first_day=first_day, today=daily_stats.local_day(now))
    groups = _lead_groups(lead_rows, scope)
    board = Dashboard(since=daily_stats.day_start(first_day))
    totals = {name: sum(group[name] or 0 for group in groups) for name in LEAD_SUMS}
    board.received, board.routed = totals["received"], totals["routed"]
    board.touched, board.contacted_late = totals["touched"], totals["contacted_late"]
    board.median_to_first_touch = daily_stats.percentile_from_histogram(totals, 0.5)
    board.p90_to_first_touch = daily_stats.percentile_from_histogram(totals, 0.9)
    per_rep = _assignments_per_rep(assignment_rows, scope)
    board.reassignments = sum(row["reassignments"] for row in per_rep)
    board.sla_reassigned = sum(row["sla_reassigned"] for row in per_rep)
    overdue = Lead.objects.filter(created_at__gte=board.since, status=Lead.Status.ASSIGNED, first_touch_at__isnull=True,
                                  sla_due_at__lt=now)
    if scope is not None:
        overdue = overdue.filter(pk__in=Assignment.objects.filter(rep_id__in=scope.rep_ids).values("lead_id"))
    board.overdue_now = overdue.count()
    owned = [group for group in groups if group["owner_id"] is not None]
    board.reps = _rep_rows(per_rep, owned, scope)
    board.rules = _rule_rows(owned)
    waiting = leads_in_scope(Lead.objects.filter(owner__isnull=True, pool__isnull=False), scope)
    board.waiting = list(waiting.select_related("pool").order_by("created_at")[:list_limit])
    unroutable = leads_in_scope(Lead.objects.filter(status=Lead.Status.UNROUTABLE), scope)
    board.unroutable = list(unroutable.order_by("created_at")[:list_limit])
    return board


def _rep_rows(per_rep, owned, scope) -> list:
    """The scope's active reps: assignments received, leads owned and converted (`owned`: groups per owner and rule)."""
    reps = reps_in_scope(Rep.objects.filter(is_active=True).select_related("user"), scope)
    rows = {rep.pk: RepRow(rep_id=rep.pk, name=rep.name) for rep in reps}
    for row in per_rep:
        if row["rep_id"] in rows:
            rows[row["rep_id"]].assigned += row["assigned"]
    for group in owned:
        if group["owner_id"] in rows:
            rows[group["owner_id"]].owned += group["received"]
            rows[group["owner_id"]].converted += group["converted"]
    return sorted(rows.values(), key=lambda row: (-row.assigned, row.name))


def _rule_rows(owned) -> list:
    """Leads and conversion by the rule behind each lead's current assignment (its hits, for the leads still owned)."""
    per_rule = {}
    for group in owned:
        row = per_rule.setdefault(group["rule_id"], {"owned": 0, "converted": 0})
        row["owned"] += group["received"]
        row["converted"] += group["converted"]
    names = dict(RoutingRule.objects.filter(pk__in=per_rule).values_list("pk", "name"))
    rows = [
        {"name": names.get(rule_id), "owned": row["owned"], "converted": row["converted"],
         "conversion_rate": row["converted"] / row["owned"] if row["owned"] else None}
        for rule_id, row in per_rule.items()
    ]
    return sorted(rows, key=lambda row: (-row["owned"], row["name"] or ""))


@dataclass
class TrendDay:
    day: dt.date
    leads: int
    touched: int
    median_to_first_touch: dt.timedelta | None
    sla_breached: int


def trends(*, scope: TeamScope | None, first_day: dt.date, now: dt.datetime) -> list:
    """Per day from first_day to today: leads received, speed to lead (median first touch), SLA breaches."""
    daily_stats.daily_stats_refresh(first_day=first_day, last_day=daily_stats.local_day(now))
    lead_days = _lead_rows_in_scope(DailyLeadStats.objects.filter(day__gte=first_day), scope)
    sums = {row["day"]: row for row in lead_days.values("day").annotate(
        leads_sum=Sum("leads"), touched_sum=Sum("touched"), sla_breached_sum=Sum("sla_breached"),
        **{column: Sum(column) for column, _ in daily_stats.FIRST_TOUCH_BUCKETS}).order_by()}
    days = []
    for offset in range((daily_stats.local_day(now) - first_day).days + 1):
        day = first_day + dt.timedelta(days=offset)
        row = sums.get(day, {})
        days.append(TrendDay(day=day, leads=row.get("leads_sum") or 0, touched=row.get("touched_sum") or 0,
                             median_to_first_touch=daily_stats.percentile_from_histogram(row, 0.5),
                             sla_breached=row.get("sla_breached_sum") or 0))
    return days
