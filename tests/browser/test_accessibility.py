"""WCAG 2.1 AA in Chromium: axe-core on every app page, the admin rule editor and the public intake form, in English
and German; a keyboard walk through the intake form.

axe-core is vendored (tests/browser/vendor/axe-core, see its README): nothing is downloaded at test time. It is
injected through the DevTools protocol (page.evaluate), which the site's Content-Security-Policy does not block, so
the pages are checked with their real CSP.
"""

from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from leads.models import Lead
from tests.browser.conftest import log_in_any_language as log_in
from tests.factories import (
    IntakeFormFactory, LeadFactory, PoolFactory, RoutingRuleFactory, RuleConditionFactory, TeamFactory, UserFactory,
    rep_named,
)

pytestmark = pytest.mark.django_db(transaction=True)

AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
LANGUAGES = ["en", "de"]


def axe_findings(page) -> list:
    """The serious and critical WCAG 2.1 A/AA violations axe finds on the page, one line each."""
    page.evaluate(AXE_SOURCE)
    results = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_21_AA)
    return [f"{violation['id']} ({violation['impact']}): {violation['help']} at "
            f"{[node['target'] for node in violation['nodes']][:5]}"
            for violation in results["violations"] if violation["impact"] in ("serious", "critical")]


@pytest.fixture
def office():
    """A team with a manager, two reps, leads in a queue and in a pool, an inactive rule and an intake form."""
    team = TeamFactory(name="Inside sales")
    anna, ben = rep_named("Anna", teams=[team]), rep_named("Ben", teams=[team])
    manager = UserFactory(username="maria", first_name="Maria", last_name="Rossi", is_staff=True)
    manager.groups.add(Group.objects.get(name="Sales managers"))
    team.managers.add(manager)
    rule = RoutingRuleFactory(name="Web leads", target_team=team)
    RuleConditionFactory(rule=rule, field="country", operator="equals", value="DE")
    RoutingRuleFactory(name="Draft: seniors", target_team=team, is_active=False)
    for first_name in ("Giulia", "Hans"):
        LeadFactory(first_name=first_name, last_name="Test", owner=anna, status=Lead.Status.ASSIGNED,
                    deal_value=Decimal("324960"), routing_requested_at=None)
    LeadFactory(owner=ben, status=Lead.Status.ACCEPTED, routing_requested_at=None)
    pool = PoolFactory(name="Overflow")
    pool.reps.add(anna)
    LeadFactory(first_name="Pia", last_name="Pool", pool=pool, status=Lead.Status.NEW, routing_requested_at=None)
    IntakeFormFactory(slug="contact", name="Contact us", fields=["first_name", "email", "company", "country"],
                      required_fields=["email", "company"], help_texts={"email": "We answer within a day."})
    return {"rule": rule, "lead": Lead.objects.filter(owner=anna).first()}


def assert_no_findings(page, where):
    findings = axe_findings(page)
    assert not findings, f"{where}:\n" + "\n".join(findings)


@pytest.mark.parametrize("language", LANGUAGES)
def test_rep_and_manager_pages_have_no_serious_axe_findings(page_in, live_server, office, language):
    rep = page_in(language)
    log_in(rep, live_server, username="anna")
    for path in ("/queue/", "/queue/pool/", f"/leads/{office['lead'].pk}/"):
        rep.goto(f"{live_server.url}{path}")
        assert_no_findings(rep, f"{path} ({language})")

    manager = page_in(language)
    log_in(manager, live_server, username="maria")
    for path in ("/dashboard/", f"/leads/{office['lead'].pk}/", "/reassignments/"):
        manager.goto(f"{live_server.url}{path}")
        assert_no_findings(manager, f"{path} ({language})")


@pytest.mark.parametrize("language", LANGUAGES)
def test_intake_pages_have_no_serious_axe_findings(page_in, live_server, office, language):
    page = page_in(language)
    page.goto(f"{live_server.url}/f/contact/")
    assert_no_findings(page, f"empty intake form ({language})")

    page.locator("#id_email").fill("not an email")
    page.locator("form button[type=submit]").click()
    expect(page.locator("#error-summary")).to_be_visible()
    assert_no_findings(page, f"intake form with errors ({language})")

    page.locator("#id_email").fill("giulia@bianchi.example")
    page.locator("#id_company").fill("Bianchi SpA")
    page.locator("form button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("Contact us")
    assert page.url.endswith("/f/contact/thanks/") or "/thanks/" in page.url
    assert_no_findings(page, f"thank-you page ({language})")


@pytest.mark.parametrize("language", LANGUAGES)
def test_admin_rule_editor_and_simulation_have_no_serious_axe_findings(page_in, live_server, office, language):
    page = page_in(language)
    log_in(page, live_server, username="maria", admin=True)
    page.goto(f"{live_server.url}/admin/routing/routingrule/{office['rule'].pk}/change/")
    assert_no_findings(page, f"rule change form ({language})")
    page.goto(f"{live_server.url}/admin/routing/routingrule/add/")
    assert_no_findings(page, f"rule add form ({language})")
    page.goto(f"{live_server.url}/admin/routing/routingrule/simulate/")
    assert_no_findings(page, f"simulate form ({language})")


def test_queue_action_buttons_are_named_after_their_lead(page_in, live_server, office):
    page = page_in("en")
    log_in(page, live_server, username="anna")
    page.goto(f"{live_server.url}/queue/")
    expect(page.get_by_role("button", name="Accept Giulia Test", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Accept Hans Test", exact=True)).to_be_visible()


def test_a_keyboard_user_fills_the_intake_form_and_lands_on_the_error_summary(page_in, live_server, office):
    page = page_in("en")
    page.goto(f"{live_server.url}/f/contact/")
    labels_in_tab_order = []
    for _ in range(4):
        page.keyboard.press("Tab")
        labels_in_tab_order.append(page.evaluate("document.activeElement.labels[0].textContent.trim()"))
    assert labels_in_tab_order == ["First name", "Email *", "Company *", "Country"]

    page.keyboard.type("Germany")  # Country; Email and Company, both required, stay empty
    page.keyboard.press("Tab")
    expect(page.locator("form button[type=submit]")).to_be_focused()
    page.keyboard.press("Enter")

    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    links = summary.get_by_role("link")
    expect(links).to_have_count(2)
    expect(links.nth(0)).to_contain_text("Email")
    expect(links.nth(1)).to_contain_text("Company")

    email = page.locator("#id_email")
    expect(email).to_have_attribute("aria-invalid", "true")
    described_by = email.get_attribute("aria-describedby").split()
    assert described_by == ["id_email_helptext", "id_email_error"]
    for element_id in described_by:
        expect(page.locator(f"#{element_id}")).to_be_attached()
    expect(page.locator("[role=alert]")).to_have_count(0)

    page.keyboard.press("Tab")  # from the summary to its first link, which takes the keyboard to the field
    expect(links.nth(0)).to_be_focused()
    page.keyboard.press("Enter")
    expect(email).to_be_focused()
