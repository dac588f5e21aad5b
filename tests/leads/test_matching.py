import pytest

from leads.matching import account_match, company_name_key
from tests.factories import AccountDomainFactory, AccountFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("name", "key"), [
    ("ACME GmbH", "acme"), ("Acme, Inc.", "acme"), ("Acme Ltd", "acme"), ("Acme AG", "acme"), ("Acme LLC", "acme"),
    ("Acme S.A.", "acme"), ("Acme SRL", "acme"), ("Acme Sp. z o.o.", "acme"), ("OOO Acme", "acme"),
    ("Acme GmbH & Co. KG", "acme"),
])
def test_legal_forms_are_ignored_when_names_are_compared(name, key):
    assert company_name_key(name) == key


def test_acme_gmbh_acme_and_acme_de_land_on_the_same_account():
    acme = AccountFactory(name="ACME GmbH")
    AccountDomainFactory(account=acme, domain="acme.de")
    AccountFactory(name="Apex Industries")
    assert account_match(domain="acme.de", email="", company="").account == acme
    assert account_match(domain="", email="", company="Acme").account == acme
    assert account_match(domain="", email="", company="ACME GmbH").account == acme


def test_domain_match_wins_over_name_and_is_recorded_as_such():
    acme = AccountFactory(name="Acme")
    AccountDomainFactory(account=acme, domain="acme.com")
    AccountFactory(name="Globex")
    match = account_match(domain="acme.com", email="", company="Globex")
    assert (match.account, match.method, match.score) == (acme, "domain", 100.0)


def test_subdomain_matches_the_accounts_domain():
    acme = AccountFactory(name="Acme")
    AccountDomainFactory(account=acme, domain="acme.com")
    assert account_match(domain="eu.shop.acme.com", email="", company="").account == acme


def test_a_slightly_different_name_matches_above_the_threshold_with_its_score():
    globex = AccountFactory(name="Globex Corporation")
    match = account_match(domain="", email="", company="Globex Corp")
    assert (match.account, match.method) == (globex, "name")
    assert match.score == 100.0


def test_a_different_company_is_not_matched(settings):
    settings.ACCOUNT_MATCH_THRESHOLD = 90
    AccountFactory(name="Acme")
    assert account_match(domain="", email="", company="Acne Studios") is None


def test_threshold_setting_decides_how_close_a_name_must_be(settings):
    initech = AccountFactory(name="Initech")
    settings.ACCOUNT_MATCH_THRESHOLD = 95
    assert account_match(domain="", email="", company="Initek") is None
    settings.ACCOUNT_MATCH_THRESHOLD = 75
    assert account_match(domain="", email="", company="Initek").account == initech


def test_a_free_mail_domain_never_matches_an_account_even_one_that_lists_it():
    legacy = AccountFactory(name="Gmail lister")
    AccountDomainFactory(account=legacy, domain="gmail.com")  # saved before the admin refused free-mail domains
    assert account_match(domain="gmail.com", email="jane@gmail.com", company="") is None
    assert account_match(domain="", email="jane@GoogleMail.com", company="") is None


def test_the_email_domain_matches_when_the_website_names_no_account():
    acme = AccountFactory(name="Acme")
    AccountDomainFactory(account=acme, domain="acme.de")
    match = account_match(domain="acme-shop.example", email="jane@eu.acme.de", company="")
    assert (match.account, match.method) == (acme, "domain")
