"""The owner works a lead: accept, contacted (first touch stops the SLA clock), qualified, converted, lost, notes."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from leads import lifecycle
from leads.models import Lead, LeadEvent
from routing.reassignment import sla_reassign_overdue
from routing.timeline import event_text
from tests.factories import LeadFactory, RepFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def owned_lead(rep, **fields):
    fields = {"status": Lead.Status.ASSIGNED, "assigned_at": timezone.now(), "routing_requested_at": None,
              "sla_due_at": timezone.now() + dt.timedelta(minutes=15), **fields}
    return LeadFactory(owner=rep, **fields)


@pytest.fixture
def rep():
    return RepFactory()


def status_events(lead):
    return list(LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.STATUS).values_list("message", "actor"))


def test_accept_moves_an_assigned_lead_to_accepted_with_a_timeline_event(rep):
    lead = owned_lead(rep)

    lifecycle.lead_accept(lead_id=lead.pk, actor=rep.user)

    lead.refresh_from_db()
    assert lead.status == Lead.Status.ACCEPTED and lead.first_touch_at is None
    assert status_events(lead) == [("Assigned → Accepted", rep.user.pk)]


@time_machine.travel(NOW, tick=False)
def test_marking_contacted_records_the_first_touch_and_stops_the_sla_clock(rep):
    lead = owned_lead(rep)

    lifecycle.lead_mark_contacted(lead_id=lead.pk, actor=rep.user)

    lead.refresh_from_db()
    assert (lead.status, lead.first_touch_at) == (Lead.Status.CONTACTED, NOW)
    # Past the deadline the sweep leaves the touched lead with its owner.
    assert sla_reassign_overdue(now=NOW + dt.timedelta(hours=1)) == 0
    assert Lead.objects.get(pk=lead.pk).owner == rep


def test_qualifying_keeps_the_first_touch_already_recorded(rep):
    touched = timezone.now() - dt.timedelta(hours=2)
    lead = owned_lead(rep, status=Lead.Status.CONTACTED, first_touch_at=touched)

    lifecycle.lead_qualify(lead_id=lead.pk, actor=rep.user)

    lead.refresh_from_db()
    assert (lead.status, lead.first_touch_at) == (Lead.Status.QUALIFIED, touched)


def test_converting_closes_the_lead(rep):
    lead = owned_lead(rep, status=Lead.Status.QUALIFIED, first_touch_at=timezone.now())

    lifecycle.lead_convert(lead_id=lead.pk, actor=rep.user)

    lead.refresh_from_db()
    assert lead.status == Lead.Status.CONVERTED and lead.closed_at is not None
    assert status_events(lead) == [("Qualified → Converted", rep.user.pk)]


def test_losing_a_lead_needs_a_reason_which_goes_into_the_timeline(rep):
    lead = owned_lead(rep)

    with pytest.raises(ValidationError) as error:
        lifecycle.lead_lose(lead_id=lead.pk, actor=rep.user, reason="  ")
    assert "reason" in error.value.message_dict

    lifecycle.lead_lose(lead_id=lead.pk, actor=rep.user, reason="Chose a competitor")
    lead.refresh_from_db()
    assert lead.status == Lead.Status.LOST and lead.closed_at is not None
    assert status_events(lead) == [("Assigned → Lost: Chose a competitor", rep.user.pk)]
    event = LeadEvent.objects.get(lead=lead)
    assert event.data["cause"] == {"code": "status", "params": {"from": "assigned", "to": "lost", "reason": "Chose a competitor"}}
    with translation.override("de"):
        assert event_text(event) == "Zugewiesen → Verloren: Chose a competitor"  # the reason as the rep typed it


def test_a_closed_lead_cannot_change_status_and_says_why(rep):
    lead = owned_lead(rep, status=Lead.Status.LOST)

    with pytest.raises(ValidationError, match="is lost, so it cannot be marked contacted"):
        lifecycle.lead_mark_contacted(lead_id=lead.pk, actor=rep.user)
    assert not LeadEvent.objects.filter(lead=lead).exists()


def test_only_the_owner_can_change_a_lead(rep):
    lead = owned_lead(rep)
    other = RepFactory()

    with pytest.raises(PermissionDenied):
        lifecycle.lead_mark_contacted(lead_id=lead.pk, actor=other.user)
    with pytest.raises(PermissionDenied):
        lifecycle.lead_add_note(lead_id=lead.pk, actor=other.user, text="Sneaky")

    lead.refresh_from_db()
    assert lead.status == Lead.Status.ASSIGNED and lead.first_touch_at is None
    assert not LeadEvent.objects.filter(lead=lead).exists()


def test_an_unowned_lead_cannot_be_changed_by_anyone(rep):
    lead = LeadFactory(owner=None, routing_requested_at=None)

    with pytest.raises(PermissionDenied):
        lifecycle.lead_accept(lead_id=lead.pk, actor=rep.user)


def test_the_owner_adds_notes_even_to_a_closed_lead(rep):
    lead = owned_lead(rep, status=Lead.Status.CONVERTED)

    event = lifecycle.lead_add_note(lead_id=lead.pk, actor=rep.user, text="  Sent the contract.  ")

    assert (event.kind, event.message, event.actor) == (LeadEvent.Kind.NOTE, "Sent the contract.", rep.user)


def test_an_empty_note_is_refused(rep):
    lead = owned_lead(rep)

    with pytest.raises(ValidationError) as error:
        lifecycle.lead_add_note(lead_id=lead.pk, actor=rep.user, text="")
    assert error.value.message_dict == {"text": ["Write the note before saving it."]}


def test_services_take_keyword_arguments_only(rep):
    lead = owned_lead(rep)

    with pytest.raises(TypeError):
        lifecycle.lead_accept(lead.pk, rep.user)
