"""Routing writes: lock pending leads, run the engine, record each outcome with its audit rows in the same transaction."""

import datetime as dt
import logging
import os
import socket
import time

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone
from rq.timeouts import JobTimeoutException

from leadrouting.i18n import site_language
from leads.models import Lead
from routing.batch import RoutingBatch
from routing.candidates import team_targets_prefetch
from routing.engine import TRACE_VERSION, Decision, Outcome, decide
from routing.models import Assignment, RoutingDecision
from routing.recording import batch_write, decision_record
from routing.ruleset import current_ruleset

logger = logging.getLogger("routing")

# A lead whose routing hit a transient database error this many times is parked as unroutable.
MAX_TRANSIENT_ATTEMPTS = 5
# Only leads nobody works on yet are routed when they reach the queue.
ROUTABLE_STATUSES = (Lead.Status.NEW, Lead.Status.UNROUTABLE, Lead.Status.NURTURE)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@site_language()  # routing runs in process after a prospect's request too: its audit text is in the site's language
def route_pending_leads(*, limit: int, worker: str | None = None) -> int:
    """Routes waiting leads oldest first, up to ROUTING_LEADS_PER_TRANSACTION per transaction, until none are left
    or `limit` is reached."""
    worker = worker or worker_name()
    # Read once per call: a burst is routed by the configuration it started with.
    ruleset = current_ruleset()
    routed = 0
    while routed < limit:
        batch = _route_pending_batch(worker, ruleset, size=min(limit - routed, settings.ROUTING_LEADS_PER_TRANSACTION))
        if not batch:
            break
        routed += batch
    return routed


def _lock_pending_leads(size: int) -> list:
    # SKIP LOCKED: concurrent workers each take different leads and never wait for one another.
    return list(
        Lead.objects.select_for_update(skip_locked=True)
        .filter(routing_requested_at__isnull=False)
        .order_by("routing_requested_at", "id")[:size]
    )


def _route_pending_batch(worker: str, ruleset, *, size: int) -> int:
    """Routes up to `size` locked leads in one transaction; on any error, one transaction per lead instead."""
    try:
        with transaction.atomic():
            leads = _lock_pending_leads(size)
            if leads:
                batch = RoutingBatch(now=timezone.now(), worker=worker)
                batch.prefetch_accounts(leads)
                team_targets_prefetch(ruleset, batch)
                for lead in leads:
                    _route_in_batch(lead, batch, ruleset)
                batch_write(batch)
        return len(leads)
    except JobTimeoutException:
        raise  # the job's time is up: the batch rolled back and its leads stay pending for the next drain
    except Exception as error:  # noqa: BLE001 — a poison lead or a deadlock must cost only itself
        logger.warning("Routing a batch of %s leads failed (%s); routing them one at a time.", size, error)
    routed = 0
    while routed < size and _route_next_pending_lead(worker, ruleset):
        routed += 1
    return routed


def _route_in_batch(lead, batch, ruleset):
    if lead.owner_id is not None or lead.status not in ROUTABLE_STATUSES:
        _leave_unrouted(lead)
        return
    started = time.perf_counter()
    decision = decide(lead, ruleset=ruleset, now=batch.now, batch=batch)
    decision_record(batch, lead, decision, started=started)


def _leave_unrouted(lead):
    """Owned or closed by another path (owner set in the admin, a claim, an import of old leads)."""
    Lead.objects.filter(pk=lead.pk).update(routing_requested_at=None)


def _route_next_pending_lead(worker: str, ruleset) -> bool:
    """The careful path: one lead, one transaction, its failure recorded on it alone."""
    with transaction.atomic():
        leads = _lock_pending_leads(1)
        if not leads:
            return False
        lead_route_locked(lead=leads[0], worker=worker, ruleset=ruleset)
    return True


@site_language()
def lead_route_locked(*, lead: Lead, worker: str, exclude_rep_ids=(), kind=Assignment.Kind.INITIAL, actor=None,
                       cause: dict | None = None, release: bool = False, ruleset=None,
                       now: dt.datetime | None = None) -> RoutingDecision | None:
    """Routes a lead whose row the caller has locked; a lead that makes the engine fail becomes unroutable.

    A reassignment passes its `cause` and `kind`; see `routing.recording.decision_record` for `release`.
    `now` is the instant the engine decides at (who is in hours, the caps); the demo's history passes a past one.
    """
    if kind == Assignment.Kind.INITIAL and (lead.owner_id is not None or lead.status not in ROUTABLE_STATUSES):
        _leave_unrouted(lead)
        return None
    started = time.perf_counter()
    now = now or timezone.now()
    try:
        with transaction.atomic():
            batch = RoutingBatch(now=now, worker=worker)
            decision = decide(lead, ruleset=ruleset or current_ruleset(), now=now, exclude_rep_ids=exclude_rep_ids,
                              batch=batch)
            record = decision_record(batch, lead, decision, started=started, kind=kind, actor=actor, cause=cause,
                                     release=release)
            batch_write(batch)
            return record
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
    failure = failed_decision(error)
    batch = RoutingBatch(now=now, worker=worker)
    record = decision_record(batch, lead, failure, started=started)
    batch_write(batch)
    return record


def failed_decision(error: Exception) -> Decision:
    """What a lead that made the engine fail gets: unroutable, with the error in its audit."""
    return Decision(Outcome.UNROUTABLE, trace={"v": TRACE_VERSION, "rules": [],
                                               "error": {"code": "exception", "error": f"{type(error).__name__}: {error}"}})
