"""Reassignment: a manager moves a lead, a departing rep's leads are routed again, untouched leads move at their deadline.

Every path locks the lead's row and hands the new owner and the cause (a code and its
parameters, see `routing.timeline`) to the owner writer, `routing.ownership`, which writes
the assignment, the lead, the "reassigned" timeline event "old → new" and the emails in the
caller's transaction. Routing again goes through the rules (`lead_route_locked`), excluding
the reps the lead should not go back to.
"""

import datetime as dt
import logging

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from leadrouting.i18n import site_language
from leads.models import Lead, LeadEvent
from reps.models import Rep
from routing.candidates import eligible_team_reps
from routing.models import Assignment, RoutingRule
from routing.notifications import notify_escalation_on_commit
from routing.ownership import lead_owner_change
from routing.services import lead_route_locked, worker_name
from routing.sla import sla_minutes_for
from routing.timeline import timeline_cause, timeline_text

logger = logging.getLogger("routing")


def lead_reassign(*, lead_id: int, to_rep: Rep | None = None, actor: AbstractBaseUser | None, reason: str) -> Lead:
    """Gives the lead to `to_rep`, or routes it again through the rules without its current owner when None."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the lead is reassigned; the reason goes into its history.")})
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead_id)
        if lead.status in Lead.CLOSED_STATUSES:
            raise ValidationError(
                _("%(lead)s is %(status)s: closed leads keep their owner. Reopen it before reassigning it.")
                % {"lead": lead, "status": lead.get_status_display().lower()}
            )
        cause = timeline_cause("manual", note=reason)
        if to_rep is None:
            exclude = [lead.owner_id] if lead.owner_id else []
            _route_again(lead, exclude_rep_ids=exclude, actor=actor, cause=cause)
        else:
            current = _current_assignment(lead)
            _assign_by_hand(lead, to_rep, actor=actor, cause=cause, rule=current.rule if current else None)
    return lead


def rep_deactivate(*, rep: Rep, actor: AbstractBaseUser | None) -> int:
    """Marks the rep inactive and routes each of their open leads again without them; returns how many moved."""
    with transaction.atomic():
        # The rep's lock orders this with an assignment the engine is making to them right now.
        locked = Rep.objects.select_for_update().get(pk=rep.pk)
        if locked.is_active:
            locked.is_active = False
            locked.save(update_fields=["is_active"])
        rep.is_active = False
        moved = 0
        for lead in Lead.objects.select_for_update().filter(owner=rep, status__in=Lead.OPEN_STATUSES).order_by("pk"):
            _route_again(lead, exclude_rep_ids=[rep.pk], actor=actor, cause=timeline_cause("rep_deactivated"),
                         release=True)
            moved += lead.owner_id != rep.pk
    logger.info("rep %s deactivated by %s; %s open leads moved", rep.pk, actor.pk if actor else "system", moved)
    return moved


def rep_reassign_untouched_leads(*, rep: Rep, actor: AbstractBaseUser | None) -> int:
    """Routes the rep's assigned, not yet contacted leads again without them; returns how many moved.

    Leads the rep has contacted stay: someone is working on them. A lead nobody else is
    eligible for stays too (or waits in its rule's pool, when the rule says so).
    """
    moved = 0
    with transaction.atomic():
        untouched = Lead.objects.select_for_update().filter(
            owner=rep, status=Lead.Status.ASSIGNED, first_touch_at__isnull=True
        )
        for lead in untouched.order_by("pk"):
            _route_again(lead, exclude_rep_ids=[rep.pk], actor=actor, cause=timeline_cause("rep_away"))
            moved += lead.owner_id != rep.pk
    return moved


def sla_reassign_overdue(*, now: dt.datetime, limit: int = 500) -> int:
    """Moves each assigned, untouched lead past its first-touch deadline; one transaction per lead; returns the count.

    The lead goes to the next eligible rep by the rules, never back to a previous owner.
    After ROUTING_MAX_REASSIGNMENTS reassignments, or when nobody else is eligible, it
    escalates instead (see `_escalate`) and its deadline is cleared, so the sweep leaves
    it alone from then on. A lead touched meanwhile, or already moved by another sweep,
    no longer matches the claim and is left as it is.
    """
    handled = 0
    while handled < limit:
        with transaction.atomic():
            lead = _lock_next_overdue_lead(now)
            if lead is None:
                break
            _reassign_overdue(lead, now=now)
        handled += 1
    return handled


def _lock_next_overdue_lead(now):
    # SKIP LOCKED: several sweepers each take a different lead; the row is re-checked against the filter once locked.
    return (
        Lead.objects.select_for_update(skip_locked=True)
        .filter(sla_due_at__lt=now, first_touch_at__isnull=True, status=Lead.Status.ASSIGNED, owner__isnull=False)
        .order_by("sla_due_at", "pk")
        .first()
    )


def _reassign_overdue(lead, *, now):
    current = _current_assignment(lead)
    rule = current.rule if current else None
    breach = {"minutes": sla_minutes_for(rule)}  # the cause's parameters, as "nobody eligible" adds to them
    if lead.reassignment_count < settings.ROUTING_MAX_REASSIGNMENTS:
        previous_owners = set(Assignment.objects.filter(lead=lead).values_list("rep_id", flat=True))
        action = rule.sla_breach_action if rule is not None else RoutingRule.SlaBreachAction.REROUTE
        if action == RoutingRule.SlaBreachAction.POOL:
            lead_owner_change(lead=lead, rep=None, pool=rule.sla_escalation_pool, cause=timeline_cause(
                "sla_breach", **breach), kind=Assignment.Kind.REASSIGN, now=now)
            return
        if action == RoutingRule.SlaBreachAction.TEAM:
            reps = eligible_team_reps(rule.sla_escalation_team_id, at=now, exclude_rep_ids=previous_owners)
            if reps:
                _assign_by_hand(lead, reps[0], actor=None, cause=timeline_cause("sla_breach", **breach),
                                kind=Assignment.Kind.REASSIGN, rule=rule)
                return
            breach.update(nobody_eligible="team", team=str(rule.sla_escalation_team))
            _escalate(lead, rule=rule, breach=breach)
            return
        old_owner_id = lead.owner_id
        _route_again(lead, exclude_rep_ids=sorted(previous_owners), actor=None,
                     cause=timeline_cause("sla_breach", **breach))
        if lead.owner_id != old_owner_id:
            return
        breach["nobody_eligible"] = "rules"
    _escalate(lead, rule=rule, breach=breach)


def _escalate(lead, *, rule, breach):
    """Gives the lead to a manager of the rule's team who is also a rep; otherwise flags it on the lead for them.

    Either way the deadline is cleared: from here on a person, not the sweep, decides.
    """
    manager_rep = _manager_rep_for(rule, exclude_rep_id=lead.owner_id)
    team = rule.target_team if rule is not None else None
    # The cause as data: each manager's email renders it in that manager's language.
    notify_escalation_on_commit(lead_id=lead.pk, team_id=team.pk if team else None,
                                reason=timeline_cause("sla_breach", **breach),
                                escalated_to_id=manager_rep.pk if manager_rep else None)
    if manager_rep is not None:
        # The managers' escalation email tells the manager the lead is theirs: no second email (see notifications).
        lead_owner_change(lead=lead, rep=manager_rep, cause=timeline_cause("escalation", **breach),
                          kind=Assignment.Kind.REASSIGN, rule=rule, with_deadline=False)
        return
    Lead.objects.filter(pk=lead.pk).update(sla_due_at=None)
    lead.sla_due_at = None
    cause = timeline_cause("needs_manager", **breach, manager_team=str(team) if team else None)
    with site_language():
        message = timeline_text(cause)
    LeadEvent.objects.create(lead=lead, kind=LeadEvent.Kind.ESCALATED, message=message,
                             data={"team_id": team.pk if team else None, "cause": cause})


def _manager_rep_for(rule, *, exclude_rep_id):
    if rule is None or rule.target_team_id is None:
        return None
    return (
        Rep.objects.filter(is_active=True, user__managed_teams=rule.target_team_id)
        .exclude(pk=exclude_rep_id)
        .select_related("user")
        .order_by("pk")
        .first()
    )


def _current_assignment(lead):
    return Assignment.objects.filter(lead=lead, is_current=True).select_related("rule__target_team").first()


def _route_again(lead, *, exclude_rep_ids, actor, cause, release=False):
    """Routes the locked lead through the rules as a reassignment; `release` unassigns it when nobody else is eligible."""
    record = lead_route_locked(
        lead=lead, worker=worker_name(), exclude_rep_ids=exclude_rep_ids, kind=Assignment.Kind.REASSIGN, actor=actor,
        cause=cause, release=release,
    )
    if record is None:
        # A transient database error: the lead stays as it was and keeps its place in the queue.
        raise ValidationError(_("%(lead)s could not be routed right now; try again in a moment.") % {"lead": lead})


def _assign_by_hand(lead, rep, *, actor, cause, rule, kind=Assignment.Kind.MANUAL):
    """Gives the lead to `rep`; `rule` (the current assignment's) keeps deciding the new owner's first-touch deadline."""
    if not rep.is_active:
        raise ValidationError({"to_rep": _("%(rep)s is inactive; choose an active rep.") % {"rep": rep}})
    if rep.pk == lead.owner_id:
        raise ValidationError({"to_rep": _("%(rep)s already owns %(lead)s; choose another rep.") % {"rep": rep, "lead": lead}})
    lead_owner_change(lead=lead, rep=rep, cause=cause, kind=kind, actor=actor, rule=rule)
