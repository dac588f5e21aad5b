"""The project's RQ worker: a job that times out in the middle of a database call costs itself, not the next job."""

import django_rq
import pytest
from django.db import connection, transaction
from rq.job import JobStatus
from rq.registry import FailedJobRegistry

from leads.models import Lead
from routing.jobs import QUEUE_NAME
from routing.worker import RoutingWorker
from tests.factories import LeadFactory, RepFactory, RoutingRuleFactory, TeamFactory

pytestmark = pytest.mark.django_db(transaction=True)


def sleep_in_the_database():
    """A job caught by its timeout while PostgreSQL is busy: a slow query, a stalled lock."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(5)")


def sleep_in_a_transaction():
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM leads_lead FOR UPDATE")
        cursor.execute("SELECT pg_sleep(5)")


def sleep_while_opening_a_transaction():
    """The timeout lands inside `atomic()`'s own bookkeeping: Django's flags say "in a transaction", no exit runs."""
    transaction.atomic().__enter__()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(5)")


def sleep_then_go_on_on_the_same_connection():
    """As a batch whose COMMIT the timeout interrupted: atomic()'s exit replaced the timeout's exception with a
    database error, the batch caught that and went on routing one lead at a time on the half-used connection."""
    try:
        sleep_in_the_database()
    except Exception:  # noqa: BLE001, S110 — the job under test swallows it, as the batch's fallback did
        pass
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


@pytest.fixture
def routing_team(redis_connection):
    team = TeamFactory(name="Inbound")
    rep = RepFactory(teams=[team])
    RoutingRuleFactory(target_team=team)
    return rep


@pytest.fixture(params=[0, 60], ids=["connection per job", "persistent connection"])
def conn_max_age(request):
    """CONN_MAX_AGE of the connections the worker opens (a DATABASE_URL's ?conn_max_age=)."""
    before = connection.settings_dict["CONN_MAX_AGE"]
    connection.settings_dict["CONN_MAX_AGE"] = request.param
    yield request.param
    connection.settings_dict["CONN_MAX_AGE"] = before


@pytest.mark.parametrize(
    "stalled_job",
    [sleep_in_the_database, sleep_in_a_transaction, sleep_while_opening_a_transaction,
     sleep_then_go_on_on_the_same_connection],
)
def test_a_routing_job_after_a_job_timed_out_in_the_database_routes_on_the_same_worker(
    routing_team, stalled_job, conn_max_age
):
    queue = django_rq.get_queue(QUEUE_NAME)
    stalled = queue.enqueue(stalled_job, job_timeout=1)
    lead = LeadFactory()  # its commit enqueues a drain job behind the stalled one
    assert queue.count == 2

    RoutingWorker([queue], connection=queue.connection).work(burst=True)

    stalled.refresh()
    assert stalled.get_status() == JobStatus.FAILED
    # Reported as what it is, whichever exception the job ended with after the timeout.
    assert stalled.latest_result().exc_string.strip().splitlines()[-1].startswith("rq.timeouts.JobTimeoutException")
    assert FailedJobRegistry(queue=queue).get_job_ids() == [stalled.id]  # the drain job did not fail
    lead.refresh_from_db()
    assert lead.owner == routing_team
    assert not Lead.objects.filter(routing_requested_at__isnull=False).exists()
