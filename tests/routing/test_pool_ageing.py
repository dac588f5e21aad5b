"""Pool ageing: per pool how many leads wait and how many too long; the overdue ones listed oldest first."""

import datetime as dt

import pytest
from django.urls import reverse

from tests.factories import LeadFactory, PoolFactory, TeamFactory, sales_manager

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def waiting(time_machine):
    time_machine.move_to(NOW, tick=False)
    team = TeamFactory(name="Inbound")
    inbound, partners = PoolFactory(name="Inbound pool"), PoolFactory(name="Partner pool")
    inbound.teams.add(team)
    leads = {}
    for name, pool, minutes in [("fresh", inbound, 3), ("late", inbound, 40), ("oldest", inbound, 300),
                                ("partner", partners, 90)]:
        lead = LeadFactory(company=name, pool=pool, routing_requested_at=None)
        type(lead).objects.filter(pk=lead.pk).update(created_at=NOW - dt.timedelta(minutes=minutes))
        leads[name] = lead
    return team, leads


def test_each_pool_says_how_many_wait_and_how_many_longer_than_15_minutes(client, waiting):
    client.force_login(sales_manager(sees_every_team=True))

    response = client.get(reverse("routing:pool_ageing"))

    assert [(pool.name, pool.waiting, pool.past_threshold) for pool in response.context["pools"]] == [
        ("Inbound pool", 3, 2), ("Partner pool", 1, 1)]
    assert [lead.company for lead in response.context["page"].object_list] == ["oldest", "partner", "late"]
    assert "15 minutes" in response.content.decode()


def test_a_longer_threshold_and_one_pool_narrow_the_list(client, waiting):
    client.force_login(sales_manager(sees_every_team=True))
    team, leads = waiting

    response = client.get(reverse("routing:pool_ageing"),
                          {"older_than": 60, "pool": leads["oldest"].pool_id})

    assert [lead.company for lead in response.context["page"].object_list] == ["oldest"]


def test_a_team_manager_sees_the_pools_their_team_may_claim_from(client, waiting):
    team, leads = waiting
    client.force_login(sales_manager(manages=[team]))

    response = client.get(reverse("routing:pool_ageing"))

    assert [pool.name for pool in response.context["pools"]] == ["Inbound pool"]
    assert "partner" not in [lead.company for lead in response.context["page"].object_list]


def test_a_threshold_that_is_not_offered_is_a_field_error_not_a_500(client, waiting):
    client.force_login(sales_manager(sees_every_team=True))

    response = client.get(reverse("routing:pool_ageing"), {"older_than": "7"})

    assert response.status_code == 200
    assert response.context["form"].errors["older_than"]
