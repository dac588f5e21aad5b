import pytest
from django.core.exceptions import ValidationError

from leads.domains import normalise_domain
from leads.models import AccountDomain
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_account_cannot_become_a_subsidiary_of_its_own_subsidiary():
    group = AccountFactory(name="Acme Group")
    acme_de = AccountFactory(name="Acme GmbH", parent=group)
    group.parent = acme_de
    with pytest.raises(ValidationError) as error:
        group.full_clean()
    assert "Acme GmbH is already a subsidiary of Acme Group" in error.value.message_dict["parent"][0]


def test_account_cannot_be_its_own_parent():
    account = AccountFactory()
    account.parent = account
    with pytest.raises(ValidationError):
        account.full_clean()


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("acme.com", "acme.com"),
        ("https://www.Acme.COM/about?x=1", "acme.com"),
        ("  WWW.acme.co.uk.  ", "acme.co.uk"),
        ("http://shop.acme.com:8080", "shop.acme.com"),
        ("sales@acme.com", "acme.com"),
    ],
)
def test_domain_is_normalised(typed, stored):
    assert normalise_domain(typed) == stored


def test_domain_is_normalised_when_the_account_domain_is_cleaned():
    domain = AccountDomain(account=AccountFactory(), domain="https://www.Acme.com/")
    domain.full_clean()
    assert domain.domain == "acme.com"


@pytest.mark.parametrize("typed", ["acme", "not a domain", "acme..com", "-acme.com", "https://"])
def test_text_that_is_not_a_domain_is_refused(typed):
    with pytest.raises(ValidationError) as error:
        AccountDomain(account=AccountFactory(), domain=typed).full_clean()
    assert "such as acme.com" in " ".join(error.value.message_dict["domain"])


def test_domain_already_used_with_www_is_a_duplicate():
    AccountDomain.objects.create(account=AccountFactory(), domain="acme.com")
    with pytest.raises(ValidationError) as error:
        AccountDomain(account=AccountFactory(), domain="www.acme.com").full_clean()
    assert "domain" in error.value.message_dict
