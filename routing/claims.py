"""Hybrid push-pull: a rep claims a lead waiting in one of their pools.

The claim locks the lead's row on a condition (`... WHERE owner IS NULL AND pool = <the pool>
FOR UPDATE`): when two reps claim the same lead at once, PostgreSQL serialises them on the row,
the second checks the condition again once the first commits, finds the owner set and gets no
row, and "no row" means "someone else won". The owner writer (`routing.ownership`) then records
the claim like any change of owner: assignment, audit, timeline, emails.
"""

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from leads.models import Lead
from reps.models import Rep
from routing.capacity import rep_capacity_problem
from routing.models import Assignment, RoutingDecision
from routing.ownership import lead_owner_change
from routing.selectors import pool_leads_for
from routing.timeline import timeline_cause


class LeadAlreadyClaimed(Exception):
    """The lead does not wait in one of the rep's pools (any more); nothing changed.

    Raised alike when another rep claimed it first, when the id is missing and when the lead waits in a
    pool the rep may not claim from, so a claim tells nothing about leads out of the rep's reach.
    """


def lead_claim(*, lead_id: int, rep: Rep, actor: AbstractBaseUser) -> Lead:
    """Makes `rep` the owner of a lead waiting in one of their pools; LeadAlreadyClaimed when it waits in none."""
    with transaction.atomic():
        # The rep's row lock orders the capacity check with an assignment the engine makes to them now.
        rep = Rep.objects.select_for_update().select_related("user").get(pk=rep.pk)
        # Locked on its condition (still unowned, still in one of the rep's pools): see the module's docstring.
        lead = pool_leads_for(rep).select_for_update(of=("self",)).filter(pk=lead_id).first()
        if lead is None:
            raise LeadAlreadyClaimed
        now = timezone.now()
        _check_capacity(rep, now)
        rule = _pool_rule(lead_id)
        lead_owner_change(lead=lead, rep=rep, cause=timeline_cause("claim", pool=lead.pool.name),
                          kind=Assignment.Kind.CLAIM, actor=actor, rule=rule, now=now)
    return lead


MAX_CLAIMED_AT_ONCE = 100


def leads_claim_next(*, rep: Rep, count: int, actor: AbstractBaseUser) -> tuple[list, str]:
    """Claims up to `count` of the longest-waiting leads of the rep's pools, one by one, as far as the rep's caps allow.

    Returns the claimed leads and, when fewer than asked were claimed, why ("" when all were).
    Leads another rep is claiming at this moment are skipped, not waited for.
    """
    claimed, stopped_by = [], ""
    while len(claimed) < count:
        try:
            with transaction.atomic():
                # SKIP LOCKED: a lead another rep is taking right now is passed over, not waited for.
                lead_id = (
                    pool_leads_for(rep).select_for_update(skip_locked=True, of=("self",))
                    .values_list("pk", flat=True).first()
                )
                if lead_id is None:
                    stopped_by = _("no more leads wait in your pools") if claimed else _("no lead waits in your pools")
                    break
                claimed.append(lead_claim(lead_id=lead_id, rep=rep, actor=actor))
        except LeadAlreadyClaimed:
            continue  # claimed by a single click meanwhile: take the next
        except ValidationError as error:
            stopped_by = " ".join(error.messages)
            break
    return claimed, stopped_by


def _check_capacity(rep, now):
    """A claim is a new lead like any other: the open-lead cap and the daily cap hold for it too."""
    problem = rep_capacity_problem(rep, at=now)
    if problem is None:
        return
    code, _params = problem
    if code == "open_cap":
        raise ValidationError(
            _("You already have %(count)s open leads, your limit. Close or hand over one before claiming another.")
            % {"count": rep.max_open_leads}
        )
    if code == "hourly_cap":
        raise ValidationError(
            _("You reached your limit of new leads for the last hour (%(count)s). Claim again a little later.")
            % {"count": rep.max_new_leads_per_hour}
        )
    limit = rep.max_new_leads_per_day
    raise ValidationError(
        ngettext(
            "You already received %(count)s new lead today, your daily limit. Claim again tomorrow.",
            "You already received %(count)s new leads today, your daily limit. Claim again tomorrow.",
            limit,
        ) % {"count": limit}
    )


def _pool_rule(lead_id):
    """The rule that sent the lead to its pool: its SLA applies to the claimed lead."""
    decision = (
        RoutingDecision.objects.filter(lead_id=lead_id, outcome=RoutingDecision.Outcome.POOLED)
        .select_related("rule").order_by("-created_at", "-id").first()
    )
    return decision.rule if decision else None

