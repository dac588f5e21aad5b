"""In Chromium: a manager tries a draft rule on past leads, then moves the rules to another install as a file."""

import json

import pytest
from playwright.sync_api import expect

from leads.models import Lead
from routing.models import RoutingDecision, RoutingRule
from routing.services import route_pending_leads
from tests.browser.conftest import log_in
from tests.factories import (
    LeadFactory,
    RoutingRuleFactory,
    RuleConditionFactory,
    TeamFactory,
    rep_named,
    sales_manager,
)
from tests.routing.support import work_the_simulations_queue

pytestmark = pytest.mark.django_db(transaction=True)


def manager():
    return sales_manager(username="maria", first_name="Maria", last_name="Rossi", is_staff=True, sees_every_team=True)


@pytest.fixture
def routed_org():
    everyone, germany = TeamFactory(name="Everyone"), TeamFactory(name="Germany desk")
    rep_named("Anna", teams=[everyone])
    rep_named("Dieter", teams=[germany])
    RoutingRuleFactory(name="Everyone else", priority=20, target_team=everyone)
    draft = RoutingRuleFactory(name="German leads", priority=10, target_team=germany, is_active=False)
    RuleConditionFactory(rule=draft, field="country", operator="equals", value="DE")
    LeadFactory.create_batch(2, country="DE")
    LeadFactory(country="FR")
    route_pending_leads(limit=10, worker="test")
    return draft


def test_a_manager_simulates_a_draft_rule_and_nothing_changes_for_real(new_page, live_server, routed_org,
                                                                      redis_connection):
    manager()
    page = new_page()
    log_in(page, live_server, username="maria", admin=True)
    page.goto(f"{live_server.url}/admin/routing/routingrule/")
    page.get_by_role("link", name="Simulate").click()

    page.get_by_label("German leads").check()
    page.get_by_role("button", name="Simulate").click()
    expect(page.locator("#simulation-status")).to_contain_text("Waiting for a worker")
    work_the_simulations_queue()

    # The page reloads itself until the results are there.
    expect(page.locator("#simulation-summary")).to_contain_text("2 leads would change owner")
    changes = page.locator("#simulation-changes tbody tr")
    expect(changes).to_have_count(2)
    expect(changes.first).to_contain_text("Everyone else → German leads")
    expect(changes.first).to_contain_text("Dieter")
    assert set(Lead.objects.values_list("owner__user__first_name", flat=True)) == {"Anna"}
    assert RoutingDecision.objects.count() == 3


def test_a_manager_exports_the_rules_edits_the_file_and_imports_it_after_a_preview(
    new_page, live_server, routed_org, tmp_path
):
    manager()
    page = new_page()
    log_in(page, live_server, username="maria", admin=True)
    page.goto(f"{live_server.url}/admin/routing/routingrule/")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export configuration").click()
    exported = json.loads(download.value.path().read_text())
    assert [rule["name"] for rule in exported["rules"]] == ["German leads", "Everyone else"]

    for rule in exported["rules"]:
        if rule["name"] == "German leads":
            rule["is_active"] = True
    edited = tmp_path / "routing.json"
    edited.write_text(json.dumps(exported, indent=2))
    page.get_by_role("link", name="Import configuration").click()
    page.get_by_label("configuration file").set_input_files(str(edited))
    page.get_by_role("button", name="Upload and preview").click()

    expect(page.locator("#content")).to_contain_text("German leads")
    assert RoutingRule.objects.get(name="German leads").is_active is False  # a preview saves nothing
    page.get_by_role("button", name="Apply these changes").click()
    expect(page.locator("#content")).to_contain_text("was imported")
    assert RoutingRule.objects.get(name="German leads").is_active is True
