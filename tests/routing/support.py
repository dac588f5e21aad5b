"""Helpers shared by the routing tests."""

import csv
import io

import django_rq
from django.db import connection
from django.test.utils import CaptureQueriesContext

from routing.jobs import QUEUE_NAME
from routing.simulation_runs import SIMULATIONS_QUEUE
from routing.models import RoutingRule
from routing.services import route_pending_leads
from routing.worker import RoutingWorker
from tests.factories import LeadFactory, PoolFactory, RoutingRuleFactory, rep_named


def statements_to_route(count: int) -> int:
    """How many SQL statements routing `count` new leads costs (in batches of ROUTING_LEADS_PER_TRANSACTION)."""
    LeadFactory.create_batch(count)
    with CaptureQueriesContext(connection) as queries:
        assert route_pending_leads(limit=count, worker="test") == count
    return len(queries)


def lead_waiting_in_a_pool():
    """A lead routed to the claimable pool 'Self-serve', and Carla, who may claim from it."""
    pool = PoolFactory(name="Self-serve")
    RoutingRuleFactory(name="Claim", target_type=RoutingRule.TargetType.POOL, pool=pool)
    carla = rep_named("Carla")
    pool.reps.add(carla)
    lead = LeadFactory()
    route_pending_leads(limit=10, worker="test")
    return lead, carla


def work_the_routing_queue():
    """A real RQ worker runs every job of the routing queue, then stops (needs a transactional test)."""
    queue = django_rq.get_queue(QUEUE_NAME)
    RoutingWorker([queue], connection=queue.connection).work(burst=True)


def work_the_simulations_queue():
    """A real RQ worker runs every job of the simulations queue, then stops (needs a transactional test)."""
    queue = django_rq.get_queue(SIMULATIONS_QUEUE)
    RoutingWorker([queue], connection=queue.connection).work(burst=True)


def csv_rows(response) -> list:
    """The rows of a streamed CSV download, read as a spreadsheet would (the UTF-8 byte order mark dropped)."""
    assert response.streaming, "exports stream: they must never be built in memory"
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
