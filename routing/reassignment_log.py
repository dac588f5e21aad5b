"""The reassignment log: every move of a lead from one owner to another, for the page and its CSV export."""

import datetime as dt
import itertools
from typing import NamedTuple

from django.db.models import Q, QuerySet

from leads.models import lead_label
from reps.models import Rep, Team, rep_name
from reps.scoping import TeamScope, assignments_in_scope, team_scope
from routing import daily_stats
from routing.models import Assignment
from routing.timeline import cause_text

REASSIGNMENT_KINDS = daily_stats.REASSIGNMENT_KINDS


LOG_FIELDS = (
    "created_at", "kind", "cause", "reason", "lead_id", "rep_id", "from_rep_id", "rule_id", "actor_id",
    "lead__first_name", "lead__last_name", "lead__email", "lead__company",
    "rep__user__first_name", "rep__user__last_name", "rep__user__username", "rule__name",
    "actor__username", "actor__first_name", "actor__last_name",
)


def reassignment_log(*, scope: TeamScope | None, date_from: dt.date | None = None, date_to: dt.date | None = None,
                     rep: Rep | None = None, team: Team | None = None, cause: str = "", rule=None) -> QuerySet:
    """Reassignments within the scope, newest first, each with the rep who had the lead before (`from_rep_id`).

    Days are the site's (as the dashboard's); `cause` is a cause code (Assignment.cause), never a search of stored text.
    """
    log = (
        assignments_in_scope(Assignment.objects.filter(kind__in=REASSIGNMENT_KINDS), scope)
        .select_related("lead", "rep__user", "rule", "actor")
        # Only what the log page shows (the CSV reads its own columns, LOG_ROW_COLUMNS): not five tables' every column.
        .only(*LOG_FIELDS)
        .order_by("-created_at", "-pk")
    )
    # Bounds on created_at itself (not its date in a time zone), so the index of the log serves them.
    if date_from:
        log = log.filter(created_at__gte=daily_stats.day_start(date_from))
    if date_to:
        log = log.filter(created_at__lt=daily_stats.day_start(date_to + dt.timedelta(days=1)))
    if rep is not None:
        log = log.filter(Q(rep=rep) | Q(from_rep_id=rep.pk))
    if team is not None:
        rep_ids = team_scope([team.pk]).rep_ids
        log = log.filter(Q(rep_id__in=rep_ids) | Q(from_rep_id__in=rep_ids))
    if cause:
        log = log.filter(cause__code=cause)
    if rule is not None:
        log = log.filter(rule=rule)
    return log


def with_from_reps(entries) -> list:
    """Attaches `from_rep` to each log entry with one query for all of them."""
    entries = list(entries)
    ids = {entry.from_rep_id for entry in entries if entry.from_rep_id}
    reps = {rep.pk: rep for rep in Rep.objects.filter(pk__in=ids).select_related("user")}
    for entry in entries:
        entry.from_rep = reps.get(entry.from_rep_id)
    return entries


class LogRow(NamedTuple):
    """A reassignment as the CSV writes it: names as the log page shows them, texts in the active language."""

    created_at: dt.datetime
    lead_id: int
    lead: str
    from_rep: str  # "" when nobody had the lead before
    rep: str
    kind: str
    reason: str
    rule: str
    actor: str | None  # the username; None when the system moved the lead


# The columns of a LogRow, in the order reassignment_log_rows unpacks them.
LOG_ROW_COLUMNS = (
    "created_at", "lead_id", "lead__first_name", "lead__last_name", "lead__email", "lead__company",
    "from_rep_id", "rep__user__first_name", "rep__user__last_name", "rep__user__username", "kind", "cause", "reason",
    "rule__name", "actor__username",
)


def reassignment_log_rows(log: QuerySet, *, chunk: int = 1000):
    """The log as LogRows, from plain tuples a chunk at a time: a year of it streams without a model instance a row.

    Five model instances a row were most of the CSV's time (0.4 ms a row, 19 s for 50,000 rows). Names come from
    lead_label and rep_name, as str(lead) and Rep.name give them on the page; the log holds no initial routing, so
    a reason is the cause's text (Assignment.reason_for_reader).
    """
    kinds = {value: str(label) for value, label in Assignment.Kind.choices}  # in the active language, once
    rows = log.values_list(*LOG_ROW_COLUMNS).iterator(chunk_size=chunk)
    while batch := list(itertools.islice(rows, chunk)):
        from_reps = _rep_names({row[6] for row in batch})
        for (created_at, lead_id, first_name, last_name, email, company, from_rep_id, rep_first_name, rep_last_name,
             rep_username, kind, cause, reason, rule, actor) in batch:
            yield LogRow(
                created_at=created_at, lead_id=lead_id,
                lead=lead_label(pk=lead_id, first_name=first_name, last_name=last_name, email=email, company=company),
                from_rep=from_reps.get(from_rep_id, ""),
                rep=rep_name(first_name=rep_first_name, last_name=rep_last_name, username=rep_username),
                kind=kinds.get(kind, kind), reason=cause_text(cause, default=reason), rule=rule or "", actor=actor,
            )


def _rep_names(rep_ids) -> dict:
    """Rep id -> name, with one query for all of them."""
    reps = Rep.objects.filter(pk__in=rep_ids - {None}).values_list(
        "pk", "user__first_name", "user__last_name", "user__username")
    return {pk: rep_name(first_name=first, last_name=last, username=username) for pk, first, last, username in reps}
