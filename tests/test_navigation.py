"""Finding one's way: `/` leads each person home, the admin leads back to the app, error pages say what to do."""

import pytest
from django.test import Client, RequestFactory

from leadrouting import errors
from tests.factories import RepFactory, UserFactory, sales_manager

pytestmark = pytest.mark.django_db


def test_the_root_sends_a_visitor_to_the_apps_login_not_the_admins(client):
    response = client.get("/", follow=True)

    assert response.redirect_chain[-1][0] == "/accounts/login/"
    html = response.content.decode()
    assert 'class="site-header"' in html and "Django administration" not in html


@pytest.mark.parametrize(("person", "home"), [("rep", "/queue/"), ("manager", "/dashboard/"), ("superuser", "/dashboard/"), ("staff", "/admin/")])
def test_the_root_sends_a_signed_in_person_home(client, person, home):
    users = {
        "rep": lambda: RepFactory().user,
        "manager": lambda: sales_manager(),
        "superuser": lambda: UserFactory(is_staff=True, is_superuser=True),  # sees what a manager sees
        "staff": lambda: UserFactory(is_staff=True),  # neither a rep nor a manager: works in the admin
    }
    client.force_login(users[person]())

    assert client.get("/")["Location"] == home


def test_a_rep_in_the_admin_has_links_back_to_the_queue_and_the_site(client):
    rep = RepFactory(user=UserFactory(is_staff=True))
    client.force_login(rep.user)

    html = client.get("/admin/").content.decode()

    assert '<a href="/queue/">My queue</a>' in html and '<a href="/">View site</a>' in html


def test_a_refused_page_uses_the_apps_layout_and_the_reason_in_the_readers_language(client):
    client.force_login(sales_manager())

    response = client.get("/queue/", HTTP_ACCEPT_LANGUAGE="de")

    html = response.content.decode()
    assert response.status_code == 403
    assert '<html lang="de">' in html and 'class="site-header"' in html
    assert "Nur Vertriebsmitarbeiter haben eine Lead-Warteschlange." in html
    assert '<a href="/home/">Zu Ihrer Startseite</a>' in html


def test_a_missing_lead_says_what_to_do_without_naming_the_query(client):
    client.force_login(sales_manager(sees_every_team=True))

    response = client.get("/leads/999999/")

    html = response.content.decode()
    assert response.status_code == 404 and "Page not found" in html and "Check the address" in html
    assert "matches the given query" not in html


def test_a_failed_csrf_check_says_to_reload_and_send_again():
    response = Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "x", "password": "y"})

    assert response.status_code == 403
    assert "The form was refused" in response.content.decode() and "reload the page" in response.content.decode()


def test_a_server_error_page_uses_the_apps_layout():
    request = RequestFactory().get("/dashboard/")

    response = errors.server_error(request)

    html = response.content.decode()
    assert response.status_code == 500 and "Something went wrong on our side" in html and 'class="site-header"' in html
