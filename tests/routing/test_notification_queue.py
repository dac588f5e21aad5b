"""With Redis, emails wait in the `notifications` queue so a routing worker never waits for a mail server."""

import django_rq
import pytest
from django.core import mail

from routing.notifications import NOTIFICATION_QUEUE
from routing.services import route_pending_leads
from routing.worker import RoutingWorker
from tests.factories import LeadFactory, RepFactory, RoutingRuleFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_assignment_email_is_queued_then_sent_by_a_notifications_worker(settings, redis_connection):
    settings.NOTIFICATIONS_ASYNC = True
    team = TeamFactory(name="Queue")
    rep = RepFactory(teams=[team], user=UserFactory(username="anna", email="anna@example.com"))
    RoutingRuleFactory(target_team=team)
    LeadFactory(company="Queued GmbH")

    route_pending_leads(limit=10, worker="test")

    queue = django_rq.get_queue(NOTIFICATION_QUEUE)
    assert queue.count == 1 and mail.outbox == []  # routing is done; the email has not been sent yet
    RoutingWorker([queue], connection=queue.connection).work(burst=True)
    assert [message.to for message in mail.outbox] == [[rep.user.email]]
    assert "Queued GmbH" in mail.outbox[0].body
