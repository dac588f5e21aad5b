"""Reads for the rep's queue and the lead's timeline.

The manager's pages read from modules of their own: `routing.dashboard_figures` (the dashboard and the trends),
`routing.capacity_board`, `routing.reassignment_log`. Who sees what (a manager: their teams) is people
data, in reps.scoping.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, F, OuterRef, Q, QuerySet, Subquery, When
from django.utils import timezone

from leads.models import Lead, LeadEvent
from reps.availability import next_available_at, rep_unavailability
from reps.models import Rep
from routing.capacity import rep_capacity_problem
from routing.explain import decision_explanation, exclusion_text, rule_line
from routing.models import Assignment, Pool, RoutingDecision
from routing.timeline import cause_text, event_text


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
