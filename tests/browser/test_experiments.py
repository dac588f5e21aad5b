"""End to end in Chromium: a manager sets up an A/B experiment in the admin, starts it, reads the results, crowns the variant."""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from routing.models import RoutingExperiment, RoutingRule
from routing.services import route_pending_leads
from tests.browser.conftest import log_in
from tests.factories import LeadFactory, RoutingRuleFactory, TeamFactory, UserFactory, rep_named

pytestmark = pytest.mark.django_db(transaction=True)


def choose_in_autocomplete(page, field, text):
    """Django's autocomplete widget: open it, type, pick the matching option."""
    page.locator(f"#id_{field} + .select2").click()
    page.locator(".select2-search__field").fill(text)
    page.locator(".select2-results__option", has_text=text).click()


def test_a_manager_runs_an_experiment_and_makes_the_test_variant_the_default(new_page, live_server):
    everyone, seniors = TeamFactory(name="Everyone"), TeamFactory(name="Seniors")
    rep_named("Anna", teams=[everyone]), rep_named("Sara", teams=[seniors])
    RoutingRuleFactory(name="Enterprise", target_team=everyone)
    RoutingRuleFactory(name="Senior pool", target_team=seniors, is_active=False)
    manager = UserFactory(username="maria", first_name="Maria", last_name="Rossi", is_staff=True)
    manager.groups.add(Group.objects.get(name="Sales managers"))
    page = new_page()
    log_in(page, live_server, username="maria", admin=True)

    page.goto(f"{live_server.url}/admin/routing/routingexperiment/add/")
    page.get_by_label("Name:").fill("Senior reps for enterprise")
    choose_in_autocomplete(page, "control_rule", "Enterprise")
    choose_in_autocomplete(page, "variant_rule", "Senior pool")
    page.get_by_label("Test group share (%):").fill("50")
    page.locator("input[name=_save]").click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")

    row = page.locator("#result_list tbody tr", has_text="Senior reps for enterprise")
    row.locator("input[type=checkbox]").check()
    page.locator("select[name=action]").select_option("start_experiments")
    page.locator("button[name=index]").click()
    expect(page.locator(".messagelist")).to_contain_text("1 experiment started")

    LeadFactory.create_batch(20)
    route_pending_leads(limit=100, worker="test")  # no RQ worker runs here
    page.locator("#result_list tbody tr", has_text="Senior reps for enterprise").get_by_role("link", name="Results").click()
    expect(page.locator("h1")).to_contain_text("Senior reps for enterprise")
    groups = page.locator("table tbody tr")
    expect(groups.nth(0)).to_contain_text("Control (50%)")
    expect(groups.nth(1)).to_contain_text("Test (50%)")
    expect(groups.nth(1)).to_contain_text("Senior pool")

    page.get_by_role("button", name="Make the test variant the default").click()
    expect(page.locator(".messages")).to_contain_text("Rule 'Enterprise' now assigns like 'Senior pool'")
    assert RoutingRule.objects.get(name="Enterprise").target_team == seniors
    assert RoutingExperiment.objects.get().status == RoutingExperiment.Status.WINNER_CHOSEN
