"""The admin's big lists (leads, assignments, routing decisions): a capped count, a lead search on indexed columns, cheap filters."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from leadrouting.pagination import CappedCountPaginator
from leads.models import Lead
from tests.factories import (
    AssignmentFactory, LeadFactory, RepFactory, RoutingDecisionFactory, RoutingRuleFactory, TeamFactory, sales_manager,
)

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


@pytest.mark.parametrize("url_name", LISTS)
def test_a_page_costs_the_same_queries_for_one_row_or_many(manager_client, url_name):
    # A column the list shows but does not read (list_columns) would cost a query per row.
    def queries_listing(rows):
        while Lead.objects.count() < rows:
            lead, rule, rep = LeadFactory(owner=RepFactory()), RoutingRuleFactory(), RepFactory()
            AssignmentFactory(lead=lead, rep=rep, rule=rule, ended_at=timezone.now())
            RoutingDecisionFactory(lead=lead, rule=rule, chosen_rep=rep, worker="worker-1", duration_ms=1.5)
        with CaptureQueriesContext(connection) as queries:
            response = manager_client.get(reverse(url_name))
        assert len(response.context["cl"].result_list) == rows
        return len(queries)

    assert queries_listing(1) == queries_listing(4)


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


@pytest.fixture
def team_manager_client(client, olga_and_piet):
    """A manager of the team of the rep who holds Olga (assignment and decision)."""
    olga = olga_and_piet[0]
    team = TeamFactory()
    rep = olga.assignments.get().rep
    rep.teams.add(team)
    olga.decisions.update(chosen_rep=rep)
    client.force_login(sales_manager(is_staff=True, manages=[team]))
    return client


@pytest.mark.parametrize(("url_name", "index"), [("admin:routing_assignment_changelist", "assignment_lead_reps"),
                                                  ("admin:routing_routingdecision_changelist", "decision_lead_rep")])
def test_a_team_manager_s_list_is_counted_from_the_lead_s_index_alone(team_manager_client, url_name, index):
    with CaptureQueriesContext(connection) as queries:
        response = team_manager_client.get(reverse(url_name))
    (count,) = [query["sql"] for query in queries if query["sql"].startswith("SELECT COUNT(*)")]
    assert {row.lead.email for row in response.context["cl"].result_list} == {"olga@kunde.example"}
    assert response.context["cl"].paginator.count_order == ["lead_id"]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # two rows: make the planner show which index it can use
        cursor.execute(f"EXPLAIN {count}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert f"Index Only Scan using {index}" in plan.split("SubPlan")[0]


@pytest.mark.parametrize("url_name", ["admin:routing_assignment_changelist", "admin:routing_routingdecision_changelist"])
def test_a_filtered_or_searched_list_is_counted_by_its_own_index(team_manager_client, url_name):
    for params in ({"q": "olga"}, {"created_at__gte": "2026-01-01 00:00:00+00:00"}):
        response = team_manager_client.get(reverse(url_name), params)
        assert response.context["cl"].paginator.count_order == (), params
