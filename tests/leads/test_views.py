import pytest
from django.test import Client

from leads.models import Lead, LeadEvent
from tests.factories import IntakeFormFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def intake():
    return IntakeFormFactory(
        slug="webinar", fields=["first_name", "email", "phone", "country", "company"], required_fields=["email"],
        labels={"company": "Your company"}, help_texts={"phone": "With country code"},
        hidden_values={"source": "webinar", "product_interest": "Email marketing"},
        thank_you_message="Thanks, see you at the webinar!",
    )


def test_form_page_shows_the_configured_fields_labels_and_help(client, intake):
    response = client.get("/f/webinar/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Your company" in html and "With country code" in html and 'name="csrfmiddlewaretoken"' in html
    assert 'name="nickname"' in html and 'name="source"' not in html
    assert "X-Frame-Options" not in response.headers  # embeddable


def test_submission_creates_a_lead_with_hidden_values_and_thanks(client, intake):
    response = client.post("/f/webinar/", {"email": "Anna@Acme.de", "phone": "030 1234567", "country": "DE"},
                           follow=True)
    assert b"Thanks, see you at the webinar!" in response.content
    lead = Lead.objects.get()
    assert (lead.email, lead.phone, lead.source, lead.product_interest) == (
        "anna@acme.de", "+49301234567", "webinar", "Email marketing")


def test_errors_are_shown_in_place_and_typed_values_kept(client, intake):
    response = client.post("/f/webinar/", {"first_name": "Anna", "email": "anna-at-acme", "phone": "12",
                                           "country": "DE", "company": "Acme"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Enter a valid email address, e.g. anna@acme.com." in html
    assert 'value="Anna"' in html and 'value="anna-at-acme"' in html and 'value="Acme"' in html
    assert not Lead.objects.exists()


def test_every_error_shows_in_one_round_a_missing_company_and_a_bad_email_together(client, intake):
    intake.required_fields = ["email", "company"]
    intake.save()

    response = client.post("/f/webinar/", {"first_name": "Anna", "email": "anna-at-acme", "phone": "12"})

    html = response.content.decode()
    assert response.status_code == 400
    assert "This field is required." in html and "Enter a valid email address, e.g. anna@acme.com." in html
    assert not Lead.objects.exists()


def test_required_field_missing_is_named(client, intake):
    response = client.post("/f/webinar/", {"first_name": "Anna"})
    assert response.status_code == 400 and "This field is required." in response.content.decode()


def test_redirect_url_is_followed_after_submitting(client, intake):
    intake.redirect_url = "https://example.com/thank-you"
    intake.save()
    response = client.post("/f/webinar/", {"email": "anna@acme.de"})
    assert response.status_code == 302 and response["Location"] == "https://example.com/thank-you"


def test_honeypot_submission_creates_nothing_and_says_so_politely(client, intake):
    response = client.post("/f/webinar/", {"email": "bot@spam.example", "nickname": "http://spam"})
    assert response.status_code == 400 and b"looked automated" in response.content
    assert not Lead.objects.exists()


def test_too_many_submissions_from_one_address_are_refused_politely(client, intake, settings):
    settings.INTAKE_FORM_RATE = "2/m"
    statuses = [client.post("/f/webinar/", {"email": f"a{i}@acme.de"}).status_code for i in range(3)]
    assert statuses == [302, 302, 429]
    assert Lead.objects.count() == 2
    other_address = client.post("/f/webinar/", {"email": "b@acme.de"}, REMOTE_ADDR="10.0.0.9")
    assert other_address.status_code == 302


def test_post_without_csrf_token_is_refused(intake):
    response = Client(enforce_csrf_checks=True).post("/f/webinar/", {"email": "anna@acme.de"})
    assert response.status_code == 403 and not Lead.objects.exists()


def test_repeat_submission_by_the_same_person_is_merged(client, intake):
    client.post("/f/webinar/", {"email": "anna@acme.de"})
    client.post("/f/webinar/", {"email": "ANNA@acme.de", "company": "Acme"})
    lead = Lead.objects.get()
    assert lead.events.filter(kind=LeadEvent.Kind.MERGED).count() == 1


def test_inactive_or_unknown_form_is_404(client, intake):
    intake.is_active = False
    intake.save()
    assert client.get("/f/webinar/").status_code == 404
    assert client.get("/f/nope/").status_code == 404
