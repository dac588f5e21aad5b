"""Browser protections on every page: the Content-Security-Policy, framing rules; the admin still renders under them."""

import pytest
from django.test import Client

from tests.admin_support import SALES_MANAGERS, staff_user_in
from tests.factories import IntakeFormFactory, LeadFactory, RoutingRuleFactory, UserFactory

pytestmark = pytest.mark.django_db


def policy(response) -> dict:
    directives = (part.strip().split() for part in response.headers["Content-Security-Policy"].split(";"))
    return {name: values for name, *values in directives}


def test_app_pages_allow_scripts_and_styles_from_our_origin_only(client):
    response = client.get("/accounts/login/")

    csp = policy(response)
    assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"] and csp["object-src"] == ["'none'"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_the_intake_form_stays_embeddable_and_has_no_inline_style():
    intake = IntakeFormFactory()

    response = Client().get(f"/f/{intake.slug}/")

    assert "X-Frame-Options" not in response.headers and "frame-ancestors" not in policy(response)
    html = response.content.decode()
    assert "<style" not in html and "<script>" not in html and "/static/leads/intake.css" in html


@pytest.mark.parametrize("url", [
    "/admin/", "/admin/routing/routingrule/", "/admin/routing/routingrule/add/", "/admin/leads/lead/",
    "/admin/reps/rep/", "/admin/leads/apitoken/add/",
])
def test_admin_pages_render_under_the_policy(client, url):
    RoutingRuleFactory()
    LeadFactory()
    client.force_login(staff_user_in(SALES_MANAGERS))

    response = client.get(url)

    assert response.status_code == 200 and "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "<script>" not in response.content.decode()  # an inline script would be blocked


def test_the_rq_dashboard_is_exempt_from_the_policy_for_its_inline_scripts(client):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))

    response = client.get("/django-rq/")

    assert response.status_code == 200 and "Content-Security-Policy" not in response.headers
