from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from leads.normalise import company_domain, lead_data_normalise, normalise_country, normalise_phone


@pytest.mark.parametrize("typed", ["Deutschland", "Germany", "de", "DE", " germany ", "DEU", "Allemagne", "Niemcy",
                                   "Германия"])
def test_country_names_and_codes_become_iso_alpha2(typed):
    assert normalise_country(typed) == "DE"


@pytest.mark.parametrize(("typed", "code"), [("Österreich", "AT"), ("Россия", "RU"), ("Italia", "IT"), ("UK", "GB"),
                                             ("USA", "US"), ("Polska", "PL"), ("Brasil", "BR")])
def test_native_names_and_common_aliases_are_known(typed, code):
    assert normalise_country(typed) == code


def test_unknown_country_is_named_in_the_error():
    with pytest.raises(ValidationError) as error:
        lead_data_normalise({"email": "a@b.com", "country": "Atlantis"})
    assert "Unknown country 'Atlantis'" in error.value.message_dict["country"][0]


def test_email_is_trimmed_and_lower_cased():
    assert lead_data_normalise({"email": "  Anna.Berg@ACME.com "})["email"] == "anna.berg@acme.com"


def test_invalid_email_says_what_a_valid_one_looks_like():
    with pytest.raises(ValidationError) as error:
        lead_data_normalise({"email": "anna at acme"})
    assert error.value.message_dict == {"email": ["Enter a valid email address, e.g. anna@acme.com."]}


@pytest.mark.parametrize(("typed", "country", "e164"), [
    ("030 1234567", "DE", "+49301234567"),
    ("+49 (30) 123-4567", "", "+49301234567"),
    ("0049 30 1234567", "FR", "+49301234567"),
    ("8 (495) 123-45-67", "RU", "+74951234567"),
])
def test_phone_becomes_e164_read_in_the_leads_country(typed, country, e164):
    assert normalise_phone(typed, country) == e164


def test_phone_without_country_code_or_country_is_refused():
    with pytest.raises(ValidationError) as error:
        lead_data_normalise({"phone": "030 1234567"})
    assert "country code" in error.value.message_dict["phone"][0]


def test_country_given_as_a_name_is_used_to_read_the_phone():
    data = lead_data_normalise({"phone": "030 1234567", "country": "Deutschland"})
    assert (data["phone"], data["country"]) == ("+49301234567", "DE")


@pytest.mark.parametrize(("website", "email", "domain"), [
    ("https://www.Acme.de/kontakt", "anna@gmail.com", "acme.de"),
    ("", "anna@acme.de", "acme.de"),
    ("", "anna@gmail.com", ""),
    ("", "ivan@mail.ru", ""),
    ("", "x@GMX.de", ""),
])
def test_company_domain_comes_from_website_or_business_email_never_free_mail(website, email, domain):
    assert company_domain(website=website, email=email.lower()) == domain


def test_whitespace_is_collapsed_and_control_characters_dropped():
    data = lead_data_normalise({"email": "a@b.com", "company": "  Acme \t\n  GmbH\x00 ", "city": " Berlin "})
    assert (data["company"], data["city"]) == ("Acme GmbH", "Berlin")


@pytest.mark.parametrize("blank", ["", "  ", "\t\n"])
def test_an_empty_or_blank_email_or_phone_is_not_given(blank):
    data = lead_data_normalise({"email": blank, "phone": blank, "company": "Acme"})
    assert (data["email"], data["phone"]) == ("", "")


@pytest.mark.parametrize("invisible", ["\x84", "\u200b", " \x00 "])
def test_an_email_or_phone_of_invisible_characters_is_refused_not_taken_as_not_given(invisible):
    with pytest.raises(ValidationError) as error:
        lead_data_normalise({"email": invisible, "phone": invisible})
    assert error.value.message_dict == {"email": ["Enter a valid email address, e.g. anna@acme.com."],
                                        "phone": ["Enter a phone number with its country code, e.g. +49 30 1234567."]}


def test_numbers_are_parsed_and_bad_numbers_named_per_field():
    data = lead_data_normalise({"email": "a@b.com", "employee_count": " 250 ", "deal_value": "12000,5"})
    assert (data["employee_count"], data["deal_value"]) == (250, Decimal("12000.50"))
    with pytest.raises(ValidationError) as error:
        lead_data_normalise({"email": "a@b.com", "employee_count": "many", "deal_value": "-3", "seats": "1e999"})
    assert set(error.value.message_dict) == {"employee_count", "deal_value", "seats"}


def test_too_long_text_is_refused_with_the_limit():
    with pytest.raises(ValidationError) as error:
        lead_data_normalise({"email": "a@b.com", "first_name": "x" * 101})
    assert error.value.message_dict["first_name"] == ["Keep it under 100 characters."]
