"""A lead's life after routing: the owner accepts, contacts, qualifies, converts or loses it, and writes notes.

Each service locks the lead's row, checks that the actor is the lead's owner, changes the
status and writes the timeline event in the same transaction. Marking a lead contacted
records its first touch, which stops the SLA clock: the sweep in routing.reassignment only
moves leads whose `first_touch_at` is empty.
"""

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadrouting.i18n import site_language
from leads.models import Lead, LeadEvent
from routing.events import LEAD_CLOSED, publish_on_commit
from routing.timeline import timeline_cause, timeline_text

S = Lead.Status
# Which statuses each change may start from; closed leads stay closed.
ACCEPT_FROM = (S.ASSIGNED,)
CONTACT_FROM = (S.ASSIGNED, S.ACCEPTED)
QUALIFY_FROM = (S.ASSIGNED, S.ACCEPTED, S.CONTACTED)
CLOSE_FROM = Lead.OPEN_STATUSES
NOTE_MAX_LENGTH = 5000
REASON_MAX_LENGTH = 500


def lead_accept(*, lead_id: int, actor: AbstractBaseUser) -> Lead:
    """The owner takes the lead on; the SLA clock keeps running until the first touch."""
    return _change_status(lead_id=lead_id, actor=actor, to=S.ACCEPTED, allowed_from=ACCEPT_FROM)


def lead_mark_contacted(*, lead_id: int, actor: AbstractBaseUser) -> Lead:
    """Records the first touch (once), which stops the SLA clock."""
    return _change_status(lead_id=lead_id, actor=actor, to=S.CONTACTED, allowed_from=CONTACT_FROM)


def lead_qualify(*, lead_id: int, actor: AbstractBaseUser) -> Lead:
    return _change_status(lead_id=lead_id, actor=actor, to=S.QUALIFIED, allowed_from=QUALIFY_FROM)


def lead_convert(*, lead_id: int, actor: AbstractBaseUser) -> Lead:
    return _change_status(lead_id=lead_id, actor=actor, to=S.CONVERTED, allowed_from=CLOSE_FROM)


def lead_lose(*, lead_id: int, actor: AbstractBaseUser, reason: str) -> Lead:
    """Closes the lead as lost; the reason goes into its timeline and the reports."""
    reason = _clean_text(reason, field="reason", max_length=REASON_MAX_LENGTH,
                         empty=_("Say why the lead is lost, e.g. \"no budget\" or \"chose a competitor\"."))
    return _change_status(lead_id=lead_id, actor=actor, to=S.LOST, allowed_from=CLOSE_FROM, reason=reason)


def lead_add_note(*, lead_id: int, actor: AbstractBaseUser, text: str) -> LeadEvent:
    text = _clean_text(text, field="text", max_length=NOTE_MAX_LENGTH, empty=_("Write the note before saving it."))
    with transaction.atomic():
        lead = _lock_owned_lead(lead_id, actor)
        return LeadEvent.objects.create(lead=lead, kind=LeadEvent.Kind.NOTE, message=text, actor=actor)


def _change_status(*, lead_id, actor, to, allowed_from, reason="") -> Lead:
    with transaction.atomic():
        lead = _lock_owned_lead(lead_id, actor)
        if lead.status not in allowed_from:
            raise ValidationError(
                _("%(lead)s is %(status)s, so it cannot be marked %(to)s.")
                % {"lead": lead, "status": lead.get_status_display().lower(), "to": S(to).label.lower()}
            )
        now, old_status = timezone.now(), lead.status
        changes = {"status": to, "updated_at": now}
        # Qualifying or closing a lead nobody marked contacted still means someone reached the prospect.
        if lead.first_touch_at is None and to in (S.CONTACTED, S.QUALIFIED, S.CONVERTED):
            changes["first_touch_at"] = now
        if to in Lead.CLOSED_STATUSES:
            changes["closed_at"] = now
        Lead.objects.filter(pk=lead.pk).update(**changes)
        for name, value in changes.items():
            setattr(lead, name, value)
        # The line is rendered in each reader's language from the cause (routing.timeline); message is for search.
        cause = timeline_cause("status", **{"from": old_status, "to": to, "reason": reason})
        with site_language():
            message = timeline_text(cause)
        LeadEvent.objects.create(
            lead=lead, kind=LeadEvent.Kind.STATUS, message=message, actor=actor,
            data={"to": to, "cause": cause, **({"reason": reason} if reason else {})},
        )
        if to in Lead.CLOSED_STATUSES:
            # Its owner can take another lead: leads waiting for a free rep are retried (routing.backlog).
            publish_on_commit(LEAD_CLOSED, lead_id=lead.pk, owner_id=lead.owner_id)
    return lead


def _lock_owned_lead(lead_id, actor) -> Lead:
    lead = Lead.objects.select_for_update().get(pk=lead_id)
    if not Lead.objects.filter(pk=lead.pk, owner__user=actor).exists():
        raise PermissionDenied(_("Only the lead's owner can change it."))
    return lead


def _clean_text(value, *, field, max_length, empty) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: empty})
    if len(value) > max_length:
        raise ValidationError({field: _("Keep it under %(max)s characters.") % {"max": max_length}})
    return value
