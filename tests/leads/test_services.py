import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads.models import Lead, LeadEvent
from leads.services import IdempotencyConflict, api_lead_submit, api_token_authenticate, api_token_revoke, \
    lead_submit
from tests.factories import AccountDomainFactory, AccountFactory, ApiTokenFactory, LeadFactory, RepFactory

pytestmark = pytest.mark.django_db


def test_submission_creates_a_clean_new_lead_queued_for_routing():
    result = lead_submit(raw={"email": " Anna@Acme.DE ", "country": "Deutschland", "phone": "030 1234567",
                              "company": " Acme  GmbH "}, channel="api", source="chat")
    lead = Lead.objects.get(pk=result.lead.pk)
    assert (result.created, result.merged) == (True, False)
    assert (lead.email, lead.country.code, lead.phone, lead.company, lead.domain, lead.source) == (
        "anna@acme.de", "DE", "+49301234567", "Acme GmbH", "acme.de", "chat")
    assert lead.status == Lead.Status.NEW and lead.routing_requested_at is not None
    assert lead.events.get().kind == LeadEvent.Kind.CREATED


def test_lead_is_matched_to_its_account_before_it_is_saved():
    acme = AccountFactory(name="Acme GmbH")
    AccountDomainFactory(account=acme, domain="acme.de")
    by_domain = lead_submit(raw={"email": "anna@acme.de"}, channel="form").lead
    by_name = lead_submit(raw={"email": "bob@gmail.com", "company": "ACME"}, channel="form").lead
    assert (by_domain.account, by_domain.account_match_method) == (acme, "domain")
    assert (by_name.account, by_name.account_match_method, by_name.account_match_score) == (acme, "name", 100.0)


def test_bad_values_save_nothing_and_name_each_field():
    with pytest.raises(ValidationError) as error:
        lead_submit(raw={"email": "nope", "country": "Narnia"}, channel="form")
    assert set(error.value.message_dict) == {"email", "country"}
    assert not Lead.objects.exists() and not LeadEvent.objects.exists()


def test_a_lead_needs_an_email_or_a_phone():
    with pytest.raises(ValidationError) as error:
        lead_submit(raw={"first_name": "Anna"}, channel="form")
    assert "email address or a phone number" in error.value.message_dict["email"][0]


def test_same_email_within_the_window_is_merged_into_the_open_lead_which_keeps_its_owner():
    rep = RepFactory()
    existing = LeadFactory(email="anna@acme.de", owner=rep, status=Lead.Status.ASSIGNED, routing_requested_at=None)
    result = lead_submit(raw={"email": "ANNA@acme.de", "use_case": "Pricing"}, channel="api", source="chat")
    assert (result.lead.pk, result.merged, result.created) == (existing.pk, True, False)
    assert Lead.objects.count() == 1
    existing.refresh_from_db()
    assert existing.owner == rep
    event = existing.events.get(kind=LeadEvent.Kind.MERGED)
    assert event.data["submitted"]["use_case"] == "Pricing" and event.data["source"] == "chat"


def test_same_normalised_phone_and_same_name_is_a_duplicate():
    existing = LeadFactory(first_name="Anna", last_name="Schmidt", email="", phone="+49301234567")
    result = lead_submit(raw={"first_name": "anna", "last_name": "SCHMIDT", "phone": "030 123 45 67", "country": "DE"},
                         channel="form")
    assert result.lead.pk == existing.pk and result.merged


@pytest.mark.parametrize(
    "raw",
    [
        # A shared switchboard: another person of another company (issue 12).
        {"first_name": "Bob", "last_name": "Meyer", "company": "Globex", "phone": "030 1234567", "country": "DE"},
        # A colleague at the same company's switchboard.
        {"first_name": "Bob", "last_name": "Meyer", "company": "Acme", "phone": "030 1234567", "country": "DE"},
        # A phone number and nothing that says who is calling.
        {"phone": "+49 30 1234567"},
    ],
)
def test_a_phone_number_alone_never_merges(raw):
    existing = LeadFactory(first_name="Anna", last_name="Schmidt", email="anna@acme.de", company="Acme",
                           phone="+49301234567")
    result = lead_submit(raw=raw, channel="form")
    assert (result.created, result.merged) == (True, False)
    assert result.lead.pk != existing.pk
    assert not existing.events.filter(kind=LeadEvent.Kind.MERGED).exists()


def test_a_blank_name_is_not_a_matching_name():
    LeadFactory(first_name="", last_name="", email="", phone="+49301234567")
    assert lead_submit(raw={"phone": "030 1234567", "country": "DE"}, channel="form").created


def test_closed_or_old_leads_are_not_merged_into(settings):
    settings.INTAKE_DEDUPE_DAYS = 30
    LeadFactory(email="lost@acme.de", status=Lead.Status.LOST)
    with time_machine.travel(dt.datetime(2025, 1, 1, tzinfo=dt.UTC)):
        LeadFactory(email="old@acme.de")
    with time_machine.travel(dt.datetime(2025, 3, 1, tzinfo=dt.UTC)):
        assert lead_submit(raw={"email": "old@acme.de"}, channel="form").created
    assert lead_submit(raw={"email": "lost@acme.de"}, channel="form").created


def test_same_idempotency_key_and_body_returns_the_first_submission():
    token = ApiTokenFactory()
    first, first_replayed = api_lead_submit(token=token, idempotency_key="k-1", raw={"email": "a@acme.de"})
    again, replayed = api_lead_submit(token=token, idempotency_key="k-1", raw={"email": "a@acme.de"})
    assert (again, first_replayed, replayed) == (first, False, True)
    assert Lead.objects.count() == 1


def test_same_idempotency_key_with_another_body_is_a_conflict():
    token = ApiTokenFactory()
    api_lead_submit(token=token, idempotency_key="k-1", raw={"email": "a@acme.de"})
    with pytest.raises(IdempotencyConflict):
        api_lead_submit(token=token, idempotency_key="k-1", raw={"email": "b@acme.de"})
    assert Lead.objects.count() == 1


def test_each_api_submission_gets_its_own_reference_even_for_the_same_lead():
    token = ApiTokenFactory()
    first, _ = api_lead_submit(token=token, raw={"email": "a@acme.de"})
    second, _ = api_lead_submit(token=token, raw={"email": "a@acme.de"})
    assert first.lead == second.lead and (first.merged, second.merged) == (False, True)
    assert first.reference != second.reference


def test_token_is_found_by_its_secret_and_no_longer_after_revocation():
    token = ApiTokenFactory()
    assert api_token_authenticate(token.secret) == token
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert token.token_hash != token.secret and token.secret not in token.prefix + token.token_hash
    assert api_token_authenticate(token.secret[:-1] + "x") is None
    api_token_revoke(token=token)
    assert api_token_authenticate(token.secret) is None


def test_creating_a_lead_takes_a_small_constant_number_of_queries():
    AccountFactory.create_batch(5)
    with CaptureQueriesContext(connection) as queries:
        lead_submit(raw={"email": "anna@acme.de", "company": "Acme"}, channel="form")
    assert len(queries) <= 10
