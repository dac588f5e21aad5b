"""Playwright on Debian's Chromium against pytest-django's live server; a screenshot in artifacts/ when a test fails.

Chromium comes from the system (`apt-get install chromium`, done by .ci/run); Playwright never downloads browsers here.
"""

import importlib
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

# Playwright's sync API runs an event loop in the test's thread; Django's ORM refuses to run
# "inside" it unless told that this is safe, which it is: the loop only drives the browser.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
TIMEOUT_MS = 15_000


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(autouse=True)
def permission_groups(transactional_db):
    """Each live-server test flushes the database, groups included: make them again as their migration does."""
    groups_migration = importlib.import_module("routing.migrations.0002_groups")
    groups_migration.create_groups(apps, SimpleNamespace(connection=connection))


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing; install it with: apt-get install -y chromium (see .ci/run)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, request):
    """Opens a page in a fresh browser context (its own cookies: one user each); screenshots them on failure."""
    contexts = []

    def open_page():
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        for index, context in enumerate(contexts):
            for number, page in enumerate(context.pages):
                page.screenshot(path=ARTIFACTS / f"{request.node.name}-{index}-{number}.png", full_page=True)
    for context in contexts:
        context.close()


def log_in(page, live_server, *, username, password="pass-1234", admin=False):
    page.goto(f"{live_server.url}{'/admin/login/' if admin else '/accounts/login/'}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def log_in_any_language(page, live_server, *, username, admin=False):
    """Logs in whatever the page's language (the fields by id, not by their translated labels)."""
    page.goto(f"{live_server.url}{'/admin/login/' if admin else '/accounts/login/'}")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill("pass-1234")
    page.locator("#id_password").press("Enter")
    page.wait_for_load_state()


@pytest.fixture
def page_in(browser, request):
    """A page whose browser asks for `language` (Accept-Language and the switcher's cookie)."""
    contexts = []

    def open_page(language):
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=language)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        context.add_cookies([{"name": "django_language", "value": language,
                              "url": request.getfixturevalue("live_server").url}])
        return page

    yield open_page
    for context in contexts:
        context.close()
