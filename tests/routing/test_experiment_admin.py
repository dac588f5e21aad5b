"""The A/B experiment admin: drafts refused with a reason, start and stop as actions, the split frozen once started."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from routing.models import RoutingExperiment, RoutingRule
from tests.admin_support import REPS, SALES_MANAGERS, form_errors, staff_user_in
from tests.factories import RepFactory, RoutingExperimentFactory, RoutingRuleFactory, TeamFactory

pytestmark = pytest.mark.django_db
Status = RoutingExperiment.Status

ADD_URL = reverse("admin:routing_routingexperiment_add")
CHANGELIST_URL = reverse("admin:routing_routingexperiment_changelist")


@pytest.fixture
def manager_client(client):
    client.force_login(staff_user_in(SALES_MANAGERS, username="maria"))
    return client


@pytest.fixture
def rules():
    """An active control rule and an inactive variant, each with a team that has a rep."""
    everyone, seniors = TeamFactory(name="Everyone"), TeamFactory(name="Seniors")
    RepFactory(teams=[everyone]), RepFactory(teams=[seniors])
    control = RoutingRuleFactory(name="Enterprise", target_team=everyone)
    variant = RoutingRuleFactory(name="Senior pool", target_team=seniors, is_active=False)
    return control, variant


def experiment_form(control, variant, **fields):
    return {"name": "Senior reps for enterprise", "hypothesis": "Seniors close more enterprise deals.",
            "control_rule": control.pk, "variant_rule": variant.pk, "test_share": "50", **fields}


def post_refused(client, data):
    response = client.post(ADD_URL, data)
    assert response.status_code == 200, "the form should come back with errors"
    assert not RoutingExperiment.objects.exists()
    return form_errors(response)


def flash(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def run_action(client, action, *experiments):
    return client.post(CHANGELIST_URL, {"action": action, "_selected_action": [e.pk for e in experiments]},
                       follow=True)


def test_a_valid_experiment_is_saved_as_a_draft(manager_client, rules):
    control, variant = rules
    response = manager_client.post(ADD_URL, experiment_form(control, variant, test_share="20"))
    assert response.status_code == 302, form_errors(response)
    experiment = RoutingExperiment.objects.get()
    assert (experiment.status, experiment.control_rule, experiment.variant_rule, experiment.test_share) == (
        Status.DRAFT, control, variant, 20)


def test_the_control_rule_as_its_own_variant_is_refused(manager_client, rules):
    control, _ = rules
    errors = post_refused(manager_client, experiment_form(control, control))
    assert "The variant must be another rule than the control rule" in errors


def test_an_inactive_control_rule_is_refused(manager_client, rules):
    control, variant = rules
    errors = post_refused(manager_client, experiment_form(variant, control))
    assert "Rule 'Senior pool' is inactive, so no lead would join the experiment" in errors


@pytest.mark.parametrize(("share", "message"), [
    ("0", "At least 1: the test group needs some of the leads (1 to 99)."),
    ("100", "At most 99: the control group needs some of the leads (1 to 99)."),
    ("-5", "At least 1: the test group needs some of the leads (1 to 99)."),
    ("half", "Enter a whole number."),
    ("", "This field is required."),
])
def test_a_test_share_out_of_range_is_refused(manager_client, rules, share, message):
    control, variant = rules
    assert message in post_refused(manager_client, experiment_form(control, variant, test_share=share))


def test_a_rule_that_is_no_id_comes_back_as_a_form_error_not_a_server_error(manager_client, rules):
    control, _ = rules
    errors = post_refused(manager_client, experiment_form(control, control, variant_rule="' OR 1=1 --"))
    assert "Select a valid choice" in errors


def test_the_start_and_stop_actions_say_what_happened(manager_client, rules):
    experiment = RoutingExperimentFactory(control_rule=rules[0], variant_rule=rules[1])

    response = run_action(manager_client, "start_experiments", experiment)
    assert "1 experiment started: its rule's leads are now split." in flash(response)
    experiment.refresh_from_db()
    assert experiment.status == Status.RUNNING and experiment.started_by.username == "maria"

    response = run_action(manager_client, "stop_experiments", experiment)
    assert "1 experiment stopped: its rule routes every lead again." in flash(response)
    experiment.refresh_from_db()
    assert experiment.status == Status.STOPPED and experiment.ended_by.username == "maria"


def test_starting_a_second_experiment_on_a_rule_is_refused_with_the_reason(manager_client, rules):
    control, variant = rules
    running = RoutingExperimentFactory(name="Seniors first", control_rule=control, variant_rule=variant)
    run_action(manager_client, "start_experiments", running)
    second = RoutingExperimentFactory(name="Seniors weighted", control_rule=control, variant_rule=variant)

    response = run_action(manager_client, "start_experiments", second)

    assert response.status_code == 200
    assert flash(response) == [
        "Rule 'Enterprise' already runs the experiment 'Seniors first'. Stop it before starting 'Seniors weighted'."]
    second.refresh_from_db()
    assert second.status == Status.DRAFT


def test_stopping_an_experiment_that_does_not_run_is_refused_with_the_reason(manager_client, rules):
    draft = RoutingExperimentFactory(name="Not yet", control_rule=rules[0], variant_rule=rules[1])
    response = run_action(manager_client, "stop_experiments", draft)
    assert flash(response) == ["'Not yet' (Draft) is not running: there is nothing to stop."]


def test_a_started_experiment_keeps_its_split(manager_client, rules):
    control, variant = rules
    experiment = RoutingExperimentFactory(control_rule=control, variant_rule=variant, test_share=50)
    run_action(manager_client, "start_experiments", experiment)
    other = RoutingRuleFactory(name="Someone else", target_team=variant.target_team)

    change_url = reverse("admin:routing_routingexperiment_change", args=[experiment.pk])
    page = manager_client.get(change_url).content.decode()
    assert 'name="test_share"' not in page and 'name="control_rule"' not in page
    response = manager_client.post(change_url, {"name": "Renamed", "hypothesis": "", "control_rule": other.pk,
                                                "variant_rule": other.pk, "test_share": "90"})
    assert response.status_code == 302, form_errors(response)
    experiment.refresh_from_db()
    assert (experiment.name, experiment.control_rule, experiment.variant_rule, experiment.test_share) == (
        "Renamed", control, variant, 50)


def test_the_list_links_each_experiment_to_its_results(manager_client, rules):
    experiment = RoutingExperimentFactory(name="Seniors first", control_rule=rules[0], variant_rule=rules[1])
    page = manager_client.get(CHANGELIST_URL).content.decode()
    assert "Seniors first" in page
    assert f'href="{reverse("routing:experiment_results", args=[experiment.pk])}"' in page


def test_a_rep_cannot_open_the_experiment_admin(client, rules):
    client.force_login(staff_user_in(REPS))
    assert client.get(CHANGELIST_URL).status_code == 403
    assert client.post(ADD_URL, experiment_form(*rules)).status_code == 403
    assert not RoutingExperiment.objects.exists()


def test_a_rule_in_an_experiment_cannot_be_deleted_and_the_admin_says_why(manager_client, rules):
    control, variant = rules
    RoutingExperimentFactory(name="Seniors first", control_rule=control, variant_rule=variant)
    response = manager_client.post(reverse("admin:routing_routingrule_delete", args=[variant.pk]), {"post": "yes"})
    assert response.status_code == 200
    text = response.content.decode()
    assert "Cannot delete routing rule" in text and "Seniors first" in text
    assert RoutingRule.objects.filter(pk=variant.pk).exists()
