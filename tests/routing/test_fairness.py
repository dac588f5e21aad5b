"""The fairness page: each rep's share of a round-robin rule's leads against the share their weight asks for."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from reps.models import Rep
from routing.models import RoutingRule
from routing.services import route_pending_leads
from tests.factories import LeadFactory, RepFactory, RoutingRuleFactory, TeamFactory, UserFactory, sales_manager

pytestmark = pytest.mark.django_db


def team_of(name, weights):
    team = TeamFactory(name=name)
    reps = []
    for index, weight in enumerate(weights):
        rep = RepFactory(user=UserFactory(username=f"{name.lower()}{index}", first_name=f"{name}{index}", last_name=""),
                         weight=Decimal(weight))
        rep.teams.add(team)
        reps.append(rep)
    return team, reps


def route(count, **lead_fields):
    LeadFactory.create_batch(count, **lead_fields)
    route_pending_leads(limit=count, worker="test")


@pytest.fixture
def weighted_team():
    team, reps = team_of("Inbound", ["2", "1", "1"])
    RoutingRuleFactory(name="Inbound weighted", target_team=team, strategy=RoutingRule.Strategy.WEIGHTED)
    return team, reps


def shares(report):
    return {row.name: (row.leads, round(row.share_points, 1), round(row.expected_points, 1)) for row in report.reps}


def test_a_weighted_rotation_gives_each_rep_the_share_their_weight_asks_for(client, weighted_team):
    route(40)
    client.force_login(sales_manager(sees_every_team=True))

    response = client.get(reverse("routing:fairness"), {"period": "7d"})

    [(report, chart)] = response.context["rules"]
    assert report.leads == 40
    assert shares(report) == {"Inbound0": (20, 50.0, 50.0), "Inbound1": (10, 25.0, 25.0), "Inbound2": (10, 25.0, 25.0)}
    assert not report.is_uneven
    html = response.content.decode()
    assert "Inbound weighted" in html and "badge warn" not in html


def test_a_rep_who_was_away_shows_as_a_deviation_and_the_rule_as_uneven(client, weighted_team):
    team, (heavy, light, away) = weighted_team
    route(20)
    Rep.objects.filter(pk=away.pk).update(status=Rep.Status.AWAY)
    route(20)
    client.force_login(sales_manager(sees_every_team=True))

    [(report, _chart)] = client.get(reverse("routing:fairness")).context["rules"]

    rows = {row.name: row for row in report.reps}
    assert rows["Inbound2"].leads == 5 and rows["Inbound2"].deviation_points == pytest.approx(-12.5)
    assert report.is_uneven
    assert report.reps[0].name in ("Inbound0", "Inbound2")  # the largest deviations first


def test_a_team_member_who_got_nothing_still_asked_for_a_share(client):
    team, reps = team_of("Field", ["1", "1"])
    RoutingRuleFactory(name="Field rotation", target_team=team)
    route(4)
    newcomer = RepFactory(user=UserFactory(username="newcomer", first_name="Newcomer", last_name=""))
    newcomer.teams.add(team)
    client.force_login(sales_manager(sees_every_team=True))

    [(report, _chart)] = client.get(reverse("routing:fairness")).context["rules"]

    assert shares(report)["Newcomer"] == (0, 0.0, 33.3)


def test_a_team_manager_sees_only_rules_that_reached_their_team_and_only_their_reps(client, weighted_team):
    route(8)
    other_team, _reps = team_of("Outbound", ["1"])
    outsider = sales_manager(manages=[other_team])
    insider = sales_manager(manages=[weighted_team[0]])

    client.force_login(outsider)
    assert client.get(reverse("routing:fairness")).context["rules"] == []
    client.force_login(insider)
    [(report, _chart)] = client.get(reverse("routing:fairness")).context["rules"]
    assert {row.name for row in report.reps} == {"Inbound0", "Inbound1", "Inbound2"}


def test_the_chart_coordinates_stay_numbers_in_german_and_the_table_reads_german(client, weighted_team):
    route(40)
    client.force_login(sales_manager(sees_every_team=True))

    html = client.get(reverse("routing:fairness"), HTTP_ACCEPT_LANGUAGE="de").content.decode()

    svg = html[html.index("<svg"):html.index("</svg>")]
    for value in re.findall(r'\b(?:x|x1|x2|y|width|height)="([^"]*)"', svg):
        if value != "100%":
            float(value)
    assert "Fairness" in html and "50,0 %" in html and "25,0 %" in html


def test_the_fairness_page_is_for_sales_managers_only(client):
    rep = RepFactory()
    client.force_login(rep.user)

    assert client.get(reverse("routing:fairness")).status_code == 403


def test_the_page_costs_the_same_queries_for_one_rule_as_for_five(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from routing.models import RuleCondition

    client.force_login(sales_manager(sees_every_team=True))

    def queries_with_rules(count):
        for n in range(count):
            team, _reps = team_of(f"Team{count}x{n}", ["1", "1"])
            rule = RoutingRuleFactory(name=f"Rule {count}x{n}", target_team=team, include_sub_teams=bool(n % 2))
            RuleCondition.objects.create(rule=rule, field="source", operator="equals", value=f"s{count}x{n}")
            route(2, source=f"s{count}x{n}")
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("routing:fairness"), {"period": "7d"})
        assert len(response.context["rules"]) == count
        return len(queries)

    one = queries_with_rules(1)
    RoutingRule.objects.all().delete()
    assert queries_with_rules(5) == one
