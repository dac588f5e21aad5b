"""Reads for the rep queue, the lead timeline, the dashboard and the reassignment log.

Who sees what (a manager: their teams) is people data, in reps.scoping.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Case, Count, F, OuterRef, Q, QuerySet, Subquery, When
from django.utils import timezone

from leads.models import Lead, LeadEvent
from reps.availability import next_available_at, unavailability
from reps.models import Rep, Team
from reps.scoping import TeamScope, assignments_in_scope, leads_in_scope, previous_owner_id, reps_in_scope, team_scope
from routing.capacity import LAST_HOUR, TODAY, capacity_problem, rep_loads
from routing.models import Assignment, Pool, RoutingDecision
from routing.explain import decision_explanation, rule_line
from routing.stats import percentile
from routing.timeline import cause_text, event_text

REASSIGNMENT_KINDS = (Assignment.Kind.REASSIGN, Assignment.Kind.MANUAL)
# Causes of the moves routing.reassignment.sla_reassign_overdue makes (to a rep or a manager).
SLA_CAUSES = ("sla_breach", "escalation")
PERIOD_DAYS = {"today": 0, "7d": 7, "30d": 30}


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


# --- The manager dashboard ---------------------------------------------------

def period_start(period: str, *, now: dt.datetime) -> dt.datetime:
    """Midnight today (in the current time zone) for "today", else that many days back."""
    days = PERIOD_DAYS.get(period, 7)
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return today if days == 0 else now - dt.timedelta(days=days)


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


def dashboard(*, scope: TeamScope | None, since: dt.datetime, now: dt.datetime, list_limit: int = 25) -> Dashboard:
    """Funnel, speed to lead, SLA, distribution and conversion for leads created since `since`, of the scope's teams."""
    rep_ids = None if scope is None else scope.rep_ids
    leads = Lead.objects.filter(created_at__gte=since)
    assignments = Assignment.objects.filter(created_at__gte=since)
    if rep_ids is not None:
        # A team's leads are those routed to its reps at some point.
        leads = leads.filter(pk__in=Assignment.objects.filter(rep_id__in=rep_ids).values("lead_id"))
        assignments = assignments.filter(rep_id__in=rep_ids)
    board = Dashboard(since=since)
    board.received = leads.count()
    board.routed = leads.filter(Q(owner__isnull=False) | Q(assignments__isnull=False)).distinct().count()
    durations = sorted(
        first_touch - created for created, first_touch
        in leads.filter(first_touch_at__isnull=False).values_list("created_at", "first_touch_at")
    )
    board.touched = len(durations)
    board.median_to_first_touch = percentile(durations, 0.5)
    board.p90_to_first_touch = percentile(durations, 0.9)
    board.reassignments = assignments.filter(kind__in=REASSIGNMENT_KINDS).count()
    board.sla_reassigned = assignments.filter(kind=Assignment.Kind.REASSIGN, cause__code__in=SLA_CAUSES).count()
    board.contacted_late = leads.filter(first_touch_at__gt=F("sla_due_at")).count()
    board.overdue_now = leads.filter(status=Lead.Status.ASSIGNED, first_touch_at__isnull=True,
                                     sla_due_at__lt=now).count()
    board.reps = _rep_rows(leads, assignments, rep_ids)
    board.rules = _rule_rows(leads)
    waiting = leads_in_scope(Lead.objects.filter(owner__isnull=True, pool__isnull=False), scope)
    board.waiting = list(waiting.select_related("pool").order_by("created_at")[:list_limit])
    unroutable = leads_in_scope(Lead.objects.filter(status=Lead.Status.UNROUTABLE), scope)
    board.unroutable = list(unroutable.order_by("created_at")[:list_limit])
    return board


def _rep_rows(leads, assignments, rep_ids) -> list:
    reps = Rep.objects.filter(is_active=True).select_related("user")
    if rep_ids is not None:
        reps = reps.filter(pk__in=rep_ids)
    rows = {rep.pk: RepRow(rep_id=rep.pk, name=rep.name) for rep in reps}
    for rep_id, count in assignments.values_list("rep_id").annotate(n=Count("pk")).order_by():
        if rep_id in rows:
            rows[rep_id].assigned = count
    owned = leads.filter(owner__isnull=False).values_list("owner_id").annotate(
        n=Count("pk"), won=Count("pk", filter=Q(status=Lead.Status.CONVERTED))).order_by()
    for rep_id, count, won in owned:
        if rep_id in rows:
            rows[rep_id].owned, rows[rep_id].converted = count, won
    return sorted(rows.values(), key=lambda row: (-row.assigned, row.name))


def _rule_rows(leads) -> list:
    """Conversion by the rule behind each lead's current assignment."""
    current = Assignment.objects.filter(is_current=True, lead__in=leads)
    rows = (
        current.values("rule_id", "rule__name")
        .annotate(owned=Count("lead_id"), converted=Count("lead_id", filter=Q(lead__status=Lead.Status.CONVERTED)))
        .order_by("-owned", "rule__name")
    )
    return [
        {"name": row["rule__name"], "owned": row["owned"], "converted": row["converted"],
         "conversion_rate": row["converted"] / row["owned"] if row["owned"] else None}
        for row in rows
    ]


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
    rows = []
    for rep in reps:
        row = CapacityRow(rep=rep, unavailable=unavailable[rep.pk], open=loads.open.get(rep.pk, 0),
                          today=loads.received(TODAY, rep.pk), hour=loads.received(LAST_HOUR, rep.pk))
        problem = capacity_problem(rep, row.open, row.today, row.hour)
        row.at_cap = problem[0] if problem else ""
        if row.unavailable is not None:
            row.next_available_at = next_available_at(rep, at)
        rows.append(row)
    return rows


def reps_for_capacity_board(scope: TeamScope | None) -> QuerySet:
    """The active reps the manager sees, by name (the reps' default order)."""
    return reps_in_scope(Rep.objects.filter(is_active=True).select_related("user"), scope)


# --- The reassignment log ----------------------------------------------------

def reassignment_log(*, scope: TeamScope | None, date_from: dt.date | None = None, date_to: dt.date | None = None,
                     rep: Rep | None = None, team: Team | None = None, reason: str = "", rule=None) -> QuerySet:
    """Reassignments within the scope, newest first, each with the rep who had the lead before (`from_rep_id`)."""
    log = (
        assignments_in_scope(Assignment.objects.filter(kind__in=REASSIGNMENT_KINDS), scope)
        .select_related("lead", "rep__user", "rule", "actor")
        .annotate(from_rep_id=previous_owner_id())
        .order_by("-created_at", "-pk")
    )
    if date_from:
        log = log.filter(created_at__date__gte=date_from)
    if date_to:
        log = log.filter(created_at__date__lte=date_to)
    if rep is not None:
        log = log.filter(Q(rep=rep) | Q(from_rep_id=rep.pk))
    if team is not None:
        rep_ids = team_scope([team.pk]).rep_ids
        log = log.filter(Q(rep_id__in=rep_ids) | Q(from_rep_id__in=rep_ids))
    if reason:
        log = log.filter(reason__icontains=reason)
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
