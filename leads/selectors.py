"""Intake reads: what an API client may see of its submissions and, with the routing scope, of their leads."""

import re

from django.db.models import Exists, OuterRef, Q

from leads.models import ApiSubmission, ApiToken, Lead

# Ids above this are not in a bigint column: answered "not found" instead of asking the database.
MAX_LEAD_ID = 2**63 - 1
# What services.api_lead_submit hands out; anything else (a NUL byte, 10 KB of text) is not looked up.
SUBMISSION_REFERENCE = re.compile(r"sub_[A-Za-z0-9_-]{1,36}")


def submission_for_token(*, token: ApiToken, reference: str) -> ApiSubmission | None:
    """A submission this token made; another token's reference is not found, like an unknown one."""
    if not SUBMISSION_REFERENCE.fullmatch(reference):
        return None
    return (ApiSubmission.objects.select_related("lead__owner__user", "lead__account")
            .filter(token=token, reference=reference).first())


def submission_document(submission: ApiSubmission, *, with_routing: bool) -> dict:
    """What a token may read of its submission: the lead it reached and its routing only with the routing scope."""
    document = {"reference": submission.reference, "received_at": submission.created_at.isoformat()}
    if with_routing:
        document["lead"] = {**lead_status_document(submission.lead), "merged": submission.merged}
    return document


def lead_for_token(*, token: ApiToken, lead_id: int) -> Lead | None:
    """A lead of the token's source, or one its own submissions reached; for tokens with the routing scope.

    The scope is checked here as well as in the view, so no other caller can read a lead without it.
    """
    if not token.can_read_routing or not 0 < lead_id <= MAX_LEAD_ID:
        return None
    sent_by_token = ApiSubmission.objects.filter(lead=OuterRef("pk"), token=token)
    return (
        Lead.objects.select_related("owner__user", "account")
        .filter(Q(source=token.source) | Exists(sent_by_token), pk=lead_id)
        .first()
    )


def lead_status_document(lead: Lead) -> dict:
    """The API's view of a lead: status, owner and every assignment, newest first."""
    def rep(rep_obj):
        return {"id": rep_obj.pk, "name": str(rep_obj)} if rep_obj else None

    assignments = lead.assignments.select_related("rep__user", "rule").order_by("-created_at", "-id")
    return {
        "id": lead.pk,
        "status": lead.status,
        "owner": rep(lead.owner),
        "account": {"id": lead.account.pk, "name": lead.account.name, "match_method": lead.account_match_method}
        if lead.account else None,
        "created_at": lead.created_at.isoformat(),
        "assigned_at": lead.assigned_at.isoformat() if lead.assigned_at else None,
        "assignments": [
            {
                "rep": rep(assignment.rep),
                "kind": assignment.kind,
                "rule": assignment.rule.name if assignment.rule else None,
                "reason": assignment.reason,
                "is_current": assignment.is_current,
                "created_at": assignment.created_at.isoformat(),
                "ended_at": assignment.ended_at.isoformat() if assignment.ended_at else None,
            }
            for assignment in assignments
        ],
    }
