import json

import pytest
from django.test import Client, RequestFactory
from werkzeug.test import Client as WsgiClient

import leads.api
from leadrouting.errors import csrf_failure

from leads.models import ApiSubmission, Lead, LeadEvent
from tests.factories import ApiTokenFactory, AssignmentFactory, LeadFactory, RepFactory, RoutingRuleFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/leads"


@pytest.fixture
def token():
    return ApiTokenFactory(source="chat")


def post(client, token, body, **headers):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(URL, data, content_type=headers.pop("content_type", "application/json"),
                       headers={"Authorization": f"Bearer {token.secret}", **headers})


def get(client, token, path):
    return client.get(path, headers={"Authorization": f"Bearer {token.secret}"})


def test_valid_lead_is_created_with_the_tokens_source(client, token):
    response = post(client, token, {"email": "anna@acme.de", "country": "Germany", "employee_count": 250})
    assert response.status_code == 201
    lead = Lead.objects.get()
    submission = ApiSubmission.objects.get()
    assert response.json() == {"reference": submission.reference}
    assert response["Location"] == f"/api/v1/submissions/{submission.reference}"
    assert (submission.token, submission.lead, submission.merged) == (token, lead, False)
    assert (lead.source, lead.country.code, lead.employee_count) == ("chat", "DE", 250)


def test_missing_wrong_or_revoked_token_is_401(client, token):
    assert client.post(URL, "{}", content_type="application/json").status_code == 401
    response = client.post(URL, "{}", content_type="application/json", headers={"Authorization": "Bearer lr_nope"})
    assert response.status_code == 401 and "API token" in response.json()["errors"]["__all__"][0]
    token.revoked_at = token.created_at
    token.save()
    assert post(client, token, {"email": "a@acme.de"}).status_code == 401


def test_each_bad_field_is_named(client, token):
    response = post(client, token, {"email": "not-an-email", "country": "Narnia", "phone": "12"})
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"email", "country"}
    assert not Lead.objects.exists()


def test_a_whole_number_written_as_17_0_is_a_whole_number(client, token):
    response = post(client, token, {"email": "anna@acme.de", "seats": 17.0, "score": -3.0, "employee_count": 1e3})
    assert response.status_code == 201
    assert Lead.objects.values_list("seats", "score", "employee_count").get() == (17, -3, 1000)
    assert set(post(client, token, {"email": "bob@acme.de", "seats": 17.5}).json()["errors"]) == {"seats"}


def test_unknown_fields_and_wrong_types_are_400(client, token):
    response = post(client, token, {"email": 5, "employee_count": "250", "seats": True, "favourite_colour": "red",
                                    "source": "ads"})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"email", "employee_count", "seats", "favourite_colour", "source"}


@pytest.mark.parametrize(("body", "content_type", "status"), [
    ("{not json", "application/json", 400),
    ("[1, 2]", "application/json", 400),
    ('{"email": NaN}', "application/json", 400),
    (b"\xff\xfe", "application/json", 400),
    ("email=a@b.com", "application/x-www-form-urlencoded", 415),
    ("[" * 100_000, "application/json", 413),
    ('{"a": ' * 5000 + "1" + "}" * 5000, "application/json", 400),
])
def test_malformed_requests_get_a_clear_json_4xx(client, token, body, content_type, status):
    response = post(client, token, body, content_type=content_type)
    assert response.status_code == status
    assert response.json()["errors"]["__all__"]


def test_get_on_the_collection_is_405_json(client, token):
    response = client.get(URL, headers={"Authorization": f"Bearer {token.secret}"})
    assert response.status_code == 405 and response["Allow"] == "POST"


def assert_json_error(response, status):
    assert response.status_code == status and response["Content-Type"] == "application/json"
    assert json.loads(response.content)["errors"]["__all__"][0]


@pytest.mark.parametrize("path", ["/api/v1/leads/abc", "/api/v1/leads/-1", "/api/v1/leads/", "/api/v1/leads/5/",
                                  "/api/v1/submissions/", "/api/v2/leads", "/api/"])
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_an_api_address_without_a_route_answers_json_404_even_without_a_token(client, path, method):
    assert_json_error(getattr(client, method)(path), 404)


def test_other_addresses_keep_the_html_404_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("put", URL, "POST"), ("delete", f"{URL}/1", "GET"), ("patch", "/api/v1/submissions/sub_x", "GET"),
])
def test_a_wrong_method_on_an_api_address_is_json_405_naming_the_allowed_one(client, method, path, allow):
    response = getattr(client, method)(path)
    assert_json_error(response, 405)
    assert response["Allow"] == allow


def test_a_server_error_in_the_api_answers_json_500(token, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(leads.api, "api_lead_submit", broken)
    response = post(Client(raise_request_exception=False), token, {"email": "anna@acme.de"})
    assert_json_error(response, 500)
    assert "fire" not in response.content.decode()


def test_a_refused_host_under_the_api_answers_json_400(client, token):
    response = client.post(URL, "{}", content_type="application/json", headers={"Host": "evil.example"})
    assert_json_error(response, 400)


def test_a_failed_csrf_check_answers_json_under_the_api_and_the_usual_page_elsewhere():
    assert_json_error(csrf_failure(RequestFactory().post("/api/v1/leads"), reason="no cookie"), 403)
    page = csrf_failure(RequestFactory().post("/f/contact/"), reason="no cookie")
    assert page.status_code == 403 and page["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("address", ["", "10.0.0.1, 10.0.0.2", None])
def test_a_request_without_one_client_address_is_still_answered(client, token, wsgi_app, address):
    body, headers = json.dumps({"email": "anna@acme.de"}), {"Authorization": f"Bearer {token.secret}"}
    if address is None:  # WSGI does not require REMOTE_ADDR, and werkzeug's client sets none
        response = WsgiClient(wsgi_app).post(URL, data=body, content_type="application/json", headers=headers)
        status = response.status_code
    else:
        response = client.post(URL, body, content_type="application/json", headers=headers, REMOTE_ADDR=address)
        status = response.status_code
    assert status == 201


def test_a_merge_into_another_sources_lead_is_answered_exactly_like_a_new_lead(client, token):
    existing = LeadFactory(email="anna@acme.de", source="web", status=Lead.Status.ASSIGNED)

    merged = post(client, token, {"email": "Anna@Acme.de", "use_case": "Pricing"})
    new = post(client, token, {"email": "bob@acme.de", "use_case": "Pricing"})

    assert merged.status_code == new.status_code == 201
    assert set(merged.json()) == set(new.json()) == {"reference"}
    assert sorted(merged.headers) == sorted(new.headers)
    assert existing.events.filter(kind=LeadEvent.Kind.MERGED).count() == 1
    assert ApiSubmission.objects.get(reference=merged.json()["reference"]).lead == existing


def test_a_submission_reads_back_without_owner_rule_or_reasons(client, token):
    rep = RepFactory()
    existing = LeadFactory(email="anna@acme.de", source="web", owner=rep, status=Lead.Status.ASSIGNED)
    AssignmentFactory(lead=existing, rep=rep, rule=RoutingRuleFactory(name="DACH enterprise"), reason="Territory DE")
    reference = post(client, token, {"email": "anna@acme.de"}).json()["reference"]

    response = get(client, token, f"/api/v1/submissions/{reference}")

    assert response.status_code == 200
    assert set(response.json()) == {"reference", "received_at"}
    assert response.json()["reference"] == reference
    for secret in (str(rep), "DACH enterprise", "Territory DE"):
        assert secret not in response.content.decode()


def test_the_lead_id_of_another_sources_lead_tells_a_submitting_token_nothing(client, token):
    rep = RepFactory()
    existing = LeadFactory(email="anna@acme.de", source="web", owner=rep, status=Lead.Status.ASSIGNED)
    AssignmentFactory(lead=existing, rep=rep, rule=RoutingRuleFactory(name="DACH enterprise"), reason="Territory DE")
    post(client, token, {"email": "anna@acme.de"})

    response = get(client, token, f"{URL}/{existing.pk}")

    assert response.status_code == 403 and "routing results" in response.json()["errors"]["__all__"][0]
    for secret in (str(rep), "DACH enterprise", "Territory DE"):
        assert secret not in response.content.decode()


def test_another_tokens_reference_is_the_same_404_as_an_unknown_one(client, token):
    reference = post(client, token, {"email": "anna@acme.de"}).json()["reference"]
    other = ApiTokenFactory(source="chat", can_read_routing=True)

    foreign = get(client, other, f"/api/v1/submissions/{reference}")
    unknown = get(client, other, "/api/v1/submissions/sub_doesnotexist00000000")
    malformed = get(client, other, "/api/v1/submissions/%00")

    assert foreign.status_code == unknown.status_code == malformed.status_code == 404
    assert foreign.json() == unknown.json() == malformed.json()
    assert get(client, token, f"/api/v1/submissions/{reference}").status_code == 200


def test_with_the_routing_scope_a_submission_shows_the_leads_owner_rule_and_reasons(client):
    token = ApiTokenFactory(source="chat", can_read_routing=True)
    rep = RepFactory()
    existing = LeadFactory(email="anna@acme.de", source="web", owner=rep, status=Lead.Status.ASSIGNED)
    AssignmentFactory(lead=existing, rep=rep, rule=RoutingRuleFactory(name="DACH enterprise"), reason="Territory DE")
    reference = post(client, token, {"email": "anna@acme.de"}).json()["reference"]

    lead = get(client, token, f"/api/v1/submissions/{reference}").json()["lead"]

    assert (lead["id"], lead["merged"], lead["status"], lead["owner"]["id"]) == (existing.pk, True, "assigned", rep.pk)
    assert [(a["rule"], a["reason"]) for a in lead["assignments"]] == [("DACH enterprise", "Territory DE")]


def test_retry_with_the_same_idempotency_key_returns_the_same_submission(client, token):
    first = post(client, token, {"email": "anna@acme.de"}, **{"Idempotency-Key": "abc-1"})
    again = post(client, token, {"email": "anna@acme.de"}, **{"Idempotency-Key": "abc-1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Lead.objects.count() == 1 and ApiSubmission.objects.count() == 1


def test_same_idempotency_key_with_a_different_body_is_refused(client, token):
    post(client, token, {"email": "anna@acme.de"}, **{"Idempotency-Key": "abc-1"})
    response = post(client, token, {"email": "bob@acme.de"}, **{"Idempotency-Key": "abc-1"})
    assert response.status_code == 422
    assert "different body" in response.json()["errors"]["Idempotency-Key"][0]
    assert Lead.objects.count() == 1


def test_with_the_routing_scope_a_lead_shows_owner_and_assignment_history(client):
    token = ApiTokenFactory(source="chat", can_read_routing=True)
    rep = RepFactory()
    lead = LeadFactory(source="chat", owner=rep, status=Lead.Status.ASSIGNED)
    AssignmentFactory(lead=lead, rep=rep)
    response = get(client, token, f"{URL}/{lead.pk}")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"], body["owner"]["id"]) == (lead.pk, "assigned", rep.pk)
    assert [a["rep"]["id"] for a in body["assignments"]] == [rep.pk]


def test_leads_of_other_sources_are_not_found_even_with_the_routing_scope(client):
    token = ApiTokenFactory(source="chat", can_read_routing=True)
    other = LeadFactory(source="ads")
    for lead_id in (other.pk, 10**30):
        assert get(client, token, f"{URL}/{lead_id}").status_code == 404


def test_too_many_requests_for_one_token_are_429(client, token, settings):
    settings.INTAKE_API_RATE = "2/m"
    statuses = [post(client, token, {"email": f"a{i}@acme.de"}).status_code for i in range(3)]
    assert statuses == [201, 201, 429]


def test_wrong_tokens_from_one_address_are_limited_and_then_even_a_valid_token_waits(client, token, settings):
    settings.INTAKE_API_AUTH_FAILURE_RATE = "3/m"
    wrong = {"Authorization": "Bearer lr_guess-0000000000"}
    statuses = [client.post(URL, "{}", content_type="application/json", headers=wrong, REMOTE_ADDR="203.0.113.5")
                .status_code for _ in range(4)]

    assert statuses == [401, 401, 401, 429]
    valid = {"Authorization": f"Bearer {token.secret}"}
    body = json.dumps({"email": "a@acme.de"})
    assert client.post(URL, body, content_type="application/json", headers=valid,
                       REMOTE_ADDR="203.0.113.5").status_code == 429
    # Other addresses are not affected.
    assert client.post(URL, body, content_type="application/json", headers=valid,
                       REMOTE_ADDR="198.51.100.1").status_code == 201
