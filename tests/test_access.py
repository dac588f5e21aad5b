"""Access boundaries, one test per door: who may see or change what, in the app, the API and the admin.

Which teams' data a manager sees, door by door, is in tests/test_team_scoping.py.
"""

import json

import pytest
from django.urls import reverse
from django.utils import timezone

from leads.models import Lead, LeadEvent
from tests.admin_support import REPS, SALES_MANAGERS, staff_user_in
from tests.factories import ApiTokenFactory, LeadFactory, PoolFactory, RepFactory, UserFactory, rep_named, sales_manager

pytestmark = pytest.mark.django_db

LIFECYCLE_POSTS = [("accept", {}), ("contacted", {}), ("qualified", {}), ("converted", {}),
                   ("lost", {"reason": "no budget"}), ("note", {"text": "mine now"})]
MANAGER_PAGES = ["routing:dashboard", "routing:reassignments", "routing:reassignments_csv"]
ADMIN_CONFIGURATION = [
    "/admin/routing/routingrule/", "/admin/routing/routingrule/add/", "/admin/routing/pool/",
    "/admin/routing/rulecondition/", "/admin/reps/team/", "/admin/reps/territory/", "/admin/reps/skill/",
    "/admin/reps/availabilitycalendar/", "/admin/leads/intakeform/", "/admin/leads/apitoken/",
    "/admin/leads/apitoken/add/", "/admin/auth/user/", "/admin/auth/group/",
]


@pytest.fixture
def anna():
    return rep_named("Anna")


@pytest.fixture
def ben():
    return rep_named("Ben")


def owned_lead(rep, **fields):
    return LeadFactory(owner=rep, status=Lead.Status.ASSIGNED, assigned_at=timezone.now(), **fields)


# --- The rep's pages -----------------------------------------------------------

def test_the_queue_shows_only_the_reps_own_leads(client, anna, ben):
    mine, theirs = owned_lead(anna, first_name="Mine"), owned_lead(ben, first_name="Theirs")
    client.force_login(anna.user)

    response = client.get(reverse("routing:queue"))

    assert [lead.pk for lead in response.context["leads"]] == [mine.pk]
    assert "Theirs" not in response.content.decode() and theirs.pk


def test_the_pool_tab_shows_only_pools_the_rep_may_claim_from(client, anna, ben):
    own_pool, other_pool = PoolFactory(), PoolFactory()
    own_pool.reps.add(anna)
    other_pool.reps.add(ben)
    waiting = LeadFactory(pool=own_pool, first_name="Claimable")
    LeadFactory(pool=other_pool, first_name="Elsewhere")
    client.force_login(anna.user)

    response = client.get(reverse("routing:pool"))

    assert [lead.pk for lead in response.context["leads"]] == [waiting.pk]
    assert "Elsewhere" not in response.content.decode()


def test_a_rep_cannot_open_another_reps_lead_page(client, anna, ben):
    lead = owned_lead(ben)
    client.force_login(anna.user)

    assert client.get(reverse("routing:lead_detail", args=[lead.pk])).status_code == 403


def test_a_user_who_is_neither_rep_nor_manager_sees_no_lead(client, anna):
    lead = owned_lead(anna)
    client.force_login(UserFactory())

    assert client.get(reverse("routing:lead_detail", args=[lead.pk])).status_code == 403
    assert client.get(reverse("routing:queue")).status_code == 403


@pytest.mark.parametrize("action, data", LIFECYCLE_POSTS)
def test_no_lifecycle_change_on_another_reps_lead(client, anna, ben, action, data):
    lead = owned_lead(ben)
    client.force_login(anna.user)

    response = client.post(reverse("routing:lead_action", args=[lead.pk, action]), data)

    assert response.status_code == 403
    lead.refresh_from_db()
    assert (lead.status, lead.owner) == (Lead.Status.ASSIGNED, ben)
    assert not LeadEvent.objects.filter(lead=lead).exists()


def test_a_manager_cannot_change_a_reps_lead_status_either(client, ben):
    # Managers reassign; the lifecycle belongs to the owner.
    lead = owned_lead(ben)
    client.force_login(sales_manager(sees_every_team=True))

    assert client.post(reverse("routing:lead_action", args=[lead.pk, "converted"])).status_code == 403
    assert Lead.objects.get(pk=lead.pk).status == Lead.Status.ASSIGNED


def test_claiming_from_a_pool_the_rep_does_not_belong_to_is_403_and_changes_nothing(client, anna, ben):
    pool = PoolFactory()
    pool.reps.add(ben)
    lead = LeadFactory(pool=pool)
    client.force_login(anna.user)

    assert client.post(reverse("routing:claim", args=[lead.pk])).status_code == 403
    lead.refresh_from_db()
    assert (lead.owner, lead.pool) == (None, pool)


def test_a_rep_cannot_reassign_a_lead(client, anna, ben):
    lead = owned_lead(ben)
    client.force_login(anna.user)

    response = client.post(reverse("routing:lead_reassign", args=[lead.pk]), {"to_rep": anna.pk, "reason": "mine"})

    assert response.status_code == 403
    assert Lead.objects.get(pk=lead.pk).owner == ben


@pytest.mark.parametrize("page", MANAGER_PAGES)
def test_manager_pages_and_the_csv_export_are_refused_to_reps(client, anna, page):
    client.force_login(anna.user)

    assert client.get(reverse(page)).status_code == 403


@pytest.mark.parametrize("page", MANAGER_PAGES)
def test_manager_pages_need_a_login(client, page):
    response = client.get(reverse(page))

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("page", MANAGER_PAGES)
def test_managers_and_superusers_open_the_manager_pages(client, page):
    for user in (sales_manager(), UserFactory(is_superuser=True, is_staff=True)):
        client.force_login(user)
        assert client.get(reverse(page)).status_code == 200


def test_org_wide_managers_and_superusers_open_any_lead_page(client, ben):
    lead = owned_lead(ben)
    for user in (sales_manager(sees_every_team=True), UserFactory(is_superuser=True, is_staff=True)):
        client.force_login(user)
        assert client.get(reverse("routing:lead_detail", args=[lead.pk])).status_code == 200


# --- The API -------------------------------------------------------------------

def api_get(client, token, lead_id):
    return client.get(f"/api/v1/leads/{lead_id}", headers={"Authorization": f"Bearer {token.secret}"})


def test_a_token_reads_leads_of_its_own_source_only(client):
    chat = ApiTokenFactory(source="chat", can_read_routing=True)
    ads = ApiTokenFactory(source="ads", can_read_routing=True)
    chat_lead, ads_lead = LeadFactory(source="chat"), LeadFactory(source="ads")

    assert api_get(client, chat, chat_lead.pk).status_code == 200
    response = api_get(client, chat, ads_lead.pk)
    assert response.status_code == 404 and str(ads_lead.email) not in json.dumps(response.json())
    assert api_get(client, ads, ads_lead.pk).status_code == 200


def test_a_revoked_token_is_401_on_both_endpoints(client):
    token = ApiTokenFactory(source="chat")
    lead = LeadFactory(source="chat")
    from leads.services import api_token_revoke

    api_token_revoke(token=token)

    assert api_get(client, token, lead.pk).status_code == 401
    response = client.post("/api/v1/leads", json.dumps({"email": "a@acme.de"}), content_type="application/json",
                           headers={"Authorization": f"Bearer {token.secret}"})
    assert response.status_code == 401 and not Lead.objects.filter(email="a@acme.de").exists()


# --- The admin -----------------------------------------------------------------

@pytest.mark.parametrize("url", ADMIN_CONFIGURATION)
def test_admin_configuration_is_refused_to_reps(client, url):
    client.force_login(staff_user_in(REPS))

    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", ADMIN_CONFIGURATION)
def test_admin_configuration_sends_anonymous_users_to_the_login(client, url):
    response = client.get(url)

    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("url", [url for url in ADMIN_CONFIGURATION if "/auth/" not in url])
def test_admin_configuration_is_open_to_managers(client, url):
    client.force_login(staff_user_in(SALES_MANAGERS))

    assert client.get(url).status_code == 200


def test_a_rep_in_the_admin_sees_only_their_own_leads(client):
    user = staff_user_in(REPS)
    rep, other = RepFactory(user=user), RepFactory()
    mine, theirs = owned_lead(rep), owned_lead(other)
    client.force_login(user)

    response = client.get("/admin/leads/lead/")

    assert response.status_code == 200
    assert [lead.pk for lead in response.context["cl"].result_list] == [mine.pk]
    assert client.get(f"/admin/leads/lead/{theirs.pk}/change/").status_code == 302  # "doesn't exist", back to the list


def test_an_org_wide_manager_in_the_admin_sees_every_lead(client, anna, ben):
    leads = {owned_lead(anna).pk, owned_lead(ben).pk, LeadFactory().pk}
    client.force_login(sales_manager(is_staff=True, sees_every_team=True))

    response = client.get("/admin/leads/lead/")

    assert {lead.pk for lead in response.context["cl"].result_list} == leads


def test_the_rq_dashboard_is_for_superusers_only(client):
    for user in (staff_user_in(REPS), staff_user_in(SALES_MANAGERS)):
        client.force_login(user)
        assert client.get("/django-rq/").status_code == 302  # to the admin login
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    assert client.get("/django-rq/").status_code == 200
