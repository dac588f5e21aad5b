"""Writes about reps: every change goes through here, validated, in one transaction."""

import datetime as dt
import logging

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from reps.models import Rep, RepStatusChange, TimeOff
from routing.events import REP_AVAILABLE, publish_on_commit
from routing.reassignment import rep_reassign_untouched_leads

logger = logging.getLogger(__name__)


def rep_set_away(*, rep: Rep, until: dt.datetime | None = None, actor: AbstractBaseUser | None = None) -> Rep:
    """Marks the rep away so routing skips them, back at `until` or when set available.

    With ROUTING_REASSIGN_WHEN_AWAY their untouched leads go to other reps in the same transaction.
    """
    check_away_until(until)
    with transaction.atomic():
        rep = _rep_set_status(rep=rep, status=Rep.Status.AWAY, away_until=until, actor=actor)
        if settings.ROUTING_REASSIGN_WHEN_AWAY:
            rep_reassign_untouched_leads(rep=rep, actor=actor)
    return rep


def check_away_until(until: dt.datetime | None) -> None:
    """Raises a ValidationError on `away_until` unless the return time is empty or aware and still ahead."""
    if until is None:
        return
    if timezone.is_naive(until):
        raise ValidationError({"away_until": _("The return time needs a time zone.")})
    if until <= timezone.now():
        raise ValidationError(
            {"away_until": _("The return time has already passed; pick a later time or leave it empty.")}
        )


def rep_set_available(*, rep: Rep, actor: AbstractBaseUser | None = None) -> Rep:
    """Marks the rep available again, dropping any return time; leads waiting for a free rep are retried."""
    with transaction.atomic():
        rep = _rep_set_status(rep=rep, status=Rep.Status.AVAILABLE, away_until=None, actor=actor)
        publish_on_commit(REP_AVAILABLE, rep_id=rep.pk)
    return rep


def rep_import_time_off(*, rep: Rep, absences, actor: AbstractBaseUser | None = None) -> tuple[int, int]:
    """Adds each absence (start, end, summary) as time off; returns (added, already there); idempotent."""
    added = existing = 0
    with transaction.atomic():
        Rep.objects.select_for_update().get(pk=rep.pk)  # two imports for the same rep do not both add a period
        for absence in absences:
            if TimeOff.objects.filter(rep=rep, start=absence.start, end=absence.end).exists():
                existing += 1
                continue
            time_off = TimeOff(rep=rep, start=absence.start, end=absence.end, reason=absence.summary[:200])
            time_off.full_clean()
            time_off.save()
            added += 1
    logger.info("rep %s: %s time off periods imported by %s", rep.pk, added, actor.pk if actor else "system")
    return added, existing


def _rep_set_status(*, rep: Rep, status: str, away_until: dt.datetime | None, actor) -> Rep:
    with transaction.atomic():
        # The row lock orders this change with an assignment the engine is making to the same rep.
        locked = Rep.objects.select_for_update().get(pk=rep.pk)
        if (locked.status, locked.away_until) == (status, away_until):
            rep.status, rep.away_until = status, away_until
            return rep  # already so: nothing to save or to audit
        locked.status, locked.away_until = status, away_until
        locked.full_clean()
        locked.save(update_fields=["status", "away_until"])
        rep_record_status_change(rep=locked, actor=actor)
    rep.status, rep.away_until = status, away_until
    return rep


def rep_record_status_change(*, rep: Rep, actor: AbstractBaseUser | None) -> RepStatusChange:
    """The audit row of an away/available switch, written in the caller's transaction."""
    actor = actor if actor is not None and actor.is_authenticated else None
    return RepStatusChange.objects.create(rep=rep, status=rep.status, away_until=rep.away_until, actor=actor)
