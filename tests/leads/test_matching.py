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
    assert account_match(domain="acme.de", company="").account == acme
    assert account_match(domain="", company="Acme").account == acme
    assert account_match(domain="", company="ACME GmbH").account == acme


def test_domain_match_wins_over_name_and_is_recorded_as_such():
    acme = AccountFactory(name="Acme")
    AccountDomainFactory(account=acme, domain="acme.com")
    AccountFactory(name="Globex")
    match = account_match(domain="acme.com", company="Globex")
    assert (match.account, match.method, match.score) == (acme, "domain", 100.0)


def test_subdomain_matches_the_accounts_domain():
    acme = AccountFactory(name="Acme")
    AccountDomainFactory(account=acme, domain="acme.com")
    assert account_match(domain="eu.shop.acme.com", company="").account == acme


def test_a_slightly_different_name_matches_above_the_threshold_with_its_score():
    globex = AccountFactory(name="Globex Corporation")
    match = account_match(domain="", company="Globex Corp")
    assert (match.account, match.method) == (globex, "name")
    assert match.score == 100.0


def test_a_different_company_is_not_matched(settings):
    settings.ACCOUNT_MATCH_THRESHOLD = 90
    AccountFactory(name="Acme")
    assert account_match(domain="", company="Acne Studios") is None


def test_threshold_setting_decides_how_close_a_name_must_be(settings):
    initech = AccountFactory(name="Initech")
    settings.ACCOUNT_MATCH_THRESHOLD = 95
    assert account_match(domain="", company="Initek") is None
    settings.ACCOUNT_MATCH_THRESHOLD = 75
    assert account_match(domain="", company="Initek").account == initech
