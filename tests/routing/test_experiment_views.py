"""An A/B experiment's results page: each group's figures, the comparison, making the test variant the default."""

import datetime as dt
import re
from html import unescape

import pytest
import time_machine
from django.contrib.auth.models import Group as AuthGroup
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from leads.models import Lead
from routing.experiments import experiment_start, experiment_stop
from routing.models import RoutingDecision, RoutingExperiment, RoutingRule
from routing.services import route_pending_leads
from tests.factories import (
    LeadFactory,
    RoutingExperimentFactory,
    RoutingRuleFactory,
    TeamFactory,
    rep_named,
    sales_manager,
)

pytestmark = pytest.mark.django_db
Group, Status = RoutingExperiment.Group, RoutingExperiment.Status
STARTED = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
CREATED = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def experiment():
    everyone, seniors = TeamFactory(name="Everyone"), TeamFactory(name="Seniors")
    rep_named("Anna", teams=[everyone]), rep_named("Sara", teams=[seniors])
    control = RoutingRuleFactory(name="Enterprise", target_team=everyone)
    variant = RoutingRuleFactory(name="Senior pool", target_team=seniors, is_active=False,
                                 strategy=RoutingRule.Strategy.LEAST_LOADED)
    experiment = RoutingExperimentFactory(name="Senior reps for enterprise", control_rule=control,
                                          variant_rule=variant, hypothesis="Seniors close more enterprise deals.")
    with time_machine.travel(STARTED, tick=False):
        experiment_start(experiment_id=experiment.pk, actor=None)
    experiment.refresh_from_db()
    return experiment


@pytest.fixture
def manager_client(client):
    client.force_login(sales_manager(username="maria", first_name="Maria", last_name="Manager", is_staff=True,
                                    sees_every_team=True))
    return client


def results_url(experiment):
    return reverse("routing:experiment_results", args=[experiment.pk])


def winner_url(experiment):
    return reverse("routing:experiment_make_variant_default", args=[experiment.pk])


def page_text(response) -> str:
    """The page as a reader sees it: tags dropped, white space collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def flash(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def seed_group(experiment, group, *, leads, assigned, contacted, converted, minutes_to_touch):
    """Leads the experiment put in `group`: the first `assigned` reached a rep, the first `contacted` were touched
    `minutes_to_touch` after they came in, and the first `converted` of those converted."""
    with time_machine.travel(CREATED, tick=False):
        rows = LeadFactory.create_batch(leads, routing_requested_at=None)
    RoutingDecision.objects.bulk_create([
        RoutingDecision(lead=lead, outcome=RoutingDecision.Outcome.ASSIGNED, explanation="Seeded.",
                        experiment=experiment, experiment_group=group)
        for lead in rows
    ])
    ids = [lead.pk for lead in rows]
    Lead.objects.filter(pk__in=ids[:assigned]).update(status=Lead.Status.ASSIGNED, assigned_at=CREATED)
    Lead.objects.filter(pk__in=ids[:contacted]).update(
        status=Lead.Status.CONTACTED, first_touch_at=CREATED + dt.timedelta(minutes=minutes_to_touch))
    Lead.objects.filter(pk__in=ids[:converted]).update(status=Lead.Status.CONVERTED)


def test_the_results_page_shows_each_groups_figures_and_the_comparison(manager_client, experiment):
    seed_group(experiment, Group.CONTROL, leads=40, assigned=36, contacted=20, converted=4, minutes_to_touch=10)
    seed_group(experiment, Group.TEST, leads=40, assigned=40, contacted=30, converted=10, minutes_to_touch=5)
    # Another experiment's leads stay out of these figures.
    seed_group(RoutingExperimentFactory(), Group.TEST, leads=5, assigned=5, contacted=5, converted=5,
               minutes_to_touch=1)

    response = manager_client.get(results_url(experiment))

    assert response.status_code == 200
    text = page_text(response)
    assert "Experiment “Senior reps for enterprise”" in text and "Running" in text
    assert "Seniors close more enterprise deals." in text
    assert "Control (50%) Enterprise 40 36 20 10 min 4 10.0%" in text
    assert "Test (50%) Senior pool 40 40 30 5 min 10 25.0%" in text
    # 4/40 vs 10/40: pooled 14/80 = 0.175, z = 0.15 / sqrt(0.175 * 0.825 * 2/40) = 1.7655, p = 0.0775.
    # Needed per group for 10% vs 25% at 80% power: (1.96 * sqrt(2 * .175 * .825) + .8416 * sqrt(.09 + .1875))^2
    # / .15^2 = 99.5, so 100; the groups have 40 each.
    assert "Not significant yet (p = 0.077); about 60 more leads per group needed to detect this difference." in text
    assert "z = 1.77, p = 0.0775" in text


def test_a_significant_difference_is_called_with_the_better_group(manager_client, experiment):
    seed_group(experiment, Group.CONTROL, leads=300, assigned=300, contacted=100, converted=30, minutes_to_touch=10)
    seed_group(experiment, Group.TEST, leads=300, assigned=300, contacted=100, converted=54, minutes_to_touch=10)
    # 30/300 vs 54/300: pooled 0.14, z = 0.08 / sqrt(0.14 * 0.86 * 2/300) = 2.8237, p = 0.0047.
    assert "Test converts better: 18.0% vs 10.0%, p = 0.005." in page_text(manager_client.get(results_url(experiment)))


def test_a_new_experiment_says_there_is_nothing_to_compare_yet(manager_client, experiment):
    text = page_text(manager_client.get(results_url(experiment)))
    assert "Control (50%) Enterprise 0 0 0 — 0 —" in text
    assert "Not enough leads yet: both groups need leads before they can be compared." in text


def test_routed_leads_appear_in_their_groups(manager_client, experiment):
    leads = LeadFactory.create_batch(30)
    route_pending_leads(limit=100, worker="test")
    groups = dict(RoutingDecision.objects.values_list("lead_id", "experiment_group"))
    test_count = sum(1 for lead in leads if groups[lead.pk] == Group.TEST)

    text = page_text(manager_client.get(results_url(experiment)))

    assert f"Control (50%) Enterprise {30 - test_count} {30 - test_count} 0 — 0 0.0%" in text
    assert f"Test (50%) Senior pool {test_count} {test_count} 0 — 0 0.0%" in text


def test_making_the_test_variant_the_default_changes_the_rule_and_ends_the_experiment(manager_client, experiment):
    assert "Make the test variant the default" in page_text(manager_client.get(results_url(experiment)))

    with time_machine.travel(dt.datetime(2026, 4, 1, 12, 0, tzinfo=dt.UTC), tick=False):
        response = manager_client.post(winner_url(experiment), follow=True)

    assert flash(response) == ["Rule 'Enterprise' now assigns like 'Senior pool'; the experiment is over."]
    text = page_text(response)
    assert "Winner chosen" in text
    assert ("Started March 1, 2026, 8 a.m. Ended April 1, 2026, noon "
            "Test variant made the default April 1, 2026, noon by Maria Manager") in text
    assert "Make the test variant the default" not in text
    control = RoutingRule.objects.get(pk=experiment.control_rule_id)
    assert (control.target_team.name, control.strategy) == ("Seniors", RoutingRule.Strategy.LEAST_LOADED)
    experiment.refresh_from_db()
    assert experiment.status == Status.WINNER_CHOSEN
    assert experiment.ended_at == dt.datetime(2026, 4, 1, 12, 0, tzinfo=dt.UTC)
    assert experiment.winner_chosen_by.username == "maria"
    lead = LeadFactory()
    route_pending_leads(limit=10, worker="test")
    assert Lead.objects.get(pk=lead.pk).owner.name == "Sara"


def test_a_winner_cannot_be_chosen_twice(manager_client, experiment):
    manager_client.post(winner_url(experiment), follow=True)
    response = manager_client.post(winner_url(experiment), follow=True)
    assert response.status_code == 200
    assert flash(response) == ["'Senior reps for enterprise' already has its winner: the test variant is the default."]


def test_a_stopped_experiment_can_still_crown_its_variant(manager_client, experiment):
    experiment_stop(experiment_id=experiment.pk, actor=None)
    assert "Make the test variant the default" in page_text(manager_client.get(results_url(experiment)))
    response = manager_client.post(winner_url(experiment), follow=True)
    assert "Winner chosen" in page_text(response)


def test_choosing_a_winner_needs_a_post(manager_client, experiment):
    assert manager_client.get(winner_url(experiment)).status_code == 405
    assert RoutingExperiment.objects.get(pk=experiment.pk).status == Status.RUNNING


def test_a_rep_cannot_open_the_results_nor_choose_a_winner(client, experiment):
    client.force_login(rep_named("Rita").user)
    assert client.get(results_url(experiment)).status_code == 403
    assert client.post(winner_url(experiment)).status_code == 403
    assert RoutingExperiment.objects.get(pk=experiment.pk).status == Status.RUNNING


def test_the_results_need_a_login(client, experiment):
    response = client.get(results_url(experiment))
    assert response.status_code == 302 and reverse("routing:login") in response["Location"]


def test_an_unknown_experiment_is_not_found(manager_client):
    assert manager_client.get(reverse("routing:experiment_results", args=[999_999])).status_code == 404
    assert manager_client.post(reverse("routing:experiment_make_variant_default", args=[999_999])).status_code == 404


def test_a_manager_who_may_not_change_rules_sees_the_results_but_cannot_choose_a_winner(client, experiment):
    # An organisation may take "change routing rule" away from its sales managers.
    AuthGroup.objects.get(name="Sales managers").permissions.remove(
        Permission.objects.get(content_type__app_label="routing", codename="change_routingrule"))
    client.force_login(sales_manager(username="viewer"))

    text = page_text(client.get(results_url(experiment)))

    assert "Senior reps for enterprise" in text and "Make the test variant the default" not in text
    assert client.post(winner_url(experiment)).status_code == 403
    assert RoutingRule.objects.get(pk=experiment.control_rule_id).target_team.name == "Everyone"
