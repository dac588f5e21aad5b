"""Helpers shared by the routing tests."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from routing.services import route_pending_leads
from tests.factories import LeadFactory


def statements_to_route(count: int) -> int:
    """How many SQL statements routing `count` new leads costs (in batches of ROUTING_LEADS_PER_TRANSACTION)."""
    LeadFactory.create_batch(count)
    with CaptureQueriesContext(connection) as queries:
        assert route_pending_leads(limit=count, worker="test") == count
    return len(queries)
