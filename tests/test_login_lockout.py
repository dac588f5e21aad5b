"""Brute-force protection (django-axes) on the app's login and the admin's, as configured in settings.py."""

import pytest
from django.conf import settings
from django.test import override_settings

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pass-1234"  # UserFactory's
LOGIN_PAGES = ["/accounts/login/", "/admin/login/"]
# The production configuration; the suite's settings switch axes off for client.login(), which sends no request.
axes_on = override_settings(AXES_ENABLED=True, AUTHENTICATION_BACKENDS=[
    "axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"])


def log_in(client, url, username, password, ip="203.0.113.7"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_production_settings_lock_out_after_five_failures_for_fifteen_minutes():
    from leadrouting import settings as production

    assert production.AXES_FAILURE_LIMIT == 5
    assert production.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert production.AXES_COOLOFF_TIME.total_seconds() == 15 * 60 and production.AXES_RESET_ON_SUCCESS
    assert production.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"


@axes_on
@pytest.mark.parametrize("url", LOGIN_PAGES)
def test_after_five_wrong_passwords_the_right_one_is_refused_too(client, url):
    user = UserFactory(is_staff=True)
    statuses = [log_in(client, url, user.username, "wrong").status_code for _ in range(settings.AXES_FAILURE_LIMIT)]
    assert statuses == [200, 200, 200, 200, 429]  # the form again with its error; the fifth failure locks

    response = log_in(client, url, user.username, PASSWORD)

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@axes_on
def test_the_lockout_is_per_username_and_address(client):
    user = UserFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "/accounts/login/", user.username, "wrong")

    # The same rep from another address still gets in: a guesser cannot lock them out everywhere.
    response = log_in(client, "/accounts/login/", user.username, PASSWORD, ip="198.51.100.9")

    assert response.status_code == 302 and client.session["_auth_user_id"] == str(user.pk)


@axes_on
def test_a_successful_login_resets_the_count(client):
    user = UserFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "/accounts/login/", user.username, "wrong")
    assert log_in(client, "/accounts/login/", user.username, PASSWORD).status_code == 302
    client.logout()

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "/accounts/login/", user.username, "wrong")

    assert log_in(client, "/accounts/login/", user.username, PASSWORD).status_code == 302
