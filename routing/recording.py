"""Recording what the engine decided: each decision becomes an owner change with its audit row, written per batch.

The engine (`routing.engine`) only reads and locks, through a `routing.batch.RoutingBatch`;
its callers (`routing.services`: the workers, a reassignment, a manager's "route again")
hand each decision to `decision_record`, then call `batch_write` once before the
transaction commits. The owner changes go through the one owner writer,
`routing.ownership.lead_owner_changes_record`; the rotation state the picks moved is
written here, in the same transaction, under the rule locks the engine took.
"""

import time

from leadrouting.row_writes import update_rows
from leads.models import Lead
from routing.batch import RoutingBatch
from routing.engine import Decision, outcome_cause
from routing.models import Assignment, RotationState, RoutingDecision, RoutingRule
from routing.ownership import OwnerChange, lead_owner_changes_record
from routing.sla import sla_deadline
from routing.timeline import timeline_cause

Outcome = RoutingDecision.Outcome
STATE_FIELDS_WRITTEN = ("last_assigned_at", "last_assigned_seq", "assigned_count", "virtual_pass", "performance_credit")


def rule_cause(rule) -> dict:
    """The cause of an owner change the rules decided."""
    return timeline_cause("rule", rule_id=rule.pk if rule else None, rule=rule.name if rule else None)


def decision_record(batch: RoutingBatch, lead: Lead, decision: Decision, *, started: float,
                    kind=Assignment.Kind.INITIAL, actor=None, cause=None, release=False) -> RoutingDecision:
    """Turns a decision into the lead's owner change and its audit row; `batch_write` writes them.

    `cause` says why the lead was routed again (a reassignment); by default the rules' own.
    `release` unassigns a lead the rules leave with its current owner (nobody else eligible).
    """
    outcome = outcome_cause(decision)
    # The explanation is rendered from the trace when read, in the reader's language (`routing.explain`).
    decision.trace["outcome"] = outcome
    record = RoutingDecision(
        lead=lead, outcome=decision.outcome, rule=decision.rule, chosen_rep=decision.rep,
        trace=decision.trace, explanation="",
        duration_ms=(time.perf_counter() - started) * 1000, worker=batch.worker,
        experiment=decision.experiment, experiment_group=decision.experiment_group,
    )
    change = OwnerChange(
        lead=lead, rep=None, status=lead.status, kind=kind, actor=actor, decision=record,
        outcome=outcome, cause=cause or rule_cause(decision.rule), rule=decision.rule, strategy=decision.strategy,
        experiment_id=decision.experiment.pk if decision.experiment else None,
        experiment_group=decision.experiment_group,
    )
    if decision.outcome == Outcome.ASSIGNED:
        change.rep, change.status, change.pool = decision.rep, Lead.Status.ASSIGNED, None
        change.sla_due_at = sla_deadline(rule=decision.rule, assigned_at=batch.now, rep=decision.rep)
    elif decision.outcome == Outcome.POOLED:
        change.pool, change.status = decision.pool, Lead.Status.NEW
    elif decision.outcome == Outcome.NURTURE:
        change.pool, change.status = None, Lead.Status.NURTURE
    elif lead.owner_id is None or release:
        change.status, change.pool = Lead.Status.UNROUTABLE, lead.pool
    else:  # nobody else eligible: the lead stays with its owner
        change.rep, change.pool, change.sla_due_at = lead.owner, lead.pool, lead.sla_due_at
    batch.pending.append(change)
    return record


def batch_write(batch: RoutingBatch) -> None:
    """Writes every recorded outcome and the moved fairness state: a handful of statements for the whole batch."""
    pending, batch.pending = batch.pending, []
    lead_owner_changes_record(pending, now=batch.now)
    _rotation_states_write(batch)
    update_rows(RoutingRule, [RoutingRule(pk=rule_id, rotation_seq=sequence)
                              for rule_id, sequence in batch.moved_rules.items()], ["rotation_seq"])
    batch.moved_rules = {}


def _rotation_states_write(batch):
    """Rows for the reps who joined a rotation in this batch; the moved values of the others."""
    joined = [state for key, state in batch.moved_states.items() if key in batch.joined]
    moved = [state for key, state in batch.moved_states.items() if key not in batch.joined]
    if joined:
        RotationState.objects.bulk_create(
            [RotationState(rule_id=batch.joined[state.pk], rep_id=state.rep_id, **_written(state)) for state in joined],
            update_conflicts=True, unique_fields=["rule", "rep"], update_fields=STATE_FIELDS_WRITTEN,
        )
    if moved:
        update_rows(RotationState, [RotationState(pk=state.pk, **_written(state)) for state in moved],
                    STATE_FIELDS_WRITTEN)
    batch.moved_states = {}  # `joined` stays: a state moved again later in the batch is still not a row of its own


def _written(state) -> dict:
    return {name: getattr(state, name) for name in STATE_FIELDS_WRITTEN}
