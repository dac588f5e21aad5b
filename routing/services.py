"""Routing writes: claim pending leads, run the engine, record the outcome with its audit rows in one transaction."""

import logging
import os
import socket
import time

from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone
from rq.timeouts import JobTimeoutException

from leads.models import Lead, LeadEvent
from routing.engine import Decision, Outcome, decide
from routing.explain import explain
from routing.models import Assignment, RoutingDecision
from routing.notifications import notify_assignment_on_commit
from routing.ruleset import current_ruleset
from routing.sla import sla_deadline

logger = logging.getLogger("routing")

# A lead whose routing hit a transient database error this many times is parked as unroutable.
MAX_TRANSIENT_ATTEMPTS = 5
# Only leads nobody works on yet are routed when they reach the queue.
ROUTABLE_STATUSES = (Lead.Status.NEW, Lead.Status.UNROUTABLE, Lead.Status.NURTURE)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def route_pending_leads(*, limit: int, worker: str | None = None) -> int:
    """Routes waiting leads one transaction each, oldest first, until none are left or `limit` is reached."""
    worker = worker or worker_name()
    # Read once per call: a burst is routed by the configuration it started with.
    ruleset = current_ruleset()
    routed = 0
    while routed < limit:
        if not _route_next_pending_lead(worker, ruleset):
            break
        routed += 1
    return routed


def _claim_next_pending_lead():
    # SKIP LOCKED: concurrent workers each take a different lead and never wait for one another.
    return (
        Lead.objects.select_for_update(skip_locked=True)
        .filter(routing_requested_at__isnull=False)
        .order_by("routing_requested_at", "id")
        .first()
    )


def _route_next_pending_lead(worker: str, ruleset) -> bool:
    with transaction.atomic():
        lead = _claim_next_pending_lead()
        if lead is None:
            return False
        lead_route_claimed(lead=lead, worker=worker, ruleset=ruleset)
    return True


def lead_route_claimed(*, lead: Lead, worker: str, exclude_rep_ids=(), kind=Assignment.Kind.INITIAL, actor=None,
                       reason: str = "", ruleset=None) -> RoutingDecision | None:
    """Routes a lead whose row the caller has locked; a lead that makes the engine fail becomes unroutable."""
    if kind == Assignment.Kind.INITIAL and (lead.owner_id is not None or lead.status not in ROUTABLE_STATUSES):
        # Owned or closed by another path (owner set in the admin, a claim, an import of old leads).
        Lead.objects.filter(pk=lead.pk).update(routing_requested_at=None)
        return None
    started = time.perf_counter()
    now = timezone.now()
    try:
        with transaction.atomic():
            decision = decide(lead, ruleset=ruleset or current_ruleset(), now=now, exclude_rep_ids=exclude_rep_ids)
            return _record(lead, decision, started=started, now=now, worker=worker, kind=kind, actor=actor,
                           reason=reason)
    except (OperationalError, IntegrityError) as error:
        return _retry_later(lead, error, started=started, now=now, worker=worker)
    except JobTimeoutException:
        raise  # the job's time is up, not the lead's fault: it stays pending for the next drain
    except Exception as error:  # noqa: BLE001 — a poison lead must not stop the queue
        logger.exception("Routing lead %s failed", lead.pk)
        return _record_failure(lead, error, started=started, now=now, worker=worker)


def _retry_later(lead, error, *, started, now, worker):
    """Deadlocks and lost connections are transient: leave the lead pending for the next drain."""
    attempts = lead.routing_attempts + 1
    if attempts >= MAX_TRANSIENT_ATTEMPTS:
        return _record_failure(lead, error, started=started, now=now, worker=worker)
    logger.warning("Routing lead %s hit a transient error (attempt %s): %s", lead.pk, attempts, error)
    Lead.objects.filter(pk=lead.pk).update(routing_attempts=attempts)
    return None


def _record_failure(lead, error, *, started, now, worker):
    failure = Decision(Outcome.UNROUTABLE, trace={"rules": [], "error": f"{type(error).__name__}: {error}"})
    return _record(lead, failure, started=started, now=now, worker=worker, kind=Assignment.Kind.INITIAL)


def _outcome_text(decision: Decision) -> str:
    if decision.outcome == Outcome.ASSIGNED:
        return f"Chosen: {decision.rep.name} by rule '{decision.rule}'."
    if decision.outcome == Outcome.POOLED:
        return f"Waiting in pool '{decision.pool}' until a rep claims it."
    if decision.outcome == Outcome.NURTURE:
        return f"Sent to nurture by rule '{decision.rule}': no rep assigned."
    return "Unroutable: no rep was assigned. Fix the rules or assign the lead by hand."


def _record(lead, decision, *, started, now, worker, kind, actor=None, reason="") -> RoutingDecision:
    """Writes the outcome, the assignment, the audit row and the timeline event together."""
    explanation = explain(decision.trace, outcome_text=_outcome_text(decision))
    assignment = None
    changes = {"routing_requested_at": None, "updated_at": now}
    if decision.outcome == Outcome.ASSIGNED:
        if lead.owner_id is not None:
            Assignment.objects.filter(lead=lead, is_current=True).update(is_current=False, ended_at=now)
        assignment = Assignment.objects.create(
            lead=lead, rep=decision.rep, rule=decision.rule, strategy=decision.strategy, kind=kind, actor=actor,
            reason=reason or f"Rule '{decision.rule}'",
        )
        notify_assignment_on_commit(assignment, previous_owner_id=lead.owner_id)
        changes.update(owner=decision.rep, status=Lead.Status.ASSIGNED, assigned_at=now, pool=None)
        changes["sla_due_at"] = sla_deadline(rule=decision.rule, assigned_at=now, rep=decision.rep)
    elif decision.outcome == Outcome.POOLED:
        changes.update(owner=None, pool=decision.pool, status=Lead.Status.NEW)
    elif decision.outcome == Outcome.NURTURE:
        changes.update(owner=None, pool=None, status=Lead.Status.NURTURE)
    elif lead.owner_id is None:
        changes.update(status=Lead.Status.UNROUTABLE)
    Lead.objects.filter(pk=lead.pk).update(**changes)
    for name, value in changes.items():
        setattr(lead, name, value)
    record = RoutingDecision.objects.create(
        lead=lead, outcome=decision.outcome, rule=decision.rule, chosen_rep=decision.rep, assignment=assignment,
        trace=decision.trace, explanation=explanation, duration_ms=(time.perf_counter() - started) * 1000,
        worker=worker,
    )
    event_kind = LeadEvent.Kind.ROUTED if kind == Assignment.Kind.INITIAL else LeadEvent.Kind.REASSIGNED
    LeadEvent.objects.create(
        lead=lead, kind=event_kind, message=_outcome_text(decision), actor=actor, data={"decision_id": record.pk}
    )
    return record
