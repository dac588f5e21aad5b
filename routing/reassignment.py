"""Reassignment: a manager moves a lead, a departing rep's leads are routed again, untouched leads move at their deadline.

Every path locks the lead's row, ends the current assignment, records the new one with
its reason and actor, and writes a "reassigned" timeline event "old → new" in the same
transaction. Routing again goes through the rules (`lead_route_claimed`), excluding the
reps the lead should not go back to.
"""

import datetime as dt
import logging

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from leadrouting.i18n import site_language
from leads.models import Lead, LeadEvent
from reps.models import Rep
from routing.backlog import on_capacity_freed
from routing.candidates import eligible_team_reps
from routing.models import Assignment, RoutingRule
from routing.notifications import notify_assignment_on_commit, notify_escalation_on_commit, notify_moved_away_on_commit
from routing.services import lead_route_claimed, worker_name
from routing.sla import sla_deadline, sla_minutes_for

logger = logging.getLogger("routing")

REASON_DEACTIVATED = "rep deactivated"
REASON_AWAY = "rep away"


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
        if to_rep is None:
            exclude = [lead.owner_id] if lead.owner_id else []
            _route_again(lead, exclude_rep_ids=exclude, actor=actor, reason=reason)
        else:
            _assign_by_hand(lead, to_rep, actor=actor, reason=reason)
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
            _route_again(lead, exclude_rep_ids=[rep.pk], actor=actor, reason=REASON_DEACTIVATED, release=True)
            moved += lead.owner_id != rep.pk
    logger.info("rep %s deactivated by %s; %s open leads moved", rep.pk, actor.pk if actor else "system", moved)
    return moved


def rep_reassign_untouched_leads(*, rep: Rep, actor: AbstractBaseUser | None, reason: str = REASON_AWAY) -> int:
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
            _route_again(lead, exclude_rep_ids=[rep.pk], actor=actor, reason=reason)
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
            lead = _claim_next_overdue_lead(now)
            if lead is None:
                break
            _reassign_overdue(lead, now=now)
        handled += 1
    return handled


def _claim_next_overdue_lead(now):
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
    reason = _("SLA breach: not contacted within %(minutes)s minutes") % {"minutes": sla_minutes_for(rule)}
    if lead.reassignment_count < settings.ROUTING_MAX_REASSIGNMENTS:
        previous_owners = set(Assignment.objects.filter(lead=lead).values_list("rep_id", flat=True))
        action = rule.sla_breach_action if rule is not None else RoutingRule.SlaBreachAction.REROUTE
        if action == RoutingRule.SlaBreachAction.POOL:
            _move_to_pool(lead, rule.sla_escalation_pool, reason=reason, now=now)
            return
        if action == RoutingRule.SlaBreachAction.TEAM:
            reps = eligible_team_reps(rule.sla_escalation_team_id, at=now, exclude_rep_ids=previous_owners)
            if reps:
                _assign_by_hand(lead, reps[0], actor=None, reason=reason, kind=Assignment.Kind.REASSIGN)
                return
            reason = _("%(reason)s, and nobody in %(team)s is eligible") % {
                "reason": reason, "team": rule.sla_escalation_team}
            _escalate(lead, rule=rule, reason=reason)
            return
        old_owner_id = lead.owner_id
        _route_again(lead, exclude_rep_ids=sorted(previous_owners), actor=None, reason=reason)
        if lead.owner_id != old_owner_id:
            return
        reason = _("%(reason)s, and no other rep is eligible") % {"reason": reason}
    _escalate(lead, rule=rule, reason=reason)


def _move_to_pool(lead, pool, *, reason, now):
    """Takes the lead from its owner and leaves it in `pool` for any member to claim."""
    old_owner = lead.owner
    _end_current_assignment(lead, now)
    changes = {"owner": None, "pool": pool, "status": Lead.Status.NEW, "sla_due_at": None, "updated_at": now}
    Lead.objects.filter(pk=lead.pk).update(**changes)
    for name, value in changes.items():
        setattr(lead, name, value)
    _count_reassignment(lead)
    on_capacity_freed()
    notify_moved_away_on_commit(lead_id=lead.pk, previous_owner_id=old_owner.pk, reason=reason)
    LeadEvent.objects.create(
        lead=lead, kind=LeadEvent.Kind.REASSIGNED,
        message=_("%(old)s → pool %(pool)s, %(reason)s.") % {"old": _owner_text(old_owner), "pool": pool, "reason": reason},
        data={"from_rep_id": old_owner.pk, "pool_id": pool.pk},
    )


def _escalate(lead, *, rule, reason):
    """Gives the lead to a manager of the rule's team who is also a rep; otherwise flags it on the lead for them.

    Either way the deadline is cleared: from here on a person, not the sweep, decides.
    """
    manager_rep = _manager_rep_for(rule, exclude_rep_id=lead.owner_id)
    Lead.objects.filter(pk=lead.pk).update(sla_due_at=None)
    lead.sla_due_at = None
    team = rule.target_team if rule is not None else None
    notify_escalation_on_commit(lead_id=lead.pk, team_id=team.pk if team else None, reason=reason,
                                escalated_to_id=manager_rep.pk if manager_rep else None)
    if manager_rep is not None:
        # The managers' escalation email tells the manager the lead is theirs: no second email.
        _assign_by_hand(lead, manager_rep, actor=None, reason=_("%(reason)s: escalated to a manager") % {"reason": reason},
                        kind=Assignment.Kind.REASSIGN, with_deadline=False, notify_new_owner=False)
        return
    LeadEvent.objects.create(
        lead=lead, kind=LeadEvent.Kind.ESCALATED,
        message=_("%(reason)s. Needs a manager: no manager of %(team)s can take it; assign it by hand.")
        % {"reason": reason, "team": team or _("the routing team")},
        data={"team_id": team.pk if team else None},
    )


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


def _route_again(lead, *, exclude_rep_ids, actor, reason, release=False):
    """Routes the locked lead through the rules as a reassignment; `release` unassigns it when nobody else is eligible."""
    old_owner = lead.owner
    record = lead_route_claimed(
        lead=lead, worker=worker_name(), exclude_rep_ids=exclude_rep_ids, kind=Assignment.Kind.REASSIGN, actor=actor,
        reason=reason,
    )
    if record is None:
        # A transient database error: the lead stays as it was and keeps its place in the queue.
        raise ValidationError(_("%(lead)s could not be routed right now; try again in a moment.") % {"lead": lead})
    now = timezone.now()
    if old_owner is not None and lead.owner_id is None:
        # Pooled or nurtured: the lead has no owner any more, so the old assignment is over.
        _end_current_assignment(lead, now)
    elif release and old_owner is not None and lead.owner_id == old_owner.pk:
        _end_current_assignment(lead, now)
        Lead.objects.filter(pk=lead.pk).update(owner=None, status=Lead.Status.UNROUTABLE, sla_due_at=None)
        lead.owner, lead.status, lead.sla_due_at = None, Lead.Status.UNROUTABLE, None
    if lead.owner_id != (old_owner.pk if old_owner else None):
        _count_reassignment(lead)
        if old_owner is not None:
            on_capacity_freed()
    if old_owner is not None and lead.owner_id is None:
        notify_moved_away_on_commit(lead_id=lead.pk, previous_owner_id=old_owner.pk, reason=reason)
    new_owner = lead.owner if lead.owner_id else None
    # One timeline line per reassignment: who had it, who has it now, why, and what the rules decided.
    event = LeadEvent.objects.filter(lead=lead, data__decision_id=record.pk).first()
    if event is not None:
        event.kind = LeadEvent.Kind.REASSIGNED
        event.message = f"{_owner_text(old_owner)} → {_owner_text(new_owner)}, {reason}. {event.message}"
        event.save(update_fields=["kind", "message"])


def _assign_by_hand(lead, rep, *, actor, reason, kind=Assignment.Kind.MANUAL, with_deadline=True,
                    notify_new_owner=True):
    if not rep.is_active:
        raise ValidationError({"to_rep": _("%(rep)s is inactive; choose an active rep.") % {"rep": rep}})
    if rep.pk == lead.owner_id:
        raise ValidationError({"to_rep": _("%(rep)s already owns %(lead)s; choose another rep.") % {"rep": rep, "lead": lead}})
    now = timezone.now()
    old_owner = lead.owner
    current = _end_current_assignment(lead, now)
    rule = current.rule if current else None
    assignment = Assignment.objects.create(lead=lead, rep=rep, rule=rule, kind=kind, actor=actor, reason=reason)
    notify_assignment_on_commit(
        assignment, previous_owner_id=old_owner.pk if old_owner else None, notify_new_owner=notify_new_owner
    )
    changes = {
        "owner": rep, "status": Lead.Status.ASSIGNED, "assigned_at": now, "pool": None, "routing_requested_at": None,
        "sla_due_at": sla_deadline(rule=rule, assigned_at=now, rep=rep) if with_deadline else None,
        "updated_at": now,
    }
    Lead.objects.filter(pk=lead.pk).update(**changes)
    for name, value in changes.items():
        setattr(lead, name, value)
    _count_reassignment(lead)
    if old_owner is not None:
        on_capacity_freed()
    LeadEvent.objects.create(
        lead=lead, kind=LeadEvent.Kind.REASSIGNED, actor=actor,
        message=f"{_owner_text(old_owner)} → {rep.name}, {reason}.",
        data={"from_rep_id": old_owner.pk if old_owner else None, "to_rep_id": rep.pk},
    )


def _end_current_assignment(lead, now):
    current = _current_assignment(lead)
    if current is not None:
        Assignment.objects.filter(pk=current.pk).update(is_current=False, ended_at=now)
    return current


def _count_reassignment(lead):
    Lead.objects.filter(pk=lead.pk).update(reassignment_count=F("reassignment_count") + 1)
    lead.reassignment_count += 1


def _owner_text(rep) -> str:
    with site_language():  # part of a timeline line
        return rep.name if rep is not None else _("nobody")
