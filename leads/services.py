"""Intake writes: one clean lead (or a merge into its open duplicate) per submission, whatever the source."""

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadrouting.i18n import site_language
from leads.dedupe import lock_identity, open_duplicate_of
from leads.matching import account_match
from leads.models import ApiSubmission, ApiToken, Lead, LeadEvent
from leads.normalise import lead_data_normalise
from routing.timeline import timeline_cause, timeline_text

# A token's last-used time is written at most this often: one UPDATE per request would serialise busy sources.
TOKEN_TOUCH_INTERVAL = dt.timedelta(minutes=1)
TOKEN_PREFIX = "lr_"
SUBMISSION_PREFIX = "sub_"


@dataclass(frozen=True)
class IntakeResult:
    lead: Lead
    created: bool
    merged: bool


class IdempotencyConflict(Exception):
    """The Idempotency-Key was already used with a different request body."""


def _json_safe(data: dict) -> dict:
    return {key: (DjangoJSONEncoder().default(value) if not isinstance(value, (str, int, type(None))) else value)
            for key, value in data.items()}


def lead_submit(*, raw: dict, channel: str, source: str = "", hidden_values: dict | None = None,
                form: str = "") -> IntakeResult:
    """Normalises one submission and creates a lead, or records it on the open lead of the same person.

    `channel` is "form" (with the intake form's slug in `form`), "api" or "csv"; the timeline says it
    in each reader's language (`routing.timeline`).

    Raises ValidationError({field: [message]}) and saves nothing when a value is wrong. Hidden values
    (set by the form's manager) and the API token's source win over what was submitted.
    """
    data = lead_data_normalise({**raw, **(hidden_values or {})})
    if source:
        data["source"] = source
    if not data.get("email") and not data.get("phone"):
        raise ValidationError({"email": [_("Give an email address or a phone number so that we can reach you.")]})
    with transaction.atomic():
        lock_identity(email=data.get("email", ""), phone=data.get("phone", ""))
        existing = open_duplicate_of(email=data.get("email", ""), phone=data.get("phone", ""),
                                     first_name=data.get("first_name", ""), last_name=data.get("last_name", ""))
        if existing is not None:
            lead_merge_submission(lead=existing, data=data, channel=channel, form=form)
            return IntakeResult(lead=existing, created=False, merged=True)
        lead = Lead(**data)
        match = account_match(domain=lead.domain, email=lead.email, company=lead.company)
        if match is not None:
            # Set before the first save: the routing engine reads lead.account as "the existing customer".
            lead.account, lead.account_match_method, lead.account_match_score = match.account, match.method, match.score
        lead.full_clean()
        lead.save()
        cause = timeline_cause("created", channel=channel, form=form)
        with site_language():
            message = timeline_text(cause)
        LeadEvent.objects.create(
            lead=lead, kind=LeadEvent.Kind.CREATED, message=message,
            data={"channel": channel, "source": lead.source, "account_match": lead.account_match_method, "cause": cause},
        )
    return IntakeResult(lead=lead, created=True, merged=False)


def lead_merge_submission(*, lead: Lead, data: dict, channel: str, form: str = "") -> LeadEvent:
    """Records a repeat submission on the lead's timeline; the lead keeps its owner and is not routed again."""
    cause = timeline_cause("resubmitted", channel=channel, form=form)
    with site_language():
        message = timeline_text(cause)
    return LeadEvent.objects.create(
        lead=lead, kind=LeadEvent.Kind.MERGED, message=message,
        data={"channel": channel, "source": data.get("source", ""), "submitted": _json_safe(data), "cause": cause},
    )


def request_hash(body: dict) -> str:
    return hashlib.sha256(DjangoJSONEncoder(sort_keys=True, separators=(",", ":")).encode(body).encode()).hexdigest()


def api_lead_submit(*, token: ApiToken, raw: dict, idempotency_key: str | None = None) -> tuple[ApiSubmission, bool]:
    """Submits one lead for an API token and records it under a new reference; returns (submission, replayed).

    A retry with the same Idempotency-Key and body returns the first submission (replayed=True) and changes
    nothing; the same key with another body raises IdempotencyConflict. Raises ValidationError like lead_submit.
    """
    body_hash = request_hash(raw) if idempotency_key is not None else ""
    with transaction.atomic():
        if idempotency_key is not None:
            if connection.vendor == "postgresql":
                # Two retries racing on one key: the second waits here, then finds the first one's submission.
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                                   [f"idempotency:{token.pk}:{idempotency_key}"])
            first = ApiSubmission.objects.filter(token=token, idempotency_key=idempotency_key).first()
            if first is not None:
                if not hmac.compare_digest(first.request_hash, body_hash):
                    raise IdempotencyConflict
                return first, True
        result = lead_submit(raw=raw, channel="api", source=token.source)
        submission = ApiSubmission.objects.create(
            token=token, reference=SUBMISSION_PREFIX + secrets.token_urlsafe(16), lead=result.lead,
            merged=result.merged, idempotency_key=idempotency_key, request_hash=body_hash,
        )
    return submission, False


def _token_hash(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def api_token_create(*, name: str, source: str, can_read_routing: bool = False) -> tuple[ApiToken, str]:
    """A new token and its secret, which is shown once and never stored."""
    raw_token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name, source=source, prefix=raw_token[:10], token_hash=_token_hash(raw_token),
                     can_read_routing=can_read_routing)
    token.full_clean()
    token.save()
    return token, raw_token


def api_token_authenticate(raw_token: str) -> ApiToken | None:
    """The active token with this secret (compared in constant time), its last use recorded; None otherwise."""
    if not raw_token.startswith(TOKEN_PREFIX) or len(raw_token) > 200:
        return None
    wanted = _token_hash(raw_token)
    token = next((candidate for candidate in ApiToken.objects.filter(prefix=raw_token[:10], revoked_at__isnull=True)
                  if hmac.compare_digest(candidate.token_hash, wanted)), None)
    if token is not None:
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_INTERVAL:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
    return token


def api_token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
