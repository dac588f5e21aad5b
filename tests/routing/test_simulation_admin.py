"""The Simulate page on the rules list and the Leads action: what a manager sees, and what others cannot open."""

import datetime as dt
import re

import pytest
import time_machine
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from leads.models import Lead
from routing import simulation as simulation_module
from routing.simulation_runs import simulation_run_execute
from routing.models import Assignment, RotationState, RoutingDecision, SimulationRun
from routing.services import route_pending_leads
from tests.admin_support import REPS, staff_user_in
from tests.factories import (
    LeadFactory,
    RoutingRuleFactory,
    RuleConditionFactory,
    TeamFactory,
    UserFactory,
    rep_named,
    sales_manager,
)

pytestmark = pytest.mark.django_db
SIMULATE_URL = reverse("admin:routing_routingrule_simulate")
RULES_URL = reverse("admin:routing_routingrule_changelist")
LEADS_URL = reverse("admin:leads_lead_changelist")
NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def manager_client(client):
    client.force_login(sales_manager(sees_every_team=True, is_staff=True))
    return client


@pytest.fixture
def org():
    """Two DE leads routed to Anna or Ben by "Everyone"; a draft rule would send them to Dora."""
    sales, dach = TeamFactory(name="Sales"), TeamFactory(name="DACH")
    rep_named("Anna", teams=[sales])
    rep_named("Ben", teams=[sales])
    rep_named("Dora", teams=[dach])
    everyone = RoutingRuleFactory(name="Everyone", target_team=sales, priority=20)
    leads = [LeadFactory(country="DE", email="hans@firma.example"), LeadFactory(country="FR", email="luc@societe.example")]
    route_pending_leads(limit=100, worker="test")
    draft = RoutingRuleFactory(name="Germany to DACH", target_team=dach, priority=10, is_active=False)
    RuleConditionFactory(rule=draft, field="country", value="DE")
    return {"everyone": everyone, "draft": draft, "leads": leads}


def simulate(client, **params):
    """Submits the form; when it queued a run, runs it here (what its job calls) and opens the run's page."""
    data = {"leads_from": "days", "number": "30", "source": "", "country": "", "run": "Simulate", **params}
    response = client.post(SIMULATE_URL, data)
    if response.status_code != 302:
        return response
    simulation_run_execute(run_id=SimulationRun.objects.latest("pk").pk)
    return client.get(response["Location"])


def text_of(response):
    """The page as a reader sees it: tags removed, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_the_rules_list_links_to_the_simulate_page(manager_client):
    response = manager_client.get(RULES_URL)
    assert f'href="{SIMULATE_URL}"' in response.content.decode()
    page = manager_client.get(SIMULATE_URL)
    assert page.status_code == 200
    assert "Replay past leads through the active rules" in text_of(page)
    assert "What would change" not in text_of(page)


def test_switching_on_a_draft_rule_lists_the_leads_that_would_move(manager_client, org):
    counts_before = (Assignment.objects.count(), RoutingDecision.objects.count(), RotationState.objects.count(),
                     list(Lead.objects.order_by("pk").values_list("owner_id", flat=True)))

    response = simulate(manager_client, switch_on=[org["draft"].pk])

    assert response.status_code == 200
    text = text_of(response)
    assert "2 leads replayed" in text
    assert "Switched on: Germany to DACH." in text
    assert "2 leads would change owner" in text  # Hans to Dora, and the rotation gives Luc to Anna
    assert "1 lead would change rule" in text
    assert "0 leads would be unroutable" in text
    changes = response.content.decode().split('id="simulation-changes"')[1]
    hans = org["leads"][0]
    assert reverse("admin:leads_lead_change", args=[hans.pk]) in changes
    assert "Everyone → Germany to DACH" in text_of(response)
    assert "Anna → Dora" in text
    assert "<details><summary>explanation</summary>" in changes
    assert "Chosen: Dora by rule &#x27;Germany to DACH&#x27;." in changes
    assert "Ben → Anna" in text
    by_rep = text_of(response).split("Leads per rep")[1].split("Leads per rule")[0]
    assert "Dora 0 1 +1" in by_rep
    assert counts_before == (Assignment.objects.count(), RoutingDecision.objects.count(),
                             RotationState.objects.count(),
                             list(Lead.objects.order_by("pk").values_list("owner_id", flat=True)))


def test_switching_off_the_only_rule_shows_every_lead_unroutable(manager_client, org):
    response = simulate(manager_client, switch_off=[org["everyone"].pk])
    text = text_of(response)
    assert "2 leads would be unroutable" in text
    by_outcome = text.split("Leads per outcome")[1].split("Leads per rep")[0]
    assert "Assigned 2 0 -2" in by_outcome
    assert "Unroutable 0 2 +2" in by_outcome


def test_filters_by_source_and_country_choose_the_leads(manager_client, org):
    LeadFactory(country="DE", source="webinar")
    route_pending_leads(limit=100, worker="test")
    text = text_of(simulate(manager_client, source="webinar", country="DE", switch_on=[org["draft"].pk]))
    assert "1 lead replayed" in text


@pytest.mark.parametrize("params, message", [
    ({"number": "-1"}, "N must be 1 or more."),
    ({"number": "many"}, "N must be a whole number, such as 30."),
    ({"number": ""}, "Say how many days or leads to replay."),
    ({"leads_from": "leads", "number": "100001"}, "At most 100,000 leads can be replayed at once."),
    ({"number": "3651"}, "N must be at most 3,650 days."),
    ({"number": "99999999999999999999999"}, "N must be at most 3,650 days."),
    ({"switch_on": ["999999"]}, "Rule 999999 is not an inactive rule (any more)"),
    ({"switch_on": ["first"]}, "“first” is not a rule id"),
    ({"leads_from": "weeks"}, "Select a valid choice."),
])
def test_bad_input_shows_the_error_at_the_field_and_runs_nothing(manager_client, org, params, message):
    response = simulate(manager_client, **params)
    assert response.status_code == 200
    assert message in text_of(response)
    assert not SimulationRun.objects.exists()


def test_an_active_rule_cannot_be_switched_on(manager_client, org):
    response = simulate(manager_client, switch_on=[org["everyone"].pk])
    assert f"Rule {org['everyone'].pk} is not an inactive rule" in text_of(response)


def test_a_draft_whose_condition_cannot_compile_is_explained_not_a_server_error(manager_client, org):
    # Saved around the admin's validation (an import, the shell): the page says what is wrong.
    RuleConditionFactory(rule=org["draft"], field="score", operator="regex", value="^9")
    response = simulate(manager_client, switch_on=[org["draft"].pk])
    assert response.status_code == 200
    assert (f"Rule '{org['draft'].name}' has a condition that cannot be used (score matches regex ^9): "
            "'matches regex' compares text, but score is a number field") in text_of(response).replace("&#x27;", "'")
    assert "What would change" not in text_of(response)


def test_too_many_leads_in_the_period_are_capped_with_a_message(manager_client, org, settings):
    settings.SIMULATION_MAX_LEADS = 1
    text = text_of(simulate(manager_client))
    assert "1 older lead also matched and was left out: the most recent were replayed." in text
    assert "1 lead replayed" in text


def test_a_team_manager_replays_only_the_leads_of_their_teams(client, org):
    ben = Lead.objects.get(pk=org["leads"][1].pk).owner
    client.force_login(sales_manager(manages=[ben.teams.get()], is_staff=True))
    others = TeamFactory(name="Others")
    rep_named("Olga", teams=[others])
    RoutingRuleFactory(name="Others' leads", target_team=others, priority=5)
    LeadFactory(email="someone@else.example")
    route_pending_leads(limit=100, worker="test")

    text = text_of(simulate(client, switch_on=[org["draft"].pk]))

    assert "2 leads replayed" in text
    assert "someone@else.example" not in text


def test_a_rep_cannot_open_the_simulate_page(client):
    client.force_login(staff_user_in(REPS))
    assert client.get(SIMULATE_URL).status_code == 403


def test_someone_not_logged_in_is_sent_to_the_login_page(client):
    response = client.get(SIMULATE_URL)
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_a_non_staff_user_is_sent_to_the_login_page(client):
    client.force_login(UserFactory())
    assert client.get(SIMULATE_URL).status_code == 302


# --- The Leads action --------------------------------------------------------------------------


def run_action(client, leads):
    return client.post(LEADS_URL, {"action": "simulate_routing", ACTION_CHECKBOX_NAME: [lead.pk for lead in leads]})


def test_the_leads_action_simulates_the_selected_leads_with_the_current_rules(manager_client, org):
    hans = org["leads"][0]
    anna = hans.__class__.objects.get(pk=hans.pk).owner
    anna.status = anna.Status.AWAY
    anna.save()

    response = run_action(manager_client, [hans])

    assert response.status_code == 200
    text = text_of(response)
    assert "1 lead replayed" in text
    assert "Switched on: none." in text
    assert "Anna → Ben" in text
    assert "Anna: away" in text


def test_a_rep_is_not_offered_the_leads_action(client, org):
    client.force_login(staff_user_in(REPS))
    assert "simulate_routing" not in client.get(LEADS_URL).content.decode()
    refused = run_action(client, org["leads"])
    assert "What would change" not in text_of(refused)


def test_the_leads_action_refuses_more_leads_than_the_cap(manager_client, org, monkeypatch):
    monkeypatch.setattr(simulation_module, "MAX_SIMULATED_LEADS", 1)
    response = run_action(manager_client, org["leads"])
    assert response.status_code == 302
    page = manager_client.get(response["Location"])
    assert "At most 1 leads can be simulated at once; choose fewer." in text_of(page)
