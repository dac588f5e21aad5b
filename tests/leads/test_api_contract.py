"""docs/openapi.yaml against the real app: schemathesis sends what the spec allows and what it forbids.

Every operation runs its examples, boundary cases (coverage phase) and generated requests (fuzzing phase), for a
token that only submits and one that reads routing results, about 700 requests, through Django's WSGI app on the
test database, with a fixed seed and a bounded number of examples, so that the run is the same every time and
takes seconds. The two cannot drift apart unseen:
- every answer conforms to the spec (documented status, headers, JSON body) and none is a 5xx;
- a request the spec forbids is refused (the spec is not stricter than the server);
- a request the spec allows is refused only for what a schema cannot say (the spec is not looser than the server);
- afterwards, every lead keeps what intake promises and the seeded lead of another source is untouched.
"""

import itertools
from pathlib import Path

import pytest
import schemathesis
import yaml
from django.core.handlers.wsgi import WSGIHandler
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from leads.api import API_FIELDS, IDEMPOTENCY_KEY
from leads.models import ApiSubmission, Lead, LeadEvent
from leads.normalise import INTEGER_FIELDS, TEXT_LIMITS
from tests.factories import ApiTokenFactory, AssignmentFactory, LeadFactory, RepFactory, RoutingRuleFactory

SPEC = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
# What a JSON schema cannot say: whether a phone number can be dialled, a country is known, an address passes
# Django's email validator, a string is an amount, an Idempotency-Key was used with another body.
ONLY_THE_SERVER_CAN_TELL = {"email", "phone", "country", "deal_value", "Idempotency-Key"}
REQUESTS = itertools.count(1)

schema = schemathesis.openapi.from_path(SPEC, config=schemathesis.config.SchemathesisConfig.from_dict({
    "seed": 20261203,
    "generation": {"max-examples": 25, "deterministic": True, "database": "none"},
}))
schema.app = WSGIHandler()  # on the test's database connection while the wsgi_app fixture is in use


@pytest.fixture(params=[False, True], ids=["submits-only", "reads-routing"])
def token(request, wsgi_app, settings):
    # Hundreds of requests, some deliberately without a valid token, from one address.
    settings.INTAKE_API_RATE = settings.INTAKE_API_AUTH_FAILURE_RATE = "100000/m"
    return ApiTokenFactory(source="chat", can_read_routing=request.param)


@pytest.fixture
def intake_promises_kept(token):
    """Seeds a routed lead of another source; after the run, nothing is half saved, duplicated or overwritten."""
    rep = RepFactory()
    seeded = LeadFactory(email="anna@acme.de", phone="+4930123456", source="web", owner=rep,
                         status=Lead.Status.ASSIGNED)
    AssignmentFactory(lead=seeded, rep=rep, rule=RoutingRuleFactory(name="DACH"), reason="Territory DE")
    LeadEvent.objects.create(lead=seeded, kind=LeadEvent.Kind.CREATED, message="Seeded.")
    yield seeded
    seeded.refresh_from_db()
    assert (seeded.owner, seeded.status, seeded.email, seeded.source) == (rep, Lead.Status.ASSIGNED,
                                                                          "anna@acme.de", "web")
    for lead in Lead.objects.all():
        assert lead.email or lead.phone, lead.pk
        assert lead.events.filter(kind=LeadEvent.Kind.CREATED).count() == 1, lead.pk
        lead.full_clean()
    created = ApiSubmission.objects.filter(token=token, merged=False)
    assert Lead.objects.exclude(pk=seeded.pk).count() == created.count() == created.values("lead").distinct().count()
    merges = LeadEvent.objects.filter(kind=LeadEvent.Kind.MERGED, data__channel="api").count()
    assert merges == ApiSubmission.objects.filter(merged=True).count()


@schema.parametrize()
@settings(suppress_health_check=list(HealthCheck), deadline=None, database=None)
def test_the_api_answers_as_its_spec_says(case, token, intake_promises_kept):
    number, positive = next(REQUESTS), case.meta.generation.mode == GenerationMode.POSITIVE
    if positive and "Idempotency-Key" in (case.headers or {}):
        # The generator reuses a few keys with other bodies (a correct 422 that would hide the body's checks).
        case.headers["Idempotency-Key"] = f"{case.headers['Idempotency-Key'][:200]}-{number}"
    response = case.call_and_validate(headers={"Authorization": f"Bearer {token.secret}"},
                                      excluded_checks=[positive_data_acceptance])  # replaced by the lines below
    if positive and case.method == "POST":
        assert response.status_code != 400, response.json()
        if response.status_code == 422:
            # Refused for a value sent, not for one missing ("email or phone" is the spec's to say).
            sent = {**case.body, **(case.headers or {})}
            refused = {field for field in response.json()["errors"] if str(sent.get(field) or "").strip()}
            assert refused == set(response.json()["errors"]) and refused <= ONLY_THE_SERVER_CAN_TELL, response.json()


def test_a_submission_and_the_lead_it_reached_read_back_as_the_spec_says(token, intake_promises_kept):
    # Generated references and ids find nothing (404); these are real ones, merged into another source's lead.
    auth = {"Authorization": f"Bearer {token.secret}"}
    sent = schema["/api/v1/leads"]["POST"].Case(headers=auth, body={"email": "anna@acme.de"},
                                                media_type="application/json")
    response = sent.call()
    sent.validate_response(response)
    reads = [("/api/v1/submissions/{reference}", {"reference": response.json()["reference"]}, 200),
             ("/api/v1/leads/{id}", {"id": intake_promises_kept.pk}, 200 if token.can_read_routing else 403)]

    for path, parameters, status in reads:
        read = schema[path]["GET"].Case(headers=auth, path_parameters=parameters)
        response = read.call()
        read.validate_response(response)
        assert response.status_code == status
        if path.startswith("/api/v1/submissions/"):
            assert ("lead" in response.json()) == token.can_read_routing


def test_the_spec_states_every_limit_the_server_checks():
    # Generated requests rarely land just past a bound the spec forgot; this compares the numbers themselves.
    spec = yaml.safe_load(SPEC.read_text())
    fields = spec["components"]["schemas"]["LeadIn"]["properties"]
    idempotency_key = spec["paths"]["/api/v1/leads"]["post"]["parameters"][0]
    deal_value = Lead._meta.get_field("deal_value")
    largest_amount = 10 ** (deal_value.max_digits - deal_value.decimal_places)

    assert set(fields) == set(API_FIELDS)
    assert {name: (fields[name]["minimum"], fields[name]["maximum"]) for name in INTEGER_FIELDS} == INTEGER_FIELDS
    assert {name: fields[name].get("maxLength") for name in TEXT_LIMITS if name in API_FIELDS} == {
        name: limit for name, limit in TEXT_LIMITS.items() if name in API_FIELDS}
    assert fields["deal_value"]["anyOf"][0] == {"type": "number", "minimum": 0, "exclusiveMaximum": largest_amount}
    assert (idempotency_key["name"], idempotency_key["schema"]["pattern"]) == ("Idempotency-Key",
                                                                               f"^{IDEMPOTENCY_KEY.pattern}$")
