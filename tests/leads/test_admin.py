"""The lead and account admin: the routing audit on a lead's page, list filters, account domains."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from leads.models import Account, AccountDomain, ApiToken
from leads.domains import FREE_MAIL_DOMAINS
from leads.normalise import company_domain
from tests.admin_support import REPS, form_errors, formset_data, staff_user_in
from tests.factories import (
    AccountFactory,
    ApiTokenFactory,
    AssignmentFactory,
    LeadEventFactory,
    LeadFactory,
    RepFactory,
    RoutingDecisionFactory,
    RoutingRuleFactory,
    UserFactory,
    sales_manager,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client):
    client.force_login(sales_manager(is_staff=True, sees_every_team=True))
    return client


def lead_page(client, lead):
    return client.get(reverse("admin:leads_lead_change", args=[lead.pk]))


def inline(response, name):
    return next(i for i in response.context["inline_admin_formsets"] if i.formset.prefix == name)


def test_lead_page_shows_routing_decisions_newest_first_with_their_explanation(manager_client):
    lead = LeadFactory()
    rule = RoutingRuleFactory(name="DACH enterprise")
    older = RoutingDecisionFactory(lead=lead, outcome="unroutable", explanation="No rule matched.")
    newer = RoutingDecisionFactory(
        lead=lead, rule=rule, worker="worker-1", explanation="Rule DACH enterprise matched.\nChosen: least recently assigned."
    )
    response = lead_page(manager_client, lead)

    assert [form.instance for form in inline(response, "decisions").formset.forms] == [newer, older]
    page = response.content.decode()
    assert "Rule DACH enterprise matched.<br>Chosen: least recently assigned." in page
    assert "worker-1" in page


def test_lead_page_shows_assignment_history_and_timeline(manager_client):
    lead = LeadFactory()
    first_rep, second_rep = RepFactory(), RepFactory()
    manager = UserFactory(username="manager-on-duty")
    AssignmentFactory(
        lead=lead, rep=first_rep, is_current=False, ended_at=timezone.now(), reason="Round robin"
    )
    current = AssignmentFactory(lead=lead, rep=second_rep, kind="reassign", actor=manager, reason="No contact in 2 h")
    LeadEventFactory(lead=lead, kind="reassigned", message="Reassigned: no contact within the SLA.")
    response = lead_page(manager_client, lead)

    history = [form.instance for form in inline(response, "assignments").formset.forms]
    assert history[0] == current and len(history) == 2
    page = response.content.decode()
    assert "No contact in 2 h" in page and "manager-on-duty" in page
    assert "Reassigned: no contact within the SLA." in page


def test_audit_on_the_lead_page_cannot_be_edited(manager_client):
    lead = LeadFactory()
    RoutingDecisionFactory(lead=lead)
    response = lead_page(manager_client, lead)
    for name in ("decisions", "assignments", "events"):
        formset = inline(response, name)
        assert not formset.has_add_permission and not formset.has_change_permission
        assert not formset.has_delete_permission
    assert "owner" in response.context["adminform"].readonly_fields


def test_rep_sees_a_lead_without_the_routing_audit(client):
    user = staff_user_in(REPS)
    client.force_login(user)
    lead = LeadFactory(owner=RepFactory(user=user))  # a rep sees only their own leads, here as on the queue
    RoutingDecisionFactory(lead=lead, explanation="Internal reasoning")
    response = lead_page(client, lead)
    assert response.status_code == 200
    assert "Internal reasoning" not in response.content.decode()


def test_lead_list_filters_by_score_band_and_searches_company(manager_client):
    hot = LeadFactory(score=90, company="Hot Leads GmbH")
    LeadFactory(score=10, company="Cold Calls Ltd")
    url = reverse("admin:leads_lead_changelist")

    assert list(manager_client.get(url, {"score_band": "75+"}).context["cl"].result_list) == [hot]
    assert list(manager_client.get(url, {"q": "hot leads"}).context["cl"].result_list) == [hot]


def test_lead_list_filters_by_status_country_and_creation_date(manager_client):
    german = LeadFactory(country="DE", status="assigned")
    LeadFactory(country="FR", status="assigned")
    url = reverse("admin:leads_lead_changelist")
    since = (timezone.now() - dt.timedelta(days=1)).isoformat()

    response = manager_client.get(url, {"country": "DE", "status__exact": "assigned", "created_at__gte": since})
    assert list(response.context["cl"].result_list) == [german]


def account_form(domains, name="Acme", **fields):
    return {
        "name": name,
        "parent": "",
        "owner": "",
        **fields,
        **formset_data("domains", [{"domain": domain} for domain in domains]),
    }


def test_account_domains_are_stored_normalised(manager_client):
    response = manager_client.post(reverse("admin:leads_account_add"), account_form(["https://www.Acme.com/about"]))
    assert response.status_code == 302, form_errors(response)
    assert list(AccountDomain.objects.values_list("domain", flat=True)) == ["acme.com"]


def test_the_same_domain_written_twice_is_refused(manager_client):
    response = manager_client.post(reverse("admin:leads_account_add"), account_form(["acme.com", "www.acme.com"]))
    assert response.status_code == 200
    assert "duplicate" in form_errors(response)
    assert not Account.objects.exists()


def test_invalid_domain_is_refused_with_an_example(manager_client):
    response = manager_client.post(reverse("admin:leads_account_add"), account_form(["acme corp"]))
    assert "such as acme.com" in form_errors(response)
    assert not Account.objects.exists()


def test_a_free_mail_domain_is_refused_on_an_account_with_why(manager_client):
    response = manager_client.post(reverse("admin:leads_account_add"), account_form(["acme.com", "Gmail.com"]))
    assert response.status_code == 200
    assert ("gmail.com is a free email provider: anyone can have an address there, so it cannot tell which account "
            "a lead belongs to." in form_errors(response))
    assert not Account.objects.exists() and not AccountDomain.objects.exists()


def test_a_company_the_free_mail_list_names_can_be_taken_off_it(manager_client, settings):
    assert "sky.com" in FREE_MAIL_DOMAINS
    settings.ACCOUNT_DOMAINS_NOT_FREE_MAIL = frozenset({"sky.com"})

    response = manager_client.post(reverse("admin:leads_account_add"), account_form(["sky.com"], name="Sky UK"))

    assert response.status_code == 302, form_errors(response)
    assert AccountDomain.objects.get().domain == "sky.com"
    assert company_domain(website="", email="anna@sky.com") == "sky.com"
    assert company_domain(website="", email="anna@gmail.com") == ""


def test_account_parent_cycle_is_refused(manager_client):
    group = AccountFactory(name="Acme Group")
    subsidiary = AccountFactory(name="Acme GmbH", parent=group)
    response = manager_client.post(
        reverse("admin:leads_account_change", args=[group.pk]),
        account_form([], name="Acme Group", parent=subsidiary.pk),
    )
    assert "Acme GmbH is already a subsidiary of Acme Group" in form_errors(response)
    group.refresh_from_db()
    assert group.parent is None


def test_reading_routing_results_is_off_for_new_tokens_and_allowed_per_token_in_the_admin(client):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))

    client.post(reverse("admin:leads_apitoken_add"), {"name": "Chat widget", "source": "chat"})
    client.post(reverse("admin:leads_apitoken_add"), {"name": "CRM sync", "source": "crm", "can_read_routing": "on"})
    existing = ApiTokenFactory(name="Ads", source="ads")
    response = client.post(reverse("admin:leads_apitoken_change", args=[existing.pk]),
                           {"name": "Ads", "source": "ads", "can_read_routing": "on"})

    assert response.status_code == 302
    assert dict(ApiToken.objects.values_list("name", "can_read_routing")) == {
        "Chat widget": False, "CRM sync": True, "Ads": True}


def lead_row(html, lead):
    """The cells of the lead's row in the admin list, as text."""
    row = re.search(rf'<tr>((?:(?!</tr>).)*?/admin/leads/lead/{lead.pk}/change/.*?)</tr>', html, re.S).group(1)
    return [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]


@pytest.mark.parametrize(("language", "shown"), [
    ("en", ["Assigned", "France", "Select this object for an action"]),
    ("de", ["Zugewiesen", "Frankreich", "Dieses Objekt für eine Aktion auswählen"]),
])
def test_lead_list_names_each_leads_status_and_country_in_the_readers_language(manager_client, language, shown):
    lead = LeadFactory(first_name="Olga", last_name="Berg", company="Kunde SA", country="FR", status="assigned",
                       source="web", score=61)
    nowhere = LeadFactory(first_name="Piet", last_name="Smit", country="", status="assigned")

    html = manager_client.get(reverse("admin:leads_lead_changelist"),
                              headers={"Accept-Language": language}).content.decode()

    status, country, select = shown
    assert lead_row(html, lead)[:8] == ["", "Olga Berg", "Kunde SA", status, "-", country, "web", "61"]
    assert lead_row(html, nowhere)[5] == "-"  # no country
    # The row's checkbox selects the lead for an action, and says which lead to a screen reader.
    assert (f'<input type="checkbox" name="_selected_action" value="{lead.pk}" class="action-select" '
            f'aria-label="{select} - Olga Berg">') in html
