"""Pages show times in the viewer's time zone: a rep sees their own, a manager who is no rep the site's."""

import datetime as dt

import pytest
from django.urls import reverse

from tests.factories import LeadFactory, RepFactory, sales_manager

pytestmark = pytest.mark.django_db
CAME_IN = dt.datetime(2026, 12, 3, 8, 30, tzinfo=dt.timezone.utc)


def lead_owned_by(rep):
    lead = LeadFactory(owner=rep, status="assigned", routing_requested_at=None)
    type(lead).objects.filter(pk=lead.pk).update(created_at=CAME_IN)
    return lead


def test_a_rep_in_berlin_reads_the_lead_times_in_berlin_time(client, settings):
    settings.TIME_ZONE = "UTC"
    rep = RepFactory(time_zone="Europe/Berlin")
    lead = lead_owned_by(rep)
    client.force_login(rep.user)

    html = client.get(reverse("routing:lead_detail", args=[lead.pk])).content.decode()

    assert "9:30" in html and "8:30" not in html


def test_a_manager_who_is_no_rep_reads_times_in_the_sites_time_zone(client, settings):
    settings.TIME_ZONE = "America/New_York"
    rep = RepFactory(time_zone="Europe/Berlin")
    lead = lead_owned_by(rep)
    client.force_login(sales_manager(sees_every_team=True))

    html = client.get(reverse("routing:lead_detail", args=[lead.pk])).content.decode()

    assert "3:30" in html and "9:30" not in html
