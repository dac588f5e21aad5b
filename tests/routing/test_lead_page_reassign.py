"""A manager reassigns a lead from its page, with a mandatory reason; reps cannot."""

import pytest
from django.urls import reverse

from routing.models import Assignment
from tests.factories import sales_manager
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

    assert flash(response) == ["Lead reassigned."]
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
