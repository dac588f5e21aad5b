"""Domain events: a writer publishes what happened, subscribers react once the transaction commits.

Writers call `publish_on_commit(OWNER_CHANGED, ...)` inside their transaction; nothing is
delivered for a transaction that rolls back. Subscribers register at import time
(`subscribe(OWNER_CHANGED, handler)`, see each app's `ready()`); notifications subscribe to
owner changes today, outbound webhooks will. A handler that fails is logged and the others
still run: the change is committed by then, and the sweep catches what a handler missed.

Payloads are plain values (ids and codes), so a subscriber may hand them to a background job.
"""

import logging
from collections import defaultdict

from django.db import transaction

logger = logging.getLogger("routing")

# A lead's owner changed (routing, SLA, escalation, manual move, claim, a rep leaving or away).
# Payload: changes, a list of dicts {lead_id, assignment_id, previous_owner_id, new_owner_id, pool_id, cause}.
OWNER_CHANGED = "owner_changed"
# A lead was closed (converted or lost) by its owner. Payload: lead_id, owner_id.
LEAD_CLOSED = "lead_closed"
# A rep can take leads again (back from away). Payload: rep_id.
REP_AVAILABLE = "rep_available"

_subscribers = defaultdict(list)


def subscribe(event: str, handler) -> None:
    """Calls `handler(**payload)` after each commit that published `event`; subscribing twice is a no-op."""
    if handler not in _subscribers[event]:
        _subscribers[event].append(handler)


def publish_on_commit(event: str, **payload) -> None:
    """Delivers the event to its subscribers once the caller's transaction commits."""
    transaction.on_commit(lambda: _deliver(event, payload))


def _deliver(event, payload):
    for handler in list(_subscribers[event]):
        try:
            handler(**payload)
        except Exception:  # noqa: BLE001 — one subscriber's failure must not stop the others
            logger.exception("A subscriber of %s failed", event)


def unsubscribe(event: str, handler) -> None:
    if handler in _subscribers[event]:
        _subscribers[event].remove(handler)
