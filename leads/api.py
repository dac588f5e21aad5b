"""JSON API for other systems: POST /api/v1/leads, GET /api/v1/submissions/<reference> and (with the routing scope)
GET /api/v1/leads/<id>, authenticated by a per-source token.

A token that only submits learns nothing about leads it did not create: a new lead and a merge into an existing
one get the same answer, and owner, rule and reasons are shown only to tokens allowed to read routing results.
Every answer is JSON; errors are {"errors": {"field": ["message"]}} (field "__all__" for the request itself).
The keys are the lead's field names in every language; the messages follow the request's Accept-Language.
"""

import json
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django_ratelimit.core import is_ratelimited

from leadrouting.client_ip import client_ip_key
from leads.models import INTAKE_FIELDS
from leads.normalise import DECIMAL_FIELDS, INTEGER_FIELDS
from leads.selectors import lead_for_token, lead_status_document, submission_document, submission_for_token
from leads.services import IdempotencyConflict, api_lead_submit, api_token_authenticate

MAX_BODY_BYTES = 64 * 1024
# The token decides the source; everything else a lead may carry can be sent.
API_FIELDS = [name for name in INTAKE_FIELDS if name != "source"]
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")


def _errors(status: int, errors: dict) -> JsonResponse:
    return JsonResponse({"errors": {field: list(messages) for field, messages in errors.items()}}, status=status)


def request_error(status: int, message: str) -> JsonResponse:
    return _errors(status, {"__all__": [message]})


def _authenticate(request):
    scheme, _space, raw_token = request.headers.get("Authorization", "").partition(" ")
    return api_token_authenticate(raw_token.strip()) if scheme.lower() == "bearer" else None


def _token_rate(group, request):
    return settings.INTAKE_API_RATE


def _auth_failure_rate(group, request):
    return settings.INTAKE_API_AUTH_FAILURE_RATE


def _auth_failures_exceeded(request, *, count_this_one: bool) -> bool:
    """Too many wrong tokens from this address: refuse before checking the token, so guessing stops."""
    return is_ratelimited(request, group="api-auth-failures", key=client_ip_key, rate=_auth_failure_rate,
                          increment=count_this_one)


def _guard(request, *, method: str):
    """The checks every endpoint shares; returns (token, None) or (None, error response)."""
    if request.method != method:
        response = request_error(405, _("Use %(method)s on this address.") % {"method": method})
        response["Allow"] = method
        return None, response
    too_many_failures = request_error(429, _("Too many requests with a wrong API token from your address; "
                                             "retry in a minute with a valid token."))
    if _auth_failures_exceeded(request, count_this_one=False):
        return None, too_many_failures
    token = _authenticate(request)
    if token is None:
        if _auth_failures_exceeded(request, count_this_one=True):
            return None, too_many_failures
        return None, request_error(401, _("Send a valid, unrevoked API token: Authorization: Bearer <token>."))
    request.api_token = token
    if is_ratelimited(request, group="api", key=lambda group, req: str(req.api_token.pk), rate=_token_rate,
                      increment=True):
        return None, request_error(429, _("Too many requests for this token; retry in a minute."))
    return token, None


def _reject_constant(name):
    raise ValueError(f"{name} is not allowed in JSON")


def _parse_body(request):
    """The JSON object sent, or an error response naming what is wrong with the request."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES or len(request.body) > MAX_BODY_BYTES:
        return None, request_error(413, _("The body is larger than %(size)s KB.") % {"size": MAX_BODY_BYTES // 1024})
    if request.content_type != "application/json":
        return None, request_error(415, _("Send the lead as JSON with Content-Type: application/json."))
    try:
        body = json.loads(request.body.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None, request_error(400, _("The body is not valid UTF-8 JSON."))
    if not isinstance(body, dict):
        return None, request_error(400, _("Send one JSON object, e.g. {\"email\": \"anna@acme.com\"}."))
    return body, None


def _is_whole_float(value) -> bool:
    # JSON Schema's "integer" (and JavaScript) take 17.0 as the whole number 17.
    return isinstance(value, float) and value.is_integer()


def _as_text(name: str, value) -> str | None:
    """A JSON value as intake reads it (text, as from a form or a CSV file); 17.0 in a whole-number field is 17."""
    if value is None:
        return None
    return str(int(value)) if name in INTEGER_FIELDS and _is_whole_float(value) else str(value)


def _type_errors(body: dict) -> dict:
    """Unknown fields and values of the wrong JSON type, by field."""
    errors = {}
    for name, value in body.items():
        if name not in API_FIELDS:
            errors[name] = [_("Unknown field. Known fields: %(fields)s.") % {"fields": ", ".join(API_FIELDS)}]
        elif value is None:
            continue
        elif name in INTEGER_FIELDS:
            if isinstance(value, bool) or not (isinstance(value, int) or _is_whole_float(value)):
                errors[name] = [_("Must be a whole number or null.")]
        elif name in DECIMAL_FIELDS:
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                errors[name] = [_("Must be a number (or a numeric string) or null.")]
        elif not isinstance(value, str):
            errors[name] = [_("Must be a string or null.")]
    return errors


@csrf_exempt  # token-authenticated machine clients, no cookies
def leads_collection(request):
    token, error = _guard(request, method="POST")
    if error:
        return error
    body, error = _parse_body(request)
    if error:
        return error
    if errors := _type_errors(body):
        return _errors(400, errors)
    key = request.headers.get("Idempotency-Key")
    if key is not None and not IDEMPOTENCY_KEY.fullmatch(key):
        return _errors(400, {"Idempotency-Key": [_("Use 1 to 255 visible ASCII characters, e.g. a UUID.")]})
    raw = {name: _as_text(name, value) for name, value in body.items()}
    try:
        submission, replayed = api_lead_submit(token=token, raw=raw, idempotency_key=key)
    except ValidationError as error:
        return _errors(422, error.message_dict)
    except IdempotencyConflict:
        return _errors(422, {"Idempotency-Key": [_("This key was already used with a different body; use a new key.")]})
    # New lead or merged into an existing one: the same answer, so a token cannot tell who is already a lead.
    response = JsonResponse({"reference": submission.reference}, status=201)
    response["Location"] = reverse("leads:api_submission_detail", args=[submission.reference])
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response


@csrf_exempt
def submission_detail(request, reference):
    token, error = _guard(request, method="GET")
    if error:
        return error
    submission = submission_for_token(token=token, reference=reference)
    if submission is None:
        return request_error(404, _("No submission with this reference was sent with this token."))
    return JsonResponse(submission_document(submission, with_routing=token.can_read_routing))


@csrf_exempt
def lead_detail(request, lead_id):
    token, error = _guard(request, method="GET")
    if error:
        return error
    if not token.can_read_routing:
        return request_error(403, _("This token may not read routing results; an administrator can allow it "
                                    "under Leads > API tokens."))
    lead = lead_for_token(token=token, lead_id=lead_id)
    if lead is None:
        return request_error(404, _("No lead with this id was sent with this token or its source."))
    return JsonResponse(lead_status_document(lead))
