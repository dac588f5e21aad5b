"""RQ jobs of the routing queue, and the wake-up that enqueues them.

PostgreSQL holds the queue (leads with `routing_requested_at` set); Redis only wakes
workers. A wake-up enqueues at most one waiting drain job at a time (a flag in Redis),
and each drain job routes every waiting lead it can lock. Losing a wake-up is harmless:
the sweep (`manage.py routing_sweeper`) wakes workers for any lead left waiting.
"""

import datetime as dt
import logging
import time

import django_rq
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone
from redis.exceptions import RedisError
from rq import get_current_job

from leads.models import Lead
from routing import notifications
from routing.retention import decision_traces_compact, decision_traces_to_compact_exist
from routing.services import route_pending_leads
from routing.simulation_runs import simulation_run_execute

logger = logging.getLogger("routing")

QUEUE_NAME = "routing"
WAKE_FLAG = "leadrouting:routing:drain-queued"
WAKE_FLAG_SECONDS = 30  # a flag left by a lost job expires; the next wake-up enqueues again
DRAIN_POLL_SECONDS = 0.01
COMPACT_FLAG = "leadrouting:routing:compact-queued"
# A sweeper enqueues one compaction job this often, whichever sweeper comes first; each job is short (see below).
COMPACT_EVERY_SECONDS = 300
# 20 batches of 500: 20 s of a routing worker on a busy 2-core machine (500 decisions/s measured), and up to
# 2.9 million decisions a day, far more than are routed.
COMPACT_BATCHES_PER_JOB = 20


def wake_routing_workers() -> None:
    """Makes sure a drain job will run soon. Never raises: a lead is saved even when Redis is down."""
    if settings.ROUTING_EMBEDDED:
        route_pending_leads(limit=settings.ROUTING_DRAIN_BATCH)
        return
    try:
        connection = django_rq.get_connection(QUEUE_NAME)
        # One queued drain job is enough: it will see every lead committed before it starts.
        if connection.set(WAKE_FLAG, 1, nx=True, ex=WAKE_FLAG_SECONDS):
            django_rq.get_queue(QUEUE_NAME).enqueue(
                drain_routing_queue, job_timeout=settings.ROUTING_DRAIN_JOB_TIMEOUT, result_ttl=60,
                failure_ttl=24 * 3600,
            )
    except RedisError as error:
        logger.warning("Could not wake routing workers (Redis: %s); the sweep will route waiting leads.", error)


def drain_routing_queue() -> int:
    """RQ job: routes waiting leads; hands over to a fresh job when a batch is full."""
    # Workers live long: drop a connection that a database restart or an old error left broken.
    close_old_connections()
    try:
        # Cleared before draining, so a lead committed from now on enqueues another job.
        django_rq.get_connection(QUEUE_NAME).delete(WAKE_FLAG)
    except RedisError:
        pass
    limit = settings.ROUTING_DRAIN_BATCH
    routed = 0
    idle_since = time.monotonic()
    # Under a steady stream, staying a moment for the next lead costs less than a new RQ job per lead.
    while routed < limit:
        batch = route_pending_leads(limit=limit - routed)
        routed += batch
        if batch:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since >= settings.ROUTING_DRAIN_IDLE_SECONDS:
            break
        else:
            time.sleep(DRAIN_POLL_SECONDS)
    if routed >= limit:
        wake_routing_workers()
    return routed


def stale_pending_leads_exist(*, older_than_seconds: int) -> bool:
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    return Lead.objects.filter(routing_requested_at__lt=cutoff).exists()


def sweep_stale_leads() -> bool:
    """Wakes workers when a lead has waited longer than ROUTING_SWEEP_AFTER_SECONDS; True if it did."""
    if not stale_pending_leads_exist(older_than_seconds=settings.ROUTING_SWEEP_AFTER_SECONDS):
        return False
    if not settings.ROUTING_EMBEDDED:
        try:
            # The flag may be left over from a job Redis lost: clear it so the wake-up enqueues.
            django_rq.get_connection(QUEUE_NAME).delete(WAKE_FLAG)
        except RedisError:
            pass
    wake_routing_workers()
    return True


def compact_routing_decisions() -> int:
    """RQ job: compacts the traces of some decisions past ROUTING_DECISION_TRACE_RETENTION_DAYS (routing.retention)."""
    close_old_connections()
    return decision_traces_compact(now=timezone.now(), max_batches=COMPACT_BATCHES_PER_JOB)


def schedule_trace_compaction() -> bool:
    """Enqueues `compact_routing_decisions` when decisions wait for it, at most once per COMPACT_EVERY_SECONDS.

    True if it did (or, without Redis, compacted some in this process).
    """
    if not decision_traces_to_compact_exist(now=timezone.now()):
        return False
    if settings.ROUTING_EMBEDDED:
        compact_routing_decisions()
        return True
    try:
        if not django_rq.get_connection(QUEUE_NAME).set(COMPACT_FLAG, 1, nx=True, ex=COMPACT_EVERY_SECONDS):
            return False
        django_rq.get_queue(QUEUE_NAME).enqueue(compact_routing_decisions, job_timeout=600, result_ttl=3600)
    except RedisError as error:
        logger.warning("Could not enqueue the routing decisions' compaction (Redis: %s); the next sweep will.", error)
        return False
    return True


def send_email(email: dict) -> None:
    """RQ job of the `notifications` queue: one rendered email, retried by RQ while the failure is transient."""
    close_old_connections()
    job = get_current_job()
    retries_left = (job.retries_left or 0) if job else 0
    notifications.email_send(email, retries_left=retries_left, attempt=email.get("attempts", 1) - retries_left)


# --- Entry points of the notifications queue -------------------------------------------------------
# Queued by routing.notifications under these paths (RQ stores the path with each job): the functions
# behind them may move or be renamed, these names stay.


def notify_owner_changes(changes: list) -> None:
    notifications.send_owner_changes(changes)


def notify_reminder(lead_id: int) -> None:
    notifications.send_reminder(lead_id)


def notify_escalation(lead_id: int, team_id: int | None, *, reason: str, escalated_to_id: int | None) -> None:
    notifications.send_escalation(lead_id, team_id, reason=reason, escalated_to_id=escalated_to_id)


# --- The simulations queue ---------------------------------------------------------------------


def run_simulation(run_id: int) -> None:
    """RQ job of the `simulations` queue: replays one run; a run already claimed or ended is left alone."""
    close_old_connections()
    simulation_run_execute(run_id=run_id)
