"""The backlog: leads parked because nobody was eligible go back to the routing queue when reps may be free.

A rule set to "when nobody is eligible: wait in the rule's pool" parks the lead in its pool.
Unlike the leads of a claimable pool (a rule whose target is the pool), nobody is expected
to pick these up by hand, so routing must try again: when capacity frees (a lead moves away
from a rep, a lead closes, a rep comes back: the domain events of `routing.events`, see
`retry_backlog_when_capacity_frees`) and from the sweep, for what no event announces (a shift
starts, time off or "away until" ends, a cap raised in the admin).

A retry is an ordinary routing run: it writes one decision row, and a lead still without an
eligible rep goes back to its pool. Whatever asks, a parked lead is retried at most once per
CAPACITY_EVENT_MIN_RETRY_SECONDS, and by the sweep once per ROUTING_BACKLOG_RETRY_SECONDS,
so a long wait does not fill its audit trail.
"""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from leads.models import Lead
from routing.jobs import wake_routing_workers
from routing.models import RoutingDecision, RoutingRule

CAPACITY_EVENT_MIN_RETRY_SECONDS = 30


def backlog_requeue(*, limit: int, tried_before: dt.datetime) -> int:
    """Queues for routing, oldest first, leads parked for lack of an eligible rep and last tried before `tried_before`."""
    latest_decision = RoutingDecision.objects.filter(lead=OuterRef("pk")).order_by("-created_at", "-id")
    parked_for_lack_of_reps = RoutingDecision.objects.filter(
        outcome=RoutingDecision.Outcome.POOLED,
        rule__when_none_eligible=RoutingRule.WhenNoneEligible.QUEUE,
        created_at__lt=tried_before,
    ).exclude(rule__target_type=RoutingRule.TargetType.POOL)  # a claimable pool's leads wait for a rep to claim them
    lead_ids = list(
        Lead.objects.filter(
            status=Lead.Status.NEW, owner__isnull=True, pool__isnull=False, routing_requested_at__isnull=True
        )
        .annotate(last_decision_id=Subquery(latest_decision.values("pk")[:1]))
        .filter(last_decision_id__in=parked_for_lack_of_reps.values("pk"))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    if not lead_ids:
        return 0
    # Conditional: a lead claimed or queued meanwhile by another path is left alone.
    queued = Lead.objects.filter(
        pk__in=lead_ids, owner__isnull=True, routing_requested_at__isnull=True
    ).update(routing_requested_at=timezone.now())
    if queued:
        transaction.on_commit(wake_routing_workers)
    return queued


def backlog_requeue_due(*, now: dt.datetime) -> int:
    """The sweep's retry of parked leads, for changes no event announces (a shift starts, time off ends)."""
    tried_before = now - dt.timedelta(seconds=settings.ROUTING_BACKLOG_RETRY_SECONDS)
    return backlog_requeue(limit=settings.ROUTING_DRAIN_BATCH, tried_before=tried_before)


def retry_backlog_when_capacity_frees(*, changes=None, **_payload) -> None:
    """Subscriber (after commit) of a change of owner, a closed lead and a rep back: parked leads are retried.

    A change of owner frees capacity only when a lead left a rep; a routing batch that only gave
    leads out frees none. A failed retry is logged by routing.events, and the sweep tries again.
    """
    if changes is not None and not any(change["previous_owner_id"] for change in changes):
        return
    tried_before = timezone.now() - dt.timedelta(seconds=CAPACITY_EVENT_MIN_RETRY_SECONDS)
    backlog_requeue(limit=settings.ROUTING_DRAIN_BATCH, tried_before=tried_before)
