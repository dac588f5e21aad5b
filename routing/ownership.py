"""The one writer of a lead's owner: every change of owner, whatever decided it, is recorded here.

Routing (`routing.batch`), SLA reassignment, escalation and the move to a pool, a manager's
reassignment, a claim from a pool, a rep deactivated or away: each builds an `OwnerChange`
with a structured cause (`routing.timeline.timeline_cause`: a code such as "rule",
"sla_breach", "manual", "claim", and its parameters) and hands it to
`lead_owner_changes_record`, which, in the caller's transaction and with the lead's row
locked by the caller:

- ends the current assignment and writes the new one (its cause, actor, rule and experiment),
- writes the lead's owner, last owner (the rep of its latest assignment, kept when nobody owns it
  any more: `reps.scoping`), pool, status, deadline and reassignment count,
- writes the routing decision when the rules decided (the audit of the run),
- writes one timeline event, its cause and who had the lead and who has it now as data,
- publishes one OWNER_CHANGED domain event on commit (`routing.events`): the emails and the
  backlog's "capacity was freed" subscribe to it.

Many changes are written together, one statement per table, so routing a batch of leads costs
the same statements as routing one. Texts stored next to the causes (`Assignment.reason`,
`LeadEvent.message`) are in the site's language, for the admin's lists and search; readers
render the cause in their own language and no code reads those texts back.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import connections, router
from django.utils import timezone

from leadrouting.i18n import site_language
from leadrouting.row_writes import insert_rows, update_rows
from leads.models import Lead, LeadEvent
from routing.events import OWNER_CHANGED, publish_on_commit
from routing.models import Assignment, RoutingDecision
from routing.sla import sla_deadline
from routing.timeline import cause_text, owner_change_text

LEAD_FIELDS_WRITTEN = ("routing_requested_at", "updated_at", "owner_id", "last_owner_id", "status", "assigned_at",
                       "pool_id", "sla_due_at", "reassignment_count")
# Kinds of assignment that count as a reassignment of the lead (its `reassignment_count`).
NOT_A_REASSIGNMENT = (Assignment.Kind.INITIAL, Assignment.Kind.CLAIM)


@dataclass
class OwnerChange:
    """What one lead becomes: its owner (None: nobody), pool, status and deadline, and why."""

    lead: Lead
    rep: object  # the owner from now on; the current owner when a routing run left the lead where it was
    cause: dict
    status: str
    kind: str = Assignment.Kind.INITIAL  # of the new assignment; INITIAL writes a "routed" event, others "reassigned"
    actor: object = None
    pool: object = None
    sla_due_at: dt.datetime | None = None
    rule: object = None
    strategy: str = ""
    experiment_id: int | None = None
    experiment_group: str = ""
    decision: RoutingDecision | None = None  # the routing run's audit row, when the rules decided
    outcome: dict | None = None  # what the rules decided, as a timeline cause
    # Written by lead_owner_changes_record.
    previous_owner_id: int | None = None
    assignment: Assignment | None = None
    event: LeadEvent | None = None

    @property
    def moved(self) -> bool:
        return (self.rep.pk if self.rep is not None else None) != self.previous_owner_id


def lead_owner_change(*, lead: Lead, rep, cause: dict, kind: str, actor=None, rule=None, pool=None,
                      status: str | None = None, with_deadline: bool = True,
                      now: dt.datetime | None = None) -> OwnerChange:
    """One change of owner a person or the sweep decided (not the rules); the caller has locked the lead's row.

    The new assignment keeps the experiment group the rules put the lead in, so a lead moved
    or claimed still counts for its group. `rule` is the rule whose SLA applies to the new owner.
    """
    now = now or timezone.now()
    experiment_id, experiment_group = _experiment_of(lead)
    change = OwnerChange(
        lead=lead, rep=rep, cause=cause, kind=kind, actor=actor, rule=rule, pool=pool,
        status=status or _status_after_move(lead, rep),
        sla_due_at=sla_deadline(rule=rule, assigned_at=now, rep=rep) if rep is not None and with_deadline else None,
        experiment_id=experiment_id, experiment_group=experiment_group,
    )
    lead_owner_changes_record([change], now=now)
    return change


# Statuses a rep reached by working the lead: a new owner takes over the work where it stands.
WORKED_STATUSES = (Lead.Status.ACCEPTED, Lead.Status.CONTACTED, Lead.Status.QUALIFIED)


def _status_after_move(lead, rep) -> str:
    """A lead moved to a rep is assigned, unless it was being worked: a qualified lead handed over stays qualified."""
    if rep is None:
        return Lead.Status.NEW
    return lead.status if lead.status in WORKED_STATUSES else Lead.Status.ASSIGNED


def _experiment_of(lead):
    latest = (RoutingDecision.objects.filter(lead=lead).order_by("-created_at", "-id")
              .values_list("experiment_id", "experiment_group").first())
    return latest or (None, "")


def lead_owner_changes_record(changes: list, *, now: dt.datetime) -> None:
    """Writes the changes, their audit rows and timeline events: one statement per table for all of them."""
    if not changes:
        return
    with site_language():  # the stored texts are read by everyone: in the site's language
        for change in changes:
            _apply(change, now)
    ended = [c.lead.pk for c in changes if c.moved and c.previous_owner_id is not None]
    if ended:
        Assignment.objects.filter(lead_id__in=ended, is_current=True).update(is_current=False, ended_at=now)
    assignments = [c.assignment for c in changes if c.assignment is not None]
    if assignments:
        insert_rows(Assignment, assignments)
    _rep_loads_lock({rep_id for c in changes for rep_id in (c.previous_owner_id, c.lead.owner_id) if rep_id})
    update_rows(Lead, [c.lead for c in changes], LEAD_FIELDS_WRITTEN)
    decided = [c for c in changes if c.decision is not None]
    if decided:
        for change in decided:
            change.decision.assignment = change.assignment
        insert_rows(RoutingDecision, [c.decision for c in decided])
        for change in decided:
            change.event.data["decision_id"] = change.decision.pk
    insert_rows(LeadEvent, [c.event for c in changes])
    moved = [c for c in changes if c.moved]
    if moved:
        publish_on_commit(OWNER_CHANGED, changes=[_published(c) for c in moved])


def _apply(change, now):
    """Sets the lead's new values in memory and builds its assignment and event."""
    lead, rep = change.lead, change.rep
    # Who had it before: its owner, or (moved out of a pool) the rep of its latest assignment.
    had_it_before = lead.owner_id if lead.owner_id is not None else lead.last_owner_id
    previous_owner = lead.owner if lead.owner_id is not None else None
    change.previous_owner_id = lead.owner_id
    lead.routing_requested_at, lead.updated_at = None, now
    lead.status, lead.pool = change.status, change.pool
    if change.moved:
        lead.owner, lead.sla_due_at = rep, change.sla_due_at
        # The rep of the lead's latest assignment: the new owner's (below), or the one it leaves when nobody owns it.
        lead.last_owner_id = rep.pk if rep is not None else change.previous_owner_id
        if rep is not None:
            lead.assigned_at = now
            change.assignment = Assignment(
                lead=lead, rep=rep, from_rep_id=had_it_before, rule=change.rule, strategy=change.strategy, kind=change.kind,
                actor=change.actor,
                reason=cause_text(change.cause), cause=change.cause,
                experiment_id=change.experiment_id, experiment_group=change.experiment_group,
            )
        if change.kind not in NOT_A_REASSIGNMENT:
            lead.reassignment_count += 1
    reassigned = change.kind != Assignment.Kind.INITIAL
    data = {
        "cause": change.cause,
        "change": {
            "reassigned": reassigned,
            "from": previous_owner.name if previous_owner is not None else None,
            "to": lead.owner.name if lead.owner_id is not None else None,
            "pool": lead.pool.name if lead.pool_id is not None else None,
        },
        "outcome": change.outcome,
        "from_rep_id": change.previous_owner_id, "to_rep_id": lead.owner_id, "pool_id": lead.pool_id,
    }
    change.event = LeadEvent(
        lead=lead, kind=LeadEvent.Kind.REASSIGNED if reassigned else LeadEvent.Kind.ROUTED, actor=change.actor,
        message=owner_change_text(data), data=data,
    )


def _published(change) -> dict:
    return {
        "lead_id": change.lead.pk, "assignment_id": change.assignment.pk if change.assignment else None,
        "previous_owner_id": change.previous_owner_id, "new_owner_id": change.lead.owner_id,
        "pool_id": change.lead.pool_id, "cause": change.cause,
        "actor_id": change.actor.pk if change.actor is not None else None,
    }


def _rep_loads_lock(rep_ids) -> None:
    """Locks the open-lead counters (`RepLoad`) of these reps in rep order, creating missing ones.

    The triggers on leads_lead move a counter row per lead, in whatever order the UPDATE meets the
    leads; two workers meeting the same two reps in opposite orders would deadlock. Locked here
    first, in one order for every writer, the triggers then only update rows this transaction holds.
    A change that moves one rep's counter (a lead routed alone, as workers do under a steady trickle)
    takes no lock here: holding a single counter, it cannot wait for a second one while holding the
    first, and the trigger locks (or creates) that counter itself. That saves the statement and a new
    version of the counter's row per transaction.
    """
    connection = connections[router.db_for_write(Lead)]
    if len(rep_ids) < 2 or connection.vendor != "postgresql":
        return  # SQLite locks the whole database for a write
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO routing_repload (rep_id, open_leads) SELECT id, 0 FROM unnest(%s::bigint[]) AS id ORDER BY id "
            "ON CONFLICT (rep_id) DO UPDATE SET open_leads = routing_repload.open_leads",
            [sorted(rep_ids)],
        )
