"""The admin's big lists (leads, assignments, routing decisions): a capped count, a lead search on indexed columns, cheap filters."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leadrouting.admin_lists import CappedCountPaginator
from tests.factories import AssignmentFactory, LeadFactory, RepFactory, RoutingDecisionFactory, sales_manager

pytestmark = pytest.mark.django_db
LISTS = ["admin:leads_lead_changelist", "admin:routing_assignment_changelist", "admin:routing_routingdecision_changelist"]


@pytest.fixture
def manager_client(client):
    client.force_login(sales_manager(is_staff=True, sees_every_team=True))
    return client


@pytest.fixture
def olga_and_piet(db):
    """Two leads, each with an assignment and a routing decision."""
    leads = [LeadFactory(first_name="Olga", last_name="Berg", email="olga@kunde.example", company="Kunde AG"),
             LeadFactory(first_name="Piet", last_name="Smit", email="piet@klant.example", company="Klant BV")]
    for lead in leads:
        AssignmentFactory(lead=lead)
        RoutingDecisionFactory(lead=lead)
    return leads


def leads_listed(client, url_name, **params):
    rows = client.get(reverse(url_name), params).context["cl"].result_list
    return {row.email if hasattr(row, "email") else row.lead.email for row in rows}


@pytest.mark.parametrize("url_name", LISTS)
def test_search_finds_the_lead_by_id_email_name_or_company(manager_client, olga_and_piet, url_name):
    olga = olga_and_piet[0]
    for term in (str(olga.pk), "olga@kunde.example", "Olga@Kunde.example", "kunde", "OLGA", "Berg", "Kunde AG"):
        assert leads_listed(manager_client, url_name, q=term) == {"olga@kunde.example"}, term
    assert leads_listed(manager_client, url_name, q="kunde smit") == set()  # every word must match


@pytest.mark.parametrize("url_name", LISTS)
def test_search_says_what_it_searches(manager_client, url_name):
    page = manager_client.get(reverse(url_name)).content.decode()
    assert "Finds the lead by its id (a number), or by words of 3 characters or more in its email, name or company." in page


def test_a_word_too_short_to_search_for_lists_nothing_and_says_why(manager_client, olga_and_piet):
    response = manager_client.get(reverse("admin:leads_lead_changelist"), {"q": "ol"})
    assert list(response.context["cl"].result_list) == []
    assert "Search for words of 3 characters or more, or for a lead&#x27;s id." in response.content.decode()


def test_an_id_beyond_any_lead_finds_nothing(manager_client, olga_and_piet):
    assert leads_listed(manager_client, "admin:leads_lead_changelist", q="9" * 30) == set()


def test_a_list_longer_than_the_cap_pages_through_the_cap_and_says_more(manager_client, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "COUNT_CAP", 2)
    for _ in range(4):
        LeadFactory(source="event")

    page = manager_client.get(reverse("admin:leads_lead_changelist"), {"source": "event"}).content.decode()
    assert "more than 2 leads" in page

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_lead")  # the planner's row estimate, as autovacuum keeps it
    page = manager_client.get(reverse("admin:leads_lead_changelist")).content.decode()
    assert "about 4 leads" in page


def test_a_short_list_shows_its_exact_count(manager_client, olga_and_piet):
    page = manager_client.get(reverse("admin:routing_routingdecision_changelist")).content.decode()
    assert "2 routing decisions" in page


@pytest.mark.parametrize("url_name", LISTS)
def test_the_rep_filter_names_every_rep_in_one_query(manager_client, url_name):
    def queries_with_reps(count):
        for _ in range(count):
            RepFactory()
        with CaptureQueriesContext(connection) as queries:
            assert manager_client.get(reverse(url_name)).status_code == 200
        return len(queries)

    assert queries_with_reps(1) == queries_with_reps(5)


def test_the_lead_filters_list_the_countries_and_sources_leads_have(manager_client):
    LeadFactory(country="FR", source="trade fair")
    LeadFactory(country="DE", source="web")

    filters = {str(spec.title): [choice["display"] for choice in spec.choices(cl)]
               for cl in [manager_client.get(reverse("admin:leads_lead_changelist")).context["cl"]]
               for spec in cl.filter_specs}
    assert filters["country"][1:] == ["France", "Germany"]
    assert filters["source"][1:] == ["trade fair", "web"]


@pytest.mark.parametrize("url_name", LISTS)
def test_the_lists_filter_by_creation_date_instead_of_a_year_drill_down(manager_client, olga_and_piet, url_name):
    cl = manager_client.get(reverse(url_name)).context["cl"]
    assert cl.date_hierarchy is None
    assert any(spec.field_path == "created_at" for spec in cl.filter_specs if hasattr(spec, "field_path"))
