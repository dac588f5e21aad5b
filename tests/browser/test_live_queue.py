"""In Chromium: the queue refreshing itself, a note landing on the lead the rep means, the pool and the pages on a phone."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leads.models import Lead, LeadEvent
from tests.browser.conftest import TIMEOUT_MS, log_in
from tests.factories import LeadFactory, PoolFactory, TeamFactory, rep_named, sales_manager

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = {"width": 390, "height": 844}


def open_leads(rep, *first_names):
    now = timezone.now()
    return [LeadFactory(owner=rep, status=Lead.Status.ASSIGNED, routing_requested_at=None, first_name=name,
                        last_name="Open", assigned_at=now - dt.timedelta(hours=1),
                        sla_due_at=now + dt.timedelta(hours=n + 1)) for n, name in enumerate(first_names)]


def csp_errors(page):
    errors = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text else None)
    return errors


def test_the_queue_shows_a_lead_routed_after_the_page_opened(new_page, live_server, settings):
    settings.LIVE_POLL_SECONDS = 1
    anna = rep_named("Anna")
    open_leads(anna, "Alpha")
    page = new_page()
    errors = csp_errors(page)
    log_in(page, live_server, username="anna")
    expect(page.locator("article.lead-card")).to_have_count(1)

    LeadFactory(owner=anna, status=Lead.Status.ASSIGNED, routing_requested_at=None, first_name="Fresh",
                last_name="Lead", assigned_at=timezone.now(), sla_due_at=timezone.now() + dt.timedelta(minutes=5))

    expect(page.locator(".new-leads")).to_contain_text("1 new lead arrived since you opened this page.")
    fresh = page.locator("article.lead-card", has_text="Fresh Lead")
    expect(fresh).to_contain_text("New")
    expect(page.locator("article.lead-card").first).to_contain_text("Fresh Lead")  # due first: on top
    assert errors == []  # htmx runs under the strict Content-Security-Policy


def test_a_note_after_marking_a_lead_contacted_lands_on_that_lead(new_page, live_server):
    """The reported bug: the contacted lead moved down, and "Note…" on the first card was the next lead's."""
    anna = rep_named("Anna")
    alpha, bravo, _ = open_leads(anna, "Alpha", "Bravo", "Charlie")
    page = new_page()
    log_in(page, live_server, username="anna")

    page.get_by_role("button", name="Mark contacted Alpha Open").click()
    expect(page.locator(".messages")).to_contain_text("Alpha Open marked contacted")

    # The contacted lead went below the untouched ones, and the page came back to its card, not to the top.
    expect(page.locator("article.lead-card").first).to_contain_text("Bravo Open")
    assert page.url.endswith(f"#lead-{alpha.pk}")
    assert page.evaluate("document.querySelector(':target').id") == f"lead-{alpha.pk}"
    card = page.locator(f"#lead-{alpha.pk}")
    card.get_by_text("Note…").click()
    page.get_by_label("Note on Alpha Open").fill("Called, sending the offer")
    card.get_by_role("button", name="Add note").click()

    expect(page.locator(".messages")).to_contain_text("Note added to Alpha Open.")
    notes = LeadEvent.objects.filter(kind=LeadEvent.Kind.NOTE)
    assert list(notes.values_list("lead_id", "message")) == [(alpha.pk, "Called, sending the offer")]
    assert not LeadEvent.objects.filter(kind=LeadEvent.Kind.NOTE, lead=bravo).exists()


def test_the_queue_waits_while_the_rep_writes_a_note_then_catches_up(new_page, live_server, settings):
    settings.LIVE_POLL_SECONDS = 1
    anna = rep_named("Anna")
    (alpha,) = open_leads(anna, "Alpha")
    page = new_page()
    log_in(page, live_server, username="anna")
    page.get_by_text("Note…").click()
    page.get_by_label("Note on Alpha Open").fill("Half written")

    LeadFactory(owner=anna, status=Lead.Status.ASSIGNED, routing_requested_at=None, first_name="Fresh",
                last_name="Lead", assigned_at=timezone.now(), sla_due_at=timezone.now() + dt.timedelta(minutes=5))
    page.wait_for_timeout(3000)  # three polls' time: each one skipped while the note is open

    expect(page.get_by_label("Note on Alpha Open")).to_have_value("Half written")
    expect(page.locator("article.lead-card")).to_have_count(1)
    page.get_by_text("Note…").click()  # closed: the next poll brings the new lead
    page.locator("body").click(position={"x": 5, "y": 5})
    expect(page.locator("article.lead-card")).to_have_count(2)


def phone_page(browser, live_server, username):
    context = browser.new_context(viewport=PHONE, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    log_in(page, live_server, username=username)
    return context, page


def page_width(page):
    return page.evaluate("document.documentElement.scrollWidth")


def test_the_pool_on_a_phone_shows_the_claim_button_and_it_works(browser, live_server):
    anna = rep_named("Anna")
    pool = PoolFactory(name="Inbound")
    pool.reps.add(anna)
    for n in range(3):
        LeadFactory(pool=pool, routing_requested_at=None, first_name=f"Waiting{n}", last_name="Lead",
                    company="A company with quite a long name GmbH & Co. KG")
    context, page = phone_page(browser, live_server, "anna")
    try:
        page.goto(f"{live_server.url}/queue/pool/")
        claim = page.get_by_role("button", name="Claim Waiting0 Lead")
        expect(claim).to_be_visible()
        box = claim.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert page_width(page) <= PHONE["width"]

        claim.click()

        expect(page.locator(".messages")).to_contain_text("Waiting0 Lead is yours now")
        assert Lead.objects.get(first_name="Waiting0").owner == anna
        assert page_width(page) <= PHONE["width"]
    finally:
        context.close()


def test_the_managers_pages_fit_a_phone(browser, live_server):
    team = TeamFactory(name="DACH")
    rep_named("Anna", teams=[team], max_open_leads=20, max_new_leads_per_day=10)
    sales_manager(manages=[team], username="maria", first_name="Maria", last_name="Rossi", is_staff=True)
    context, page = phone_page(browser, live_server, "maria")
    try:
        for path in ("/dashboard/", "/capacity/", "/reassignments/"):
            page.goto(f"{live_server.url}{path}")
            assert page_width(page) <= PHONE["width"], path
        nav_links = page.locator(".site-header nav ul a")
        for index in range(nav_links.count()):
            box = nav_links.nth(index).bounding_box()
            assert box["x"] + box["width"] <= PHONE["width"], nav_links.nth(index).inner_text()
    finally:
        context.close()
