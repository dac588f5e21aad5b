"""Lead reads: the admin's lead search and country list; what an API client may see of its submissions and leads."""

import re

from django.db import connection
from django.db.models import Exists, OuterRef, Q
from django.db.models.lookups import IContains

from leads.models import ApiSubmission, ApiToken, Lead, lead_search_text

# Ids above this are not in a bigint column: answered "not found" instead of asking the database.
MAX_LEAD_ID = 2**63 - 1
# What services.api_lead_submit hands out; anything else (a NUL byte, 10 KB of text) is not looked up.
SUBMISSION_REFERENCE = re.compile(r"sub_[A-Za-z0-9_-]{1,36}")
# A trigram index finds words of 3 characters or more; a shorter one would read every lead.
MIN_SEARCH_WORD = 3
# A whole address is looked up in the lead_email index: its many trigrams would cost the trigram index seconds.
EMAIL_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def lead_search_q(term: str) -> Q | None:
    """Leads matching every word of `term`: a number is a lead's id, an address its email, other words appear in
    its email, name or company.

    Only indexed columns are read (Lead.Meta: lead_email, lead_search_trgm). Words shorter than
    MIN_SEARCH_WORD are left out ("Kunde AG" looks for "Kunde"); None when no word is left.
    """
    found, searched = Q(), False
    for word in term.split():
        if word.isdigit():
            found &= Q(pk=int(word)) if int(word) <= MAX_LEAD_ID else Q(pk__in=[])
        elif EMAIL_ADDRESS.fullmatch(word):
            found &= Q(email__in=sorted({word, word.lower()}))  # stored lower-cased (leads.normalise), or as typed
        elif len(word) >= MIN_SEARCH_WORD:
            found &= Q(IContains(lead_search_text(), word))
        else:
            continue
        searched = True
    return found if searched else None


# Lead columns with a few distinct values and an index the admin's filters list them from.
LEAD_FILTER_COLUMNS = ("country", "source")


def lead_column_values(column: str) -> list:
    """The non-blank values leads have in `column`, in order, by skipping along its index: one probe per value.

    A DISTINCT would read every lead; PostgreSQL has no skip scan, so the recursion asks the
    index for the next value after the last one found.
    """
    if column not in LEAD_FILTER_COLUMNS:
        raise ValueError(f"{column} is not one of {LEAD_FILTER_COLUMNS}")
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE found(value) AS ("
            f" SELECT min({column}) FROM leads_lead"
            f" UNION ALL"
            f" SELECT (SELECT min({column}) FROM leads_lead WHERE {column} > value) FROM found WHERE value IS NOT NULL"
            f") SELECT value FROM found WHERE value <> ''"
        )
        return [value for (value,) in cursor.fetchall()]


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
