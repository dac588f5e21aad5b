"""Causes are stored as codes and parameters: counts and "Why you" read them, pages render them in the reader's language."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from leads.models import Lead
from routing.claims import lead_claim
from routing.reassignment import sla_reassign_overdue
from routing.dashboard_figures import dashboard
from routing.services import route_pending_leads
from tests.factories import LeadFactory, RoutingRuleFactory, TeamFactory, rep_named, sales_manager
from tests.routing.support import csv_rows, lead_waiting_in_a_pool

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
BREACH = START + dt.timedelta(minutes=31)


@pytest.fixture
def german_site(settings):
    """The site's language, the one stored texts are written in, is German."""
    settings.LANGUAGE_CODE = "de"
    with translation.override("de"):
        yield


def missed_deadline():
    """Anna's lead is not contacted within 30 minutes; the sweep gives it to Ben."""
    team = TeamFactory(name="Sales")
    anna = rep_named("Anna", teams=[team])
    RoutingRuleFactory(name="Everyone", target_team=team, sla_minutes=30)
    with time_machine.travel(START, tick=False):
        lead = LeadFactory()
        route_pending_leads(limit=10, worker="test")
    ben = rep_named("Ben", teams=[team])
    with time_machine.travel(BREACH, tick=False):
        assert sla_reassign_overdue(now=BREACH) == 1
    lead.refresh_from_db()
    assert (lead.owner, lead.reassignment_count) == (ben, 1)
    return lead, anna, ben


def test_the_dashboard_counts_sla_reassignments_when_the_site_language_is_german(german_site):
    missed_deadline()

    board = dashboard(scope=None, first_day=(START - dt.timedelta(days=1)).date(), now=BREACH)

    assert (board.reassignments, board.sla_reassigned) == (1, 1)


def test_the_lead_page_renders_an_sla_move_in_the_readers_language(german_site, client):
    lead, _anna, _ben = missed_deadline()
    client.force_login(sales_manager(sees_every_team=True))

    html = client.get(reverse("routing:lead_detail", args=[lead.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Anna → Ben, SLA breach: not contacted within 30 minutes. Chosen: Ben by rule" in html
    assert "SLA verfehlt" not in html


def test_why_you_says_a_claim_in_the_readers_language(german_site, client):
    lead, carla = lead_waiting_in_a_pool()
    lead_claim(lead_id=lead.pk, rep=carla, actor=carla.user)
    client.force_login(carla.user)

    html = client.get(reverse("routing:queue"), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Claimed from pool &#x27;Self-serve&#x27;" in html
    assert Lead.objects.get(pk=lead.pk).owner == carla


def test_why_you_names_the_rule_that_matched_from_the_decisions_trace(client, german_site):
    team = TeamFactory(name="Sales")
    anna = rep_named("Anna", teams=[team])
    RoutingRuleFactory(name="Everyone", target_team=team)
    LeadFactory()
    route_pending_leads(limit=10, worker="test")
    client.force_login(anna.user)

    html = client.get(reverse("routing:queue"), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Rule 1 &#x27;Everyone&#x27; matched: it has no conditions (catches every lead)." in html


def test_the_reassignment_log_says_why_in_the_readers_language(german_site, client):
    missed_deadline()
    client.force_login(sales_manager(sees_every_team=True))

    html = client.get(reverse("routing:reassignments"), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "SLA breach: not contacted within 30 minutes" in html and "SLA verfehlt" not in html


def test_the_reassignment_csv_gives_the_same_reason_as_the_page_in_the_readers_language(german_site, client):
    missed_deadline()
    client.force_login(sales_manager(sees_every_team=True))

    rows = csv_rows(client.get(reverse("routing:reassignments_csv"), HTTP_ACCEPT_LANGUAGE="en"))

    assert [row[6] for row in rows[1:]] == ["SLA breach: not contacted within 30 minutes"]
