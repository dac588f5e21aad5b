"""Intake reads: what an API client may see of a lead."""

from django.db.models import Q

from leads.models import ApiToken, Lead, LeadEvent

# Ids above this are not in a bigint column: answered "not found" instead of asking the database.
MAX_LEAD_ID = 2**63 - 1


def lead_for_token(*, token: ApiToken, lead_id: int) -> Lead | None:
    """A lead of the token's source, or one its source's submissions were merged into."""
    if not 0 < lead_id <= MAX_LEAD_ID:
        return None
    merged_from_source = Q(events__kind=LeadEvent.Kind.MERGED, events__data__source=token.source)
    return (
        Lead.objects.select_related("owner__user", "account")
        .filter(Q(source=token.source) | merged_from_source, pk=lead_id)
        .distinct()
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
