"""Emails on assignment, reassignment away, escalation and before the first-touch deadline; only after commit."""

import datetime as dt
import smtplib

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.utils import translation

from leads.models import Lead, LeadEvent
from routing.claims import lead_claim
from routing.models import RoutingRule
from routing.notifications import email_failure_of, sla_send_reminders
from routing.reassignment import lead_reassign, rep_deactivate, sla_reassign_overdue
from routing.services import route_pending_leads
from routing.timeline import event_text
from tests.factories import LeadFactory, PoolFactory, RoutingRuleFactory, TeamFactory, UserFactory, rep_named
from tests.routing.support import lead_waiting_in_a_pool

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def sales():
    """A team of two routed round robin with a 30-minute deadline; Ben's calendar is in Berlin."""
    team = TeamFactory(name="Sales")
    anna = rep_named("Anna", teams=[team])
    ben = rep_named("Ben", teams=[team], time_zone="Europe/Berlin")
    rule = RoutingRuleFactory(name="Everyone", target_team=team, strategy=RoutingRule.Strategy.ROUND_ROBIN,
                              sla_minutes=30)
    return {"team": team, "anna": anna, "ben": ben, "rule": rule}


def route(django_capture_on_commit_callbacks, at=START):
    with time_machine.travel(at, tick=False), django_capture_on_commit_callbacks(execute=True):
        route_pending_leads(limit=10, worker="test")


def routed_lead(django_capture_on_commit_callbacks):
    """A lead routed at START, its assignment email already read."""
    lead = LeadFactory()
    route(django_capture_on_commit_callbacks)
    mail.outbox.clear()
    return Lead.objects.select_related("owner__user").get(pk=lead.pk)


def test_assigned_rep_gets_the_lead_summary_link_and_deadline(sales, django_capture_on_commit_callbacks, settings):
    settings.SITE_URL = "https://leads.example.com"
    lead = LeadFactory(first_name="Jana", last_name="Novak", company="Acme GmbH", phone="+49 30 1234")
    route(django_capture_on_commit_callbacks)

    lead.refresh_from_db()
    [email] = mail.outbox
    assert email.to == [lead.owner.user.email]
    assert email.subject == "New lead for you: Jana Novak"
    assert "Acme GmbH" in email.body and "+49 30 1234" in email.body
    assert f"https://leads.example.com/leads/{lead.pk}/" in email.body
    assert "10:30 (UTC), Mon 2 Mar" in email.body
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html" and f'href="https://leads.example.com/leads/{lead.pk}/"' in html


def test_deadline_is_shown_in_the_reps_time_zone(sales, django_capture_on_commit_callbacks):
    LeadFactory()
    LeadFactory()  # round robin: one lead each
    route(django_capture_on_commit_callbacks)

    [to_ben] = [email for email in mail.outbox if email.to == [sales["ben"].user.email]]
    assert "11:30 (Europe/Berlin), Mon 2 Mar" in to_ben.body


def test_rolled_back_assignment_sends_nothing(sales, django_capture_on_commit_callbacks):
    LeadFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                route_pending_leads(limit=10, worker="test")
                assert Lead.objects.filter(owner__isnull=False).exists()
                raise RuntimeError("the request failed after routing")
        except RuntimeError:
            pass

    assert callbacks == [] and mail.outbox == []
    assert not Lead.objects.filter(owner__isnull=False).exists()


def test_reassignment_tells_the_new_owner_and_the_previous_owner(sales, django_capture_on_commit_callbacks):
    lead = routed_lead(django_capture_on_commit_callbacks)
    old, new = lead.owner, (sales["ben"] if lead.owner == sales["anna"] else sales["anna"])

    with django_capture_on_commit_callbacks(execute=True):
        lead_reassign(lead_id=lead.pk, to_rep=new, actor=UserFactory(), reason="Speaks Czech")

    by_recipient = {email.to[0]: email for email in mail.outbox}
    assert set(by_recipient) == {old.user.email, new.user.email}
    away = by_recipient[old.user.email]
    assert away.subject.startswith("Lead moved away from you")
    assert f"it now belongs to {new.name}" in away.body and "Reason: Speaks Czech." in away.body
    assert "Speaks Czech" in by_recipient[new.user.email].body


def test_previous_owner_is_told_when_the_lead_goes_back_to_a_pool(sales, django_capture_on_commit_callbacks):
    lead = routed_lead(django_capture_on_commit_callbacks)
    owner = lead.owner
    sales["rule"].is_active = False
    sales["rule"].save()
    RoutingRuleFactory(name="Park", target_type=RoutingRule.TargetType.POOL, pool=PoolFactory(name="Overflow"))

    with django_capture_on_commit_callbacks(execute=True):
        lead_reassign(lead_id=lead.pk, actor=UserFactory(), reason="Route again")

    [email] = mail.outbox
    assert email.to == [owner.user.email] and "is no longer yours." in email.body


def test_sla_breach_mails_the_new_owner_and_the_rep_who_missed_it(sales, django_capture_on_commit_callbacks):
    missed = routed_lead(django_capture_on_commit_callbacks).owner
    breach = START + dt.timedelta(minutes=31)

    with time_machine.travel(breach, tick=False), django_capture_on_commit_callbacks(execute=True):
        sla_reassign_overdue(now=breach)

    subjects = {email.to[0]: email.subject for email in mail.outbox}
    assert subjects[missed.user.email].startswith("Lead moved away from you")
    assert len(subjects) == 2


def breach_until_escalated(django_capture_on_commit_callbacks):
    """With ROUTING_MAX_REASSIGNMENTS = 1: the first breach moves the lead, the second escalates it."""
    now = START
    for _ in range(2):
        now += dt.timedelta(minutes=31)
        with time_machine.travel(now, tick=False), django_capture_on_commit_callbacks(execute=True):
            sla_reassign_overdue(now=now)


def test_escalation_mails_the_team_managers(sales, django_capture_on_commit_callbacks, settings):
    settings.ROUTING_MAX_REASSIGNMENTS = 1
    boss = UserFactory(username="boss", first_name="Bea", last_name="Boss")
    no_email = UserFactory(username="quiet", email="")
    sales["team"].managers.add(boss, no_email)
    lead = LeadFactory()
    route(django_capture_on_commit_callbacks)
    breach_until_escalated(django_capture_on_commit_callbacks)

    [escalation] = [email for email in mail.outbox if email.to == [boss.email]]
    assert escalation.subject.startswith("Escalated lead needs you")
    assert "Hello Bea Boss" in escalation.body
    assert "reassign it by hand" in escalation.body  # no manager is a rep: the lead stays where it is
    assert f"/leads/{lead.pk}/" in escalation.body


def test_escalation_email_is_in_each_managers_language_with_the_breach_rendered_there(
        sales, django_capture_on_commit_callbacks, settings):
    settings.ROUTING_MAX_REASSIGNMENTS = 1
    german_manager = rep_named("Greta", language="de")  # a manager who is also a rep has a language of their own
    site_manager = UserFactory(username="sam", first_name="Sam", last_name="Site")
    sales["team"].managers.add(german_manager.user, site_manager)
    LeadFactory()
    route(django_capture_on_commit_callbacks)
    breach_until_escalated(django_capture_on_commit_callbacks)

    emails = {email.to[0]: email for email in mail.outbox if "needs" in email.subject or "braucht" in email.subject}
    german, english = emails[german_manager.user.email], emails[site_manager.email]
    with translation.override("de"):
        assert german.subject.startswith(translation.gettext("Escalated lead needs you: %(lead)s").split("%")[0])
    assert "Escalated lead needs you" not in german.subject
    assert "30 minutes" in english.body or "30 min" in english.body
    assert "30 minutes" not in german.body and "30 Minuten" in german.body


def test_manager_who_takes_the_escalated_lead_gets_one_email(sales, django_capture_on_commit_callbacks, settings):
    settings.ROUTING_MAX_REASSIGNMENTS = 1
    maria = rep_named("Maria")
    sales["team"].managers.add(maria.user)
    LeadFactory()
    route(django_capture_on_commit_callbacks)
    breach_until_escalated(django_capture_on_commit_callbacks)

    [to_maria] = [email for email in mail.outbox if email.to == [maria.user.email]]
    assert "It is now assigned to Maria." in to_maria.body


class TestReminder:
    @pytest.fixture
    def assigned(self, sales, django_capture_on_commit_callbacks, settings):
        settings.ROUTING_SLA_REMINDER_MINUTES = 5
        return routed_lead(django_capture_on_commit_callbacks)

    def remind(self, at, django_capture_on_commit_callbacks):
        with time_machine.travel(at, tick=False), django_capture_on_commit_callbacks(execute=True):
            return sla_send_reminders(now=at)

    def test_no_reminder_before_the_window(self, assigned, django_capture_on_commit_callbacks):
        assert self.remind(START + dt.timedelta(minutes=24), django_capture_on_commit_callbacks) == 0
        assert mail.outbox == []

    def test_reminder_is_sent_once_and_recorded_on_the_timeline(self, assigned, django_capture_on_commit_callbacks):
        assert self.remind(START + dt.timedelta(minutes=26), django_capture_on_commit_callbacks) == 1
        assert self.remind(START + dt.timedelta(minutes=28), django_capture_on_commit_callbacks) == 0

        [email] = mail.outbox
        assert email.to == [assigned.owner.user.email]
        assert email.subject == f"Contact {assigned} by 10:30 (UTC), Mon 2 Mar"
        note = LeadEvent.objects.get(lead=assigned, kind=LeadEvent.Kind.NOTE)
        assert note.data["sla_reminder"] is True
        with translation.override("it"):  # rendered for each reader from the stored cause
            assert event_text(note).endswith("10:30 (UTC), Lun 2 Mar.")

    def test_touched_lead_gets_no_reminder(self, assigned, django_capture_on_commit_callbacks):
        Lead.objects.filter(pk=assigned.pk).update(first_touch_at=START + dt.timedelta(minutes=2))
        assert self.remind(START + dt.timedelta(minutes=26), django_capture_on_commit_callbacks) == 0

    def test_new_owner_after_a_breach_is_reminded_again(self, assigned, django_capture_on_commit_callbacks):
        self.remind(START + dt.timedelta(minutes=26), django_capture_on_commit_callbacks)
        breach = START + dt.timedelta(minutes=31)
        with time_machine.travel(breach, tick=False), django_capture_on_commit_callbacks(execute=True):
            sla_reassign_overdue(now=breach)
        mail.outbox.clear()

        assert self.remind(breach + dt.timedelta(minutes=27), django_capture_on_commit_callbacks) == 1
        assert mail.outbox[0].to == [Lead.objects.get(pk=assigned.pk).owner.user.email]

    def test_zero_minutes_turns_reminders_off(self, assigned, django_capture_on_commit_callbacks, settings):
        settings.ROUTING_SLA_REMINDER_MINUTES = 0
        assert self.remind(START + dt.timedelta(minutes=29), django_capture_on_commit_callbacks) == 0


def test_a_rep_who_claims_a_pooled_lead_is_not_mailed_about_it_but_a_rep_given_one_is(
        django_capture_on_commit_callbacks):
    lead, carla = lead_waiting_in_a_pool()
    boss = UserFactory(username="boss")

    with django_capture_on_commit_callbacks(execute=True):
        lead_claim(lead_id=lead.pk, rep=carla, actor=carla.user)
    assert mail.outbox == []  # she took it herself

    other = LeadFactory(first_name="Jana", last_name="Novak")
    with django_capture_on_commit_callbacks(execute=True):
        route_pending_leads(limit=10, worker="test")
        lead_reassign(lead_id=other.pk, to_rep=carla, actor=boss, reason="Speaks Czech")
    assert [email.subject for email in mail.outbox] == ["New lead for you: Jana Novak"]


def test_inactive_previous_owner_gets_no_email(sales, django_capture_on_commit_callbacks):
    lead = routed_lead(django_capture_on_commit_callbacks)
    leaving = lead.owner

    with django_capture_on_commit_callbacks(execute=True):
        rep_deactivate(rep=leaving, actor=None)

    assert [email.to for email in mail.outbox] == [[Lead.objects.get(pk=lead.pk).owner.user.email]]


def test_a_failing_mail_server_does_not_undo_the_assignment(sales, django_capture_on_commit_callbacks, settings,
                                                          caplog):
    settings.EMAIL_BACKEND = "tests.routing.test_notifications.BrokenBackend"
    LeadFactory()
    route(django_capture_on_commit_callbacks)

    lead = Lead.objects.get(owner__isnull=False)
    assert "Could not send the lead_assigned email" in caplog.text
    # Without a queue there is no retry: the failure is on the timeline at once.
    [cause] = [event.data["cause"] for event in LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.NOTE)]
    assert cause["code"] == "email_failed" and cause["params"]["attempts"] == 1
    assert cause["params"]["reply"] == "ConnectionRefusedError: SMTP down"


class BrokenBackend:
    def __init__(self, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP down")


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (ConnectionRefusedError(111, "Connection refused"), True),
        (TimeoutError("timed out"), True),
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), True),
        (smtplib.SMTPRecipientsRefused({"a@example.com": (450, b"Mailbox busy")}), True),
        (smtplib.SMTPRecipientsRefused({"a@example.com": (550, b"No such user")}), False),
        (smtplib.SMTPDataError(451, b"Local error"), True),
        (smtplib.SMTPDataError(554, b"Rejected as spam"), False),
        (smtplib.SMTPAuthenticationError(535, b"Bad credentials"), False),
        (smtplib.SMTPNotSupportedError("STARTTLS extension not supported"), False),
        (ValueError("a bug"), False),
    ],
)
def test_transient_mail_failures_are_told_from_permanent_ones(error, transient):
    assert email_failure_of(error)[0] is transient
