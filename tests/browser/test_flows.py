"""End to end in Chromium: a manager orders rules in the admin; a prospect's lead reaches a rep who works it."""

import time

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from leads.models import IntakeForm, Lead
from routing.models import RoutingRule
from routing.services import route_pending_leads
from tests.browser.conftest import log_in
from tests.factories import LeadFactory, RepFactory, RoutingRuleFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def first_rule_name():
    return RoutingRule.objects.order_by("priority", "pk").values_list("name", flat=True).first()


def manager(username="maria"):
    user = UserFactory(username=username, first_name="Maria", last_name="Rossi", is_staff=True)
    user.groups.add(Group.objects.get(name="Sales managers"))
    return user


def rep_named(name):
    return RepFactory(user=UserFactory(username=name.lower(), first_name=name, last_name="Rep"))


def test_a_manager_creates_a_rule_with_two_conditions_and_drags_it_to_the_top(new_page, live_server):
    RoutingRuleFactory(name="Existing customers", priority=10, target_type=RoutingRule.TargetType.NURTURE)
    RoutingRuleFactory(name="Everyone else", priority=20, target_type=RoutingRule.TargetType.NURTURE)
    manager()
    page = new_page()
    log_in(page, live_server, username="maria", admin=True)

    page.goto(f"{live_server.url}/admin/routing/routingrule/add/")
    page.get_by_label("Name:").fill("Big German leads")
    page.get_by_label("Priority:").fill("30")
    page.get_by_label("Assign to:").select_option("nurture")
    page.locator("#id_conditions-0-field").fill("country")
    page.locator("#id_conditions-0-operator").select_option("equals")
    page.locator("#id_conditions-0-value").fill("DE")
    page.locator("#conditions-group .add-row a").click()
    page.locator("#id_conditions-1-field").fill("score")
    page.locator("#id_conditions-1-operator").select_option("gte")
    page.locator("#id_conditions-1-value").fill("80")
    page.locator("input[name=_save]").click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    rule = RoutingRule.objects.get(name="Big German leads")
    assert sorted(rule.conditions.values_list("field", "operator", "value")) == [
        ("country", "equals", "DE"), ("score", "gte", "80")]

    rows = page.locator("#result_list tbody tr")
    expect(rows.last).to_contain_text("Big German leads")
    rows.last.locator(".handle").drag_to(rows.first.locator(".handle"))
    expect(rows.first).to_contain_text("Big German leads")

    # The new order is saved by a background request after the drop: wait for it to reach the database.
    deadline = time.monotonic() + 10
    while first_rule_name() != "Big German leads" and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert list(RoutingRule.objects.order_by("priority").values_list("name", flat=True)) == [
        "Big German leads", "Existing customers", "Everyone else"]


def test_a_prospects_lead_reaches_the_rep_who_sees_why_and_marks_it_contacted(new_page, live_server):
    anna = rep_named("Anna")
    RoutingRuleFactory(name="Web leads to Anna", target_type=RoutingRule.TargetType.REP, target_rep=anna)
    IntakeForm.objects.create(name="Contact us", slug="contact", fields=["first_name", "last_name", "email", "company"],
                              required_fields=["email"])
    prospect = new_page()
    prospect.goto(f"{live_server.url}/f/contact/")
    prospect.get_by_label("First name").fill("Giulia")
    prospect.get_by_label("Last name").fill("Bianchi")
    prospect.get_by_label("Email").fill("giulia@bianchi.example")
    prospect.get_by_label("Company").fill("Bianchi SpA")
    prospect.locator("form button[type=submit], form input[type=submit]").first.click()
    # The thank-you page, not just a loaded state: under load the click's navigation had not begun yet.
    expect(prospect).to_have_url(f"{live_server.url}/f/contact/thanks/")
    lead = Lead.objects.get(email="giulia@bianchi.example")
    # No RQ worker runs here: drain the routing queue as a worker would.
    route_pending_leads(limit=100, worker="test")

    page = new_page()
    log_in(page, live_server, username="anna")
    expect(page).to_have_url(f"{live_server.url}/queue/")
    card = page.locator("article.lead-card", has_text="Giulia Bianchi")
    expect(card).to_contain_text("Why you:")
    expect(card).to_contain_text("Web leads to Anna")
    card.get_by_role("button", name="Mark contacted").click()
    expect(page.locator(".messages")).to_contain_text("marked contacted")

    lead.refresh_from_db()
    assert lead.status == Lead.Status.CONTACTED and lead.first_touch_at is not None


def test_another_reps_lead_is_not_found_for_a_second_rep(new_page, live_server):
    anna, rep_named_ben = rep_named("Anna"), rep_named("Ben")
    lead = LeadFactory(owner=anna, status=Lead.Status.ASSIGNED, routing_requested_at=None)
    page = new_page()
    log_in(page, live_server, username=rep_named_ben.user.username)

    response = page.goto(f"{live_server.url}/leads/{lead.pk}/")

    assert response.status == 404
