"""With Redis, emails wait in the `notifications` queue so a routing worker never waits for a mail server;
a real SMTP server on localhost defers (421) or refuses (550) them: deferred ones are retried, and what is
not delivered in the end is on the lead's timeline."""

import socket
import time

import django_rq
import pytest
from aiosmtpd.controller import Controller
from django.core import mail

from leads.models import Lead, LeadEvent
from routing.notifications import NOTIFICATION_QUEUE
from routing.selectors import lead_timeline
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


class ScriptedReceiver:
    """An SMTP server's handler: answers each RCPT TO with the next scripted reply, then accepts."""

    def __init__(self, replies):
        self.replies = list(replies)
        self.attempts = 0
        self.messages = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.attempts += 1
        if self.replies:
            return self.replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    """Starts a real SMTP server on localhost with scripted replies; Django's SMTP backend sends to it."""
    controllers = []

    def start(*replies):
        receiver = ScriptedReceiver(replies)
        controller = Controller(receiver, hostname="127.0.0.1", port=free_port())
        controller.start()
        controllers.append(controller)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", controller.port, 5
        return receiver

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def anna_gets_a_lead(settings, redis_connection):
    """Anna is the only rep; a lead waits; emails are queued and retried twice at once (no scheduler needed)."""
    settings.NOTIFICATIONS_ASYNC = True
    settings.NOTIFICATIONS_RETRY_SECONDS = [0, 0]
    team = TeamFactory(name="Queue")
    RepFactory(teams=[team], user=UserFactory(username="anna", first_name="Anna", last_name="Berg",
                                              email="anna@example.com"))
    RoutingRuleFactory(target_team=team)
    return LeadFactory(first_name="Jana", last_name="Novak", company="Queued GmbH")


def route_and_work():
    route_pending_leads(limit=10, worker="test")
    queue = django_rq.get_queue(NOTIFICATION_QUEUE)
    RoutingWorker([queue], connection=queue.connection).work(burst=True)


def email_causes(lead):
    return [event.data["cause"] for event in LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.NOTE)
            if "cause" in event.data]


def test_email_the_server_defers_with_421_is_retried_and_delivered(anna_gets_a_lead, smtp_server):
    server = smtp_server("421 4.3.2 Service not available, try again later")

    route_and_work()

    assert server.attempts == 2
    [message] = server.messages
    assert message.rcpt_tos == ["anna@example.com"] and b"New lead for you: Jana Novak" in message.content
    assert email_causes(anna_gets_a_lead) == []


def test_email_refused_with_550_is_not_retried_and_the_timeline_says_whose_and_why(anna_gets_a_lead, smtp_server):
    server = smtp_server("550 5.1.1 No such user here")

    route_and_work()

    assert server.attempts == 1 and server.messages == []
    assert email_causes(anna_gets_a_lead) == [{"code": "email_refused", "params": {
        "email": "lead_assigned", "recipient": "Anna Berg", "address": "anna@example.com",
        "rep_id": Lead.objects.get(pk=anna_gets_a_lead.pk).owner_id, "reply": "550 5.1.1 No such user here",
        "attempts": 1,
    }}]
    [line] = [entry.message for entry in lead_timeline(anna_gets_a_lead) if "mail server" in entry.message]
    assert line == ("The mail server refused the new lead email to Anna Berg (anna@example.com): "
                    "550 5.1.1 No such user here")


def test_email_still_deferred_after_the_last_retry_is_on_the_timeline(anna_gets_a_lead, smtp_server):
    server = smtp_server(*["421 4.7.0 Too busy"] * 3)

    route_and_work()

    assert server.attempts == 3 and server.messages == []
    [cause] = email_causes(anna_gets_a_lead)
    assert cause["code"] == "email_failed" and cause["params"]["attempts"] == 3
    [line] = [entry.message for entry in lead_timeline(anna_gets_a_lead) if "not sent" in entry.message]
    assert line == ("The new lead email to Anna Berg (anna@example.com) was not sent after 3 attempts: "
                    "421 4.7.0 Too busy")


def test_mail_server_down_is_retried_then_recorded(anna_gets_a_lead, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 5  # nobody listens

    route_and_work()

    [cause] = email_causes(anna_gets_a_lead)
    assert cause["code"] == "email_failed" and cause["params"]["attempts"] == 3
    assert cause["params"]["reply"].startswith("ConnectionRefusedError")


def test_deferred_email_waits_for_its_retry_delay_then_a_scheduler_worker_sends_it(anna_gets_a_lead, smtp_server,
                                                                                   settings):
    settings.NOTIFICATIONS_RETRY_SECONDS = [1]
    server = smtp_server("421 4.3.2 Try again later")
    route_and_work()
    queue = django_rq.get_queue(NOTIFICATION_QUEUE)
    assert server.attempts == 1 and queue.scheduled_job_registry.count == 1  # not retried at once

    time.sleep(1.1)
    RoutingWorker([queue], connection=queue.connection).work(burst=True, with_scheduler=True)

    assert server.attempts == 2 and len(server.messages) == 1
    assert email_causes(anna_gets_a_lead) == []
