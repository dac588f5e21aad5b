"""Reads for the rep queue, the lead timeline, the dashboard and the reassignment log.

Who sees what (a manager: their teams) is people data, in reps.scoping.
"""

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db.models import Case, F, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.utils import timezone

from leads.models import Lead, LeadEvent, lead_label
from reps.availability import next_available_at, next_available_times, rep_unavailability, unavailability
from reps.models import Rep, Team, rep_name
from reps.scoping import TeamScope, assignments_in_scope, leads_in_scope, reps_in_scope, team_scope
from routing import daily_stats
from routing.capacity import LAST_HOUR, TODAY, capacity_problem, rep_capacity_problem, rep_loads
from routing.explain import decision_explanation, exclusion_text, rule_line
from routing.models import (
    Assignment, DailyAssignmentStats, DailyLeadStats, MonthlyAssignmentStats, MonthlyLeadStats, Pool, RepSetMember,
    RoutingDecision, RoutingRule,
)
from routing.timeline import cause_text, event_text

REASSIGNMENT_KINDS = daily_stats.REASSIGNMENT_KINDS
# Days each period of the dashboard and the trends covers, today included.
PERIOD_DAYS = {"today": 1, "7d": 7, "30d": 30, "12m": 365}


# --- Whether new leads reach a rep now ----------------------------------------

@dataclass(frozen=True)
class RoutingStatus:
    """What the engine would make of the rep at `at`: `why_not` (in the reader's language) is empty when they can
    take a lead; `next_at` is when they can again (working hours, leave, away), None when unknown or at a cap."""

    why_not: str = ""
    next_at: dt.datetime | None = None


def rep_routing_status(rep: Rep, *, at: dt.datetime) -> RoutingStatus:
    """The same checks as the engine's eligibility (reps.availability, then routing.capacity), for the rep's own page."""
    unavailable = rep_unavailability(rep, at)
    if unavailable is not None:
        return RoutingStatus(unavailable.text, next_available_at(rep, at))
    problem = rep_capacity_problem(rep, at=at)
    if problem is not None:
        return RoutingStatus(exclusion_text(*problem))
    return RoutingStatus()


# --- Pools a rep may claim from ---------------------------------------------

def claimable_pools_for(rep: Rep) -> QuerySet:
    """Pools that list the rep, or one of the rep's teams, as allowed to claim."""
    return Pool.objects.filter(Q(reps=rep) | Q(teams__members=rep)).distinct()


# --- The rep's queue ---------------------------------------------------------

def _with_routing_reason(leads: QuerySet) -> QuerySet:
    latest_decision = RoutingDecision.objects.filter(lead=OuterRef("pk")).order_by("-created_at", "-id")
    current = Assignment.objects.filter(lead=OuterRef("pk"), is_current=True)
    return leads.annotate(
        latest_rules=Subquery(latest_decision.values("trace__rules")[:1]),
        current_kind=Subquery(current.values("kind")[:1]),
        current_cause=Subquery(current.values("cause")[:1]),
        current_reason=Subquery(current.values("reason")[:1]),
    )


def routing_reason_line(lead: Lead) -> str:
    """One line on why the lead is here: a hand-made move's cause, or the rule that matched (from the decision's trace)."""
    hand_made = lead.current_kind in (Assignment.Kind.MANUAL, Assignment.Kind.CLAIM, Assignment.Kind.REASSIGN)
    reason = cause_text(lead.current_cause, default=lead.current_reason or "")
    if hand_made and reason:
        return reason
    matched = [rule for rule in lead.latest_rules or [] if rule.get("matched")]
    if matched:
        return rule_line(matched[-1])
    return reason


# The queue's order, as an expression: the partial index lead_queue_order (leads 0013) is built on exactly it,
# so a page of the queue is an index scan however many open leads the rep holds.
QUEUE_URGENT_AT = Case(When(first_touch_at__isnull=True, then=F("sla_due_at")))


def rep_open_leads(rep: Rep) -> QuerySet:
    """The rep's open leads, untouched ones with the nearest first-touch deadline first (index lead_queue_order)."""
    return (
        _with_routing_reason(Lead.objects.filter(owner=rep, status__in=Lead.OPEN_STATUSES))
        .annotate(urgent_at=QUEUE_URGENT_AT)
        .order_by(F("urgent_at").asc(nulls_last=True), "created_at", "pk")
    )


def with_routing_reasons(leads) -> list:
    """The leads of one page of the queue, each with `routing_reason`, the line on why it is the rep's."""
    leads = list(leads)
    for lead in leads:
        lead.routing_reason = routing_reason_line(lead)
    return leads


def rep_leads_received_since(rep: Rep, since: dt.datetime) -> int:
    """Open leads that reached the rep after `since`: the queue's "new lead" notice (index lead_owner_status)."""
    return Lead.objects.filter(owner=rep, status__in=Lead.OPEN_STATUSES, assigned_at__gt=since).count()


# Pool ages a rep can filter on: waiting at least this long.
POOL_AGES = {"15m": dt.timedelta(minutes=15), "1h": dt.timedelta(hours=1), "1d": dt.timedelta(days=1)}


def pool_leads_for(rep: Rep, *, search: str = "", pool: Pool | None = None, waiting: str = "",
                   now: dt.datetime | None = None) -> QuerySet:
    """Leads waiting, unowned, in the rep's pools; oldest first, as they have waited longest (index lead_pool_waiting).

    `search` matches the company, the name or the email; `pool` keeps one pool; `waiting` (a POOL_AGES key)
    keeps the leads waiting at least that long.
    """
    leads = Lead.objects.filter(owner__isnull=True, pool__in=claimable_pools_for(rep))
    if pool is not None:
        leads = leads.filter(pool=pool)
    if waiting in POOL_AGES:
        leads = leads.filter(created_at__lte=(now or timezone.now()) - POOL_AGES[waiting])
    for word in search.split():
        leads = leads.filter(Q(company__icontains=word) | Q(first_name__icontains=word)
                             | Q(last_name__icontains=word) | Q(email__icontains=word))
    return leads.select_related("pool").order_by("created_at", "pk")


# --- The lead's timeline -----------------------------------------------------

@dataclass
class TimelineEntry:
    at: dt.datetime
    kind: str
    title: str
    message: str
    actor: str = ""
    explanation: str = ""


def lead_timeline(lead: Lead) -> list:
    """Every event of the lead, each routing event with its decision's full explanation."""
    events = list(LeadEvent.objects.filter(lead=lead).select_related("actor"))
    decision_ids = [e.data.get("decision_id") for e in events if isinstance(e.data, dict) and e.data.get("decision_id")]
    explanations = {
        pk: decision_explanation(trace, stored=stored)
        for pk, trace, stored in RoutingDecision.objects.filter(pk__in=decision_ids).values_list("pk", "trace", "explanation")
    }
    entries = []
    if not any(e.kind == LeadEvent.Kind.CREATED for e in events):
        entries.append(TimelineEntry(at=lead.created_at, kind=LeadEvent.Kind.CREATED,
                                     title=str(LeadEvent.Kind.CREATED.label), message=lead.source))
    for event in events:
        decision_id = event.data.get("decision_id") if isinstance(event.data, dict) else None
        entries.append(TimelineEntry(
            at=event.created_at, kind=event.kind, title=event.get_kind_display(), message=event_text(event),
            actor=_user_name(event.actor), explanation=explanations.get(decision_id, ""),
        ))
    return entries


def _user_name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


# --- The manager dashboard and the trends -------------------------------------------

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


# --- The capacity board --------------------------------------------------------

@dataclass
class CapacityRow:
    rep: Rep
    unavailable: object  # reps.availability.Unavailable, or None when the rep can take leads now
    open: int
    today: int
    hour: int
    next_available_at: dt.datetime | None = None
    at_cap: str = ""  # the cap reached: "open_cap", "daily_cap" or "hourly_cap"

    @property
    def state(self) -> str:
        """available, away, on_leave or out_of_hours (holidays included)."""
        if self.unavailable is None:
            return "available"
        return {"holiday": "out_of_hours"}.get(self.unavailable.code, self.unavailable.code)


def capacity_board(*, reps: list, at: dt.datetime) -> list:
    """Each rep's availability now, load against caps, and the next instant they can take leads when not now."""
    unavailable = unavailability(reps, at)
    loads = rep_loads(reps, at=at)
    next_times = next_available_times([rep for rep in reps if unavailable[rep.pk] is not None], at)
    rows = []
    for rep in reps:
        row = CapacityRow(rep=rep, unavailable=unavailable[rep.pk], open=loads.open.get(rep.pk, 0),
                          today=loads.received(TODAY, rep.pk), hour=loads.received(LAST_HOUR, rep.pk))
        problem = capacity_problem(rep, row.open, row.today, row.hour)
        row.at_cap = problem[0] if problem else ""
        row.next_available_at = next_times.get(rep.pk)
        rows.append(row)
    return rows


def reps_for_capacity_board(scope: TeamScope | None) -> QuerySet:
    """The active reps the manager sees, by name (the reps' default order)."""
    return reps_in_scope(Rep.objects.filter(is_active=True).select_related("user"), scope)


# --- The reassignment log ----------------------------------------------------

LOG_FIELDS = (
    "created_at", "kind", "cause", "reason", "lead_id", "rep_id", "from_rep_id", "rule_id", "actor_id",
    "lead__first_name", "lead__last_name", "lead__email", "lead__company",
    "rep__user__first_name", "rep__user__last_name", "rep__user__username", "rule__name",
    "actor__username", "actor__first_name", "actor__last_name",
)


def reassignment_log(*, scope: TeamScope | None, date_from: dt.date | None = None, date_to: dt.date | None = None,
                     rep: Rep | None = None, team: Team | None = None, cause: str = "", rule=None) -> QuerySet:
    """Reassignments within the scope, newest first, each with the rep who had the lead before (`from_rep_id`).

    Days are the site's (as the dashboard's); `cause` is a cause code (Assignment.cause), never a search of stored text.
    """
    log = (
        assignments_in_scope(Assignment.objects.filter(kind__in=REASSIGNMENT_KINDS), scope)
        .select_related("lead", "rep__user", "rule", "actor")
        # Only what the log page shows (the CSV reads its own columns, LOG_ROW_COLUMNS): not five tables' every column.
        .only(*LOG_FIELDS)
        .order_by("-created_at", "-pk")
    )
    # Bounds on created_at itself (not its date in a time zone), so the index of the log serves them.
    if date_from:
        log = log.filter(created_at__gte=daily_stats.day_start(date_from))
    if date_to:
        log = log.filter(created_at__lt=daily_stats.day_start(date_to + dt.timedelta(days=1)))
    if rep is not None:
        log = log.filter(Q(rep=rep) | Q(from_rep_id=rep.pk))
    if team is not None:
        rep_ids = team_scope([team.pk]).rep_ids
        log = log.filter(Q(rep_id__in=rep_ids) | Q(from_rep_id__in=rep_ids))
    if cause:
        log = log.filter(cause__code=cause)
    if rule is not None:
        log = log.filter(rule=rule)
    return log


def with_from_reps(entries) -> list:
    """Attaches `from_rep` to each log entry with one query for all of them."""
    entries = list(entries)
    ids = {entry.from_rep_id for entry in entries if entry.from_rep_id}
    reps = {rep.pk: rep for rep in Rep.objects.filter(pk__in=ids).select_related("user")}
    for entry in entries:
        entry.from_rep = reps.get(entry.from_rep_id)
    return entries


class LogRow(NamedTuple):
    """A reassignment as the CSV writes it: names as the log page shows them, texts in the active language."""

    created_at: dt.datetime
    lead_id: int
    lead: str
    from_rep: str  # "" when nobody had the lead before
    rep: str
    kind: str
    reason: str
    rule: str
    actor: str | None  # the username; None when the system moved the lead


# The columns of a LogRow, in the order reassignment_log_rows unpacks them.
LOG_ROW_COLUMNS = (
    "created_at", "lead_id", "lead__first_name", "lead__last_name", "lead__email", "lead__company",
    "from_rep_id", "rep__user__first_name", "rep__user__last_name", "rep__user__username", "kind", "cause", "reason",
    "rule__name", "actor__username",
)


def reassignment_log_rows(log: QuerySet, *, chunk: int = 1000):
    """The log as LogRows, from plain tuples a chunk at a time: a year of it streams without a model instance a row.

    Five model instances a row were most of the CSV's time (0.4 ms a row, 19 s for 50,000 rows). Names come from
    lead_label and rep_name, as str(lead) and Rep.name give them on the page; the log holds no initial routing, so
    a reason is the cause's text (Assignment.reason_for_reader).
    """
    kinds = {value: str(label) for value, label in Assignment.Kind.choices}  # in the active language, once
    rows = log.values_list(*LOG_ROW_COLUMNS).iterator(chunk_size=chunk)
    while batch := list(itertools.islice(rows, chunk)):
        from_reps = _rep_names({row[6] for row in batch})
        for (created_at, lead_id, first_name, last_name, email, company, from_rep_id, rep_first_name, rep_last_name,
             rep_username, kind, cause, reason, rule, actor) in batch:
            yield LogRow(
                created_at=created_at, lead_id=lead_id,
                lead=lead_label(pk=lead_id, first_name=first_name, last_name=last_name, email=email, company=company),
                from_rep=from_reps.get(from_rep_id, ""),
                rep=rep_name(first_name=rep_first_name, last_name=rep_last_name, username=rep_username),
                kind=kinds.get(kind, kind), reason=cause_text(cause, default=reason), rule=rule or "", actor=actor,
            )


def _rep_names(rep_ids) -> dict:
    """Rep id -> name, with one query for all of them."""
    reps = Rep.objects.filter(pk__in=rep_ids - {None}).values_list(
        "pk", "user__first_name", "user__last_name", "user__username")
    return {pk: rep_name(first_name=first, last_name=last, username=username) for pk, first, last, username in reps}
