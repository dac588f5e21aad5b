"""The path from a saved lead to its owner: signal on commit -> Redis wake-up -> RQ job -> engine."""

import django_rq
import pytest

from leads.models import Lead
from routing.jobs import QUEUE_NAME, sweep_stale_leads
from routing.worker import RoutingWorker
from tests.factories import LeadFactory, RepFactory, RoutingRuleFactory, TeamFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def routing_team(redis_connection):
    team = TeamFactory(name="Inbound")
    reps = [RepFactory(teams=[team]) for _ in range(2)]
    RoutingRuleFactory(target_team=team)
    return reps


def run_worker_until_idle():
    queue = django_rq.get_queue(QUEUE_NAME)
    RoutingWorker([queue], connection=queue.connection).work(burst=True)


def test_new_leads_wake_one_drain_job_that_routes_them_all(routing_team):
    leads = [LeadFactory() for _ in range(5)]
    queue = django_rq.get_queue(QUEUE_NAME)
    assert queue.count == 1  # five commits, one queued wake-up

    run_worker_until_idle()

    assert all(Lead.objects.get(pk=lead.pk).owner in routing_team for lead in leads)
    assert not Lead.objects.filter(routing_requested_at__isnull=False).exists()


def test_redis_outage_saves_the_lead_and_the_sweep_routes_it_later(routing_team, settings):
    reachable = settings.RQ_QUEUES
    settings.RQ_QUEUES = {name: {**conf, "URL": "redis://127.0.0.1:1/0"} for name, conf in reachable.items()}
    lead = LeadFactory()  # the wake-up fails quietly: no error for whoever submitted the lead
    lead.refresh_from_db()
    assert lead.owner is None and lead.routing_requested_at is not None

    settings.RQ_QUEUES = reachable
    settings.ROUTING_SWEEP_AFTER_SECONDS = 0
    assert sweep_stale_leads() is True
    run_worker_until_idle()
    lead.refresh_from_db()
    assert lead.owner in routing_team


def test_sweep_does_nothing_when_no_lead_waits(routing_team):
    assert sweep_stale_leads() is False
    assert django_rq.get_queue(QUEUE_NAME).count == 0
