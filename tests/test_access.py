"""Access boundaries, one test per door: who may see or change what, in the app, the API and the admin.

Which teams' data a manager sees, door by door, is in tests/test_team_scoping.py.
"""

import json
import re

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from leads.models import Lead, LeadEvent
from tests.admin_support import REPS, SALES_MANAGERS, staff_user_in
from tests.factories import (
    ApiTokenFactory, LeadFactory, PoolFactory, RepFactory, TeamFactory, UserFactory, rep_named, sales_manager,
)

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


def test_another_reps_lead_page_is_not_found_for_a_rep(client, anna, ben):
    lead = owned_lead(ben)
    client.force_login(anna.user)

    assert client.get(reverse("routing:lead_detail", args=[lead.pk])).status_code == 404


def test_a_user_who_is_neither_rep_nor_manager_sees_no_lead(client, anna):
    lead = owned_lead(anna)
    client.force_login(UserFactory())

    assert client.get(reverse("routing:lead_detail", args=[lead.pk])).status_code == 404
    assert client.get(reverse("routing:queue")).status_code == 403


@pytest.mark.parametrize("action, data", LIFECYCLE_POSTS)
def test_no_lifecycle_change_on_another_reps_lead(client, anna, ben, action, data):
    lead = owned_lead(ben)
    client.force_login(anna.user)

    response = client.post(reverse("routing:lead_action", args=[lead.pk, action]), data)

    assert response.status_code == 404
    lead.refresh_from_db()
    assert (lead.status, lead.owner) == (Lead.Status.ASSIGNED, ben)
    assert not LeadEvent.objects.filter(lead=lead).exists()


def test_a_manager_cannot_change_a_reps_lead_status_either(client, ben):
    # Managers reassign; the lifecycle belongs to the owner.
    lead = owned_lead(ben)
    client.force_login(sales_manager(sees_every_team=True))

    assert client.post(reverse("routing:lead_action", args=[lead.pk, "converted"])).status_code == 403
    assert Lead.objects.get(pk=lead.pk).status == Lead.Status.ASSIGNED


def test_claiming_from_a_pool_the_rep_does_not_belong_to_changes_nothing(client, anna, ben):
    pool = PoolFactory()
    pool.reps.add(ben)
    lead = LeadFactory(pool=pool)
    client.force_login(anna.user)

    response = client.post(reverse("routing:claim", args=[lead.pk]))

    assert response["Location"] == reverse("routing:pool")  # as for a lead another rep took first
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


# --- Lead ids: someone else's lead answers exactly like a missing one -------------------------------

# Every request that names a lead by id: (id, method, view, action, data), with data a form refuses and data it takes.
LEAD_REQUESTS = [
    ("lead page", "get", "routing:lead_detail", None, {}),
    ("accept", "post", "routing:lead_action", "accept", {}),
    ("contacted", "post", "routing:lead_action", "contacted", {}),
    ("qualified", "post", "routing:lead_action", "qualified", {}),
    ("converted", "post", "routing:lead_action", "converted", {}),
    ("lost without a reason", "post", "routing:lead_action", "lost", {}),
    ("lost with a blank reason", "post", "routing:lead_action", "lost", {"reason": " "}),
    ("lost", "post", "routing:lead_action", "lost", {"reason": "no budget"}),
    ("empty note", "post", "routing:lead_action", "note", {"text": ""}),
    ("note", "post", "routing:lead_action", "note", {"text": "mine now"}),
    ("unknown action", "post", "routing:lead_action", "no-such-action", {}),
    ("reassign without a rep", "post", "routing:lead_reassign", None, {}),
    ("reassign", "post", "routing:lead_reassign", None, {"reason": "Knows the account"}),
    ("claim", "post", "routing:claim", None, {}),
]


@pytest.fixture
def teams_and_leads():
    """Anna (team Alpha, Alpha's pool) and Alpha's manager; out of their reach, Bravo's leads of every kind."""
    alpha, bravo = TeamFactory(name="Alpha"), TeamFactory(name="Bravo")
    anna = RepFactory(user=UserFactory(first_name="Anna", last_name="Ames"), teams=[alpha])
    bob = RepFactory(user=UserFactory(first_name="Bob", last_name="Baker"), teams=[bravo])
    alpha_pool, bravo_pool = PoolFactory(name="Alpha pool"), PoolFactory(name="Bravo pool")
    alpha_pool.teams.add(alpha)
    bravo_pool.teams.add(bravo)
    foreign = {
        "another team's lead": owned_lead(bob, first_name="Secret", last_name="Owned", email="owned@secret.example"),
        "an email-only lead": owned_lead(bob, first_name="", last_name="", company="",
                                         email="only-email@secret.example"),
        "a lead in another team's pool": LeadFactory(first_name="Secret", last_name="Pooled", pool=bravo_pool,
                                                     email="pooled@secret.example"),
        "a nurture lead": LeadFactory(first_name="Secret", last_name="Nurtured", status=Lead.Status.NURTURE,
                                      email="nurture@secret.example"),
    }
    return {"rep": anna.user, "team manager": sales_manager(manages=[alpha], first_name="Ada", last_name="Alpha"),
            "anna": anna, "foreign": foreign}


def answer(user, method, url, data):
    """What the user is told: status, where they are sent, the messages, and the page."""
    client = Client()
    client.force_login(user)
    response = getattr(client, method)(url, data)
    shown = [str(message) for message in get_messages(response.wsgi_request)]
    return {"status": response.status_code, "location": response.get("Location"), "messages": shown,
            "content": response.content.decode(errors="replace")}


def lead_url(view, lead_id, action):
    return reverse(view, args=[lead_id, action] if action else [lead_id])


@pytest.mark.parametrize("viewer", ["rep", "team manager"])
@pytest.mark.parametrize("kind", ["another team's lead", "an email-only lead", "a lead in another team's pool",
                                  "a nurture lead"])
@pytest.mark.parametrize("method, view, action, data", [request[1:] for request in LEAD_REQUESTS],
                         ids=[request[0] for request in LEAD_REQUESTS])
def test_a_lead_out_of_reach_answers_like_a_missing_id_and_shows_nothing_of_it(
        teams_and_leads, viewer, kind, method, view, action, data):
    user, lead = teams_and_leads[viewer], teams_and_leads["foreign"][kind]
    data = {"to_rep": teams_and_leads["anna"].pk, **data} if view == "routing:lead_reassign" and data else data
    before = Lead.objects.filter(pk=lead.pk).values().get()
    missing_id = Lead.objects.order_by("-pk").values_list("pk", flat=True).first() + 1000

    foreign = answer(user, method, lead_url(view, lead.pk, action), data)
    missing = answer(user, method, lead_url(view, missing_id, action), data)

    assert {key: foreign[key] for key in ("status", "location", "messages")} == \
        {key: missing[key] for key in ("status", "location", "messages")}
    told = " ".join([foreign["content"], *foreign["messages"]])
    assert not [secret for secret in (lead.first_name, lead.last_name, lead.email) if secret and secret in told]
    assert Lead.objects.filter(pk=lead.pk).values().get() == before
    assert not LeadEvent.objects.filter(lead=lead).exists()


def rq_urls():
    """One URL for each of django-rq's own patterns (dashboard, JSON stats and their token variants, job pages)."""
    import django_rq.urls

    urls = []
    for pattern in django_rq.urls.urlpatterns:
        route = str(pattern.pattern)
        route = re.sub(r"<int:\w+>", "0", route)
        route = re.sub(r"<(?:str|path|slug):\w+>", "x", route)
        route = route.lstrip("^").rstrip("$").replace(r"(?P<token>[\w]+)?", "sometoken").replace("/?", "/")
        urls.append(f"/django-rq/{route}")
    return urls


@pytest.mark.parametrize("url", rq_urls())
def test_every_django_rq_url_sends_a_staff_rep_to_the_admin_login(client, url):
    client.force_login(staff_user_in(REPS))

    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), url


def test_the_rq_json_stats_are_for_superusers(client):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))

    assert "queues" in client.get("/django-rq/stats.json/").json()
