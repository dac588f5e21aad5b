"""Reads for the rep queue, the lead timeline, the dashboard and the reassignment log.

Who sees what (a manager: their teams) is people data, in reps.scoping.
"""

import datetime as dt
import itertools
from dataclasses import dataclass, field

from django.db.models import Case, F, OuterRef, Q, QuerySet, Subquery, Sum, When
from django.utils import timezone

from leads.models import Lead, LeadEvent
from reps.models import Rep, Team
from reps.scoping import TeamScope, assignments_in_scope, leads_in_scope, previous_owner_id, reps_in_scope, team_scope
from routing import daily_stats
from routing.models import (
    Assignment, DailyAssignmentStats, DailyLeadStats, Pool, RoutingDecision, RoutingRule,
)
from routing.explain import decision_explanation, rule_line
from routing.timeline import cause_text, event_text

REASSIGNMENT_KINDS = daily_stats.REASSIGNMENT_KINDS
# Days each period of the dashboard and the trends covers, today included.
PERIOD_DAYS = {"today": 1, "7d": 7, "30d": 30, "12m": 365}


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


def rep_open_leads(rep: Rep) -> list:
    """The rep's open leads, untouched ones with the nearest first-touch deadline first."""
    urgent_at = Case(When(first_touch_at__isnull=True, then=F("sla_due_at")))
    leads = (
        _with_routing_reason(Lead.objects.filter(owner=rep, status__in=Lead.OPEN_STATUSES))
        .annotate(urgent_at=urgent_at)
        .order_by(F("urgent_at").asc(nulls_last=True), "created_at", "pk")
    )
    leads = list(leads)
    for lead in leads:
        lead.routing_reason = routing_reason_line(lead)
    return leads


def pool_leads_for(rep: Rep) -> QuerySet:
    """Leads waiting, unowned, in the rep's pools; oldest first, as they have waited longest."""
    return (
        Lead.objects.filter(owner__isnull=True, pool__in=claimable_pools_for(rep))
        .select_related("pool")
        .order_by("created_at", "pk")
    )


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


def _daily_stats_in_scope(*, scope: TeamScope | None, first_day: dt.date, now: dt.datetime):
    """The fresh daily rows from first_day to today: of the leads ever routed to the scope's reps, of their assignments."""
    daily_stats.daily_stats_refresh(first_day=first_day, last_day=daily_stats.local_day(now))
    lead_days = DailyLeadStats.objects.filter(day__gte=first_day)
    assignment_days = DailyAssignmentStats.objects.filter(day__gte=first_day)
    if scope is not None:
        if not scope.rep_ids:
            return lead_days.none(), assignment_days.none()
        # A team's leads are those routed to its reps at some point: one of its reps is in the group's rep set.
        lead_days = lead_days.filter(rep_set__regex=",(%s)," % "|".join(str(pk) for pk in sorted(scope.rep_ids)))
        assignment_days = assignment_days.filter(rep_id__in=scope.rep_ids)
    return lead_days, assignment_days


def dashboard(*, scope: TeamScope | None, first_day: dt.date, now: dt.datetime, list_limit: int = 25) -> Dashboard:
    """Funnel, speed to lead, SLA, distribution and conversion for leads created since first_day, of the scope's teams."""
    lead_days, assignment_days = _daily_stats_in_scope(scope=scope, first_day=first_day, now=now)
    board = Dashboard(since=daily_stats.day_start(first_day))
    totals = lead_days.aggregate(
        received=Sum("leads"), routed=Sum("leads", filter=~Q(rep_set="")), touched=Sum("touched"),
        contacted_late=Sum("contacted_late"), **{column: Sum(column) for column, _ in daily_stats.FIRST_TOUCH_BUCKETS})
    board.received, board.routed = totals["received"] or 0, totals["routed"] or 0
    board.touched, board.contacted_late = totals["touched"] or 0, totals["contacted_late"] or 0
    board.median_to_first_touch = daily_stats.percentile_from_histogram(totals, 0.5)
    board.p90_to_first_touch = daily_stats.percentile_from_histogram(totals, 0.9)
    moves = assignment_days.aggregate(reassignments=Sum("reassignments"), sla_reassigned=Sum("sla_reassigned"))
    board.reassignments, board.sla_reassigned = moves["reassignments"] or 0, moves["sla_reassigned"] or 0
    overdue = Lead.objects.filter(created_at__gte=board.since, status=Lead.Status.ASSIGNED, first_touch_at__isnull=True,
                                  sla_due_at__lt=now)
    if scope is not None:
        overdue = overdue.filter(pk__in=Assignment.objects.filter(rep_id__in=scope.rep_ids).values("lead_id"))
    board.overdue_now = overdue.count()
    board.reps = _rep_rows(lead_days, assignment_days, scope)
    board.rules = _rule_rows(lead_days)
    waiting = leads_in_scope(Lead.objects.filter(owner__isnull=True, pool__isnull=False), scope)
    board.waiting = list(waiting.select_related("pool").order_by("created_at")[:list_limit])
    unroutable = leads_in_scope(Lead.objects.filter(status=Lead.Status.UNROUTABLE), scope)
    board.unroutable = list(unroutable.order_by("created_at")[:list_limit])
    return board


def _rep_rows(lead_days, assignment_days, scope) -> list:
    reps = reps_in_scope(Rep.objects.filter(is_active=True).select_related("user"), scope)
    rows = {rep.pk: RepRow(rep_id=rep.pk, name=rep.name) for rep in reps}
    for rep_id, count in assignment_days.values_list("rep_id").annotate(n=Sum("assigned")).order_by():
        if rep_id in rows:
            rows[rep_id].assigned = count
    owned = lead_days.filter(owner__isnull=False).values_list("owner_id").annotate(
        n=Sum("leads"), won=Sum("converted")).order_by()
    for rep_id, count, won in owned:
        if rep_id in rows:
            rows[rep_id].owned, rows[rep_id].converted = count, won
    return sorted(rows.values(), key=lambda row: (-row.assigned, row.name))


def _rule_rows(lead_days) -> list:
    """Leads and conversion by the rule behind each lead's current assignment (its hits, for the leads still owned)."""
    rows = list(lead_days.filter(owner__isnull=False).values("rule_id").annotate(
        owned=Sum("leads"), converted=Sum("converted")).order_by())
    names = dict(RoutingRule.objects.filter(pk__in=[row["rule_id"] for row in rows]).values_list("pk", "name"))
    rows = [
        {"name": names.get(row["rule_id"]), "owned": row["owned"], "converted": row["converted"],
         "conversion_rate": row["converted"] / row["owned"] if row["owned"] else None}
        for row in rows
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
    lead_days, _ = _daily_stats_in_scope(scope=scope, first_day=first_day, now=now)
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


# --- The reassignment log ----------------------------------------------------

LOG_FIELDS = (
    "created_at", "kind", "cause", "reason", "lead_id", "rep_id", "rule_id", "actor_id",
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
        # Only what the log and its CSV show: a row of five tables' every column cost most of the CSV's time.
        .only(*LOG_FIELDS)
        .annotate(from_rep_id=previous_owner_id())
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


def with_from_reps_streamed(entries, *, chunk: int = 1000):
    """with_from_reps for a stream of any length: a chunk at a time, never the whole log in memory."""
    entries = iter(entries)
    while batch := list(itertools.islice(entries, chunk)):
        yield from with_from_reps(batch)
