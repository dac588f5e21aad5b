"""A manager reassigns a lead from its page, with a mandatory reason; reps cannot."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from reps.models import Rep
from routing.models import Assignment
from tests.factories import TimeOffFactory, sales_manager
from tests.routing.test_views import flash, rep_named, routed_lead_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead_of_anna():
    return routed_lead_for(rep_named("Anna"))


def test_manager_moves_the_lead_to_a_chosen_rep_with_a_reason(client, lead_of_anna):
    ben = rep_named("Ben")
    client.force_login(sales_manager(sees_every_team=True))
    page = client.get(reverse("routing:lead_detail", args=[lead_of_anna.pk]))
    assert b'action="/leads/%d/reassign/"' % lead_of_anna.pk in page.content

    response = client.post(reverse("routing:lead_reassign", args=[lead_of_anna.pk]),
                           {"to_rep": ben.pk, "reason": "Anna is at a trade fair"})

    assert flash(response) == [f"{lead_of_anna} reassigned to {ben}."]
    lead_of_anna.refresh_from_db()
    assert lead_of_anna.owner == ben
    current = Assignment.objects.get(lead=lead_of_anna, is_current=True)
    assert (current.kind, current.reason) == (Assignment.Kind.MANUAL, "Anna is at a trade fair")


def test_a_missing_reason_is_refused_and_changes_nothing(client, lead_of_anna):
    client.force_login(sales_manager(sees_every_team=True))
    response = client.post(reverse("routing:lead_reassign", args=[lead_of_anna.pk]), {"reason": ""})
    assert "This field is required." in flash(response)[0]
    lead_of_anna.refresh_from_db()
    assert lead_of_anna.owner.name == "Anna"


def test_a_rep_cannot_reassign_even_their_own_lead(client, lead_of_anna):
    client.force_login(lead_of_anna.owner.user)
    response = client.post(reverse("routing:lead_reassign", args=[lead_of_anna.pk]), {"reason": "too busy"})
    assert response.status_code == 403
    assert b"reassign/" not in client.get(reverse("routing:lead_detail", args=[lead_of_anna.pk])).content


def test_reps_away_or_on_leave_are_marked_in_the_list_and_still_offered(client, lead_of_anna):
    ben, cleo = rep_named("Ben"), rep_named("Cleo")
    Rep.objects.filter(pk=ben.pk).update(status=Rep.Status.AWAY, away_until=None)
    TimeOffFactory(rep=cleo, start=timezone.now() - dt.timedelta(days=1), end=timezone.now() + dt.timedelta(days=6),
                   reason="Vacation")
    client.force_login(sales_manager(sees_every_team=True))

    html = client.get(reverse("routing:lead_detail", args=[lead_of_anna.pk])).content.decode()

    assert f'<option value="{ben.pk}">{ben} (away, no return time set)</option>' in html
    assert f'<option value="{cleo.pk}">{cleo} (on leave until ' in html and "(Vacation))</option>" in html
    assert f'<option value="{lead_of_anna.owner.pk}">{lead_of_anna.owner}</option>' in html


def test_the_lead_page_shows_the_use_case_and_numbers_in_the_readers_format(client):
    lead = routed_lead_for(rep_named("Dora"))
    type(lead).objects.filter(pk=lead.pk).update(use_case="Replace our spreadsheet of leads", deal_value=324960,
                                                 employee_count=12500)
    client.force_login(sales_manager(sees_every_team=True))

    english = client.get(reverse("routing:lead_detail", args=[lead.pk])).content.decode()
    german = client.get(reverse("routing:lead_detail", args=[lead.pk]), HTTP_ACCEPT_LANGUAGE="de").content.decode()

    assert "Replace our spreadsheet of leads" in english
    assert "<dd>324,960</dd>" in english and "<dd>12,500</dd>" in english
    assert "<dd>324.960</dd>" in german and "<dd>12.500</dd>" in german
