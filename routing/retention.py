"""How long a routing decision keeps its whole trace: ROUTING_DECISION_TRACE_RETENTION_DAYS, then what the audit needs.

A trace lists every rule checked and every candidate with its state: about 2 kB per lead, most
of the database after a year. Past the retention period `decision_traces_compact` keeps, for
ever, the decision's row (outcome, rule, chosen rep, assignment, experiment) and in its trace
the matching rules with their conditions, target and result, the chosen rep and the outcome
cause (code and parameters); the rest is counted (`routing.explain.trace_compact`).
"""

import datetime as dt

from django.conf import settings
from django.db import transaction

from routing.explain import COMPACTED_KEY, trace_compact
from routing.models import RoutingDecision
from leadrouting.row_writes import update_rows

COMPACT_BATCH = 500


def _to_compact(*, now: dt.datetime):
    cutoff = now - dt.timedelta(days=settings.ROUTING_DECISION_TRACE_RETENTION_DAYS)
    # NOT (trace ? 'compacted'), the condition of the decision_trace_to_compact index.
    return RoutingDecision.objects.filter(created_at__lt=cutoff).exclude(trace__has_key=COMPACTED_KEY)


def decision_traces_to_compact_exist(*, now: dt.datetime) -> bool:
    return _to_compact(now=now).exists()


def decision_traces_compact(*, now: dt.datetime, batch_size: int = COMPACT_BATCH, max_batches: int | None = None) -> int:
    """Compacts the traces of decisions older than the retention period, oldest first; returns how many.

    One transaction per batch, rows taken with SKIP LOCKED: two sweeps share the work, and one
    stopped half-way leaves every decision either whole or compacted.
    """
    compacted, batches = 0, 0
    while max_batches is None or batches < max_batches:
        with transaction.atomic():
            oldest = _to_compact(now=now).order_by("created_at").select_for_update(skip_locked=True)
            rows = list(oldest.values_list("pk", "trace")[:batch_size])
            on = now.date().isoformat()
            compacted_rows = [RoutingDecision(pk=pk, trace=trace_compact(trace, on=on)) for pk, trace in rows]
            update_rows(RoutingDecision, compacted_rows, ["trace"])
        compacted += len(rows)
        batches += 1
        if len(rows) < batch_size:
            break
    return compacted
