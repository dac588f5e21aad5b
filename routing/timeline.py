"""Causes on a lead's timeline: a code and its parameters stored in the event's data, rendered when read.

A writer stores `timeline_cause(code, **params)` as `data["cause"]` (and the site-language text
in `message`, for the admin's list and search); a reader calls `event_text(event)` and gets the
line in the active language. No code parses a stored sentence.

Owner changes (`routing.ownership`) store their cause the same way, on the event and on the
assignment, with who had the lead and who has it now (`data["change"]`) and, when the rules
decided, the decision's outcome (`data["outcome"]`); `cause_text` renders the cause alone, e.g.
for "Why you" and the "lead moved away" email.
"""

import datetime as dt

from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from leads.models import Lead
from reps.availability import zone_or_utc

# Which email it was, by its template.
EMAIL_KINDS = {
    "lead_assigned": gettext_lazy("new lead"),
    "lead_moved_away": gettext_lazy("lead moved away"),
    "sla_reminder": gettext_lazy("first-touch reminder"),
    "lead_escalated": gettext_lazy("escalation"),
}


def timeline_cause(code: str, **params) -> dict:
    """The stored form of a cause: JSON-safe, so params are plain values (ids, names, codes)."""
    return {"code": code, "params": params}


def local_time_text(moment: dt.datetime | None, time_zone: str) -> str:
    """The instant in a rep's time zone, e.g. '14:30 (Europe/Berlin), Mon 2 Mar', in the active language."""
    if moment is None:
        return ""
    local = timezone.localtime(moment, zone_or_utc(time_zone))
    return f"{local:%H:%M} ({time_zone}), {dateformat.format(local, 'D j M')}"


def _email_params(params):
    return {**params, "email": EMAIL_KINDS.get(params["email"], params["email"])}


def _email_refused(params):
    return _("The mail server refused the %(email)s email to %(recipient)s (%(address)s): %(reply)s") % (
        _email_params(params)
    )


def _email_failed(params):
    return ngettext(
        "The %(email)s email to %(recipient)s (%(address)s) was not sent after %(attempts)d attempt: %(reply)s",
        "The %(email)s email to %(recipient)s (%(address)s) was not sent after %(attempts)d attempts: %(reply)s",
        params["attempts"],
    ) % _email_params(params)


# --- Why a lead changed owner (Assignment.cause, LeadEvent.data["cause"]) ---------------------------

def _legacy(params):
    """Rows written before causes were data keep the text they were written with (data migration)."""
    return params.get("text")


def _rule(params):
    if params.get("rule") is None:
        return _("No rule")
    return _("Rule '%(rule)s'") % params


def _sla_breach(params):
    text = _legacy(params)
    if text is not None:
        return text
    text = _("SLA breach: not contacted within %(minutes)s minutes") % params
    if params.get("nobody_eligible") == "team":
        return _("%(reason)s, and nobody in %(team)s is eligible") % {"reason": text, "team": params["team"]}
    if params.get("nobody_eligible") == "rules":
        return _("%(reason)s, and no other rep is eligible") % {"reason": text}
    return text


def _escalation(params):
    text = _legacy(params)
    if text is not None:
        return text
    return _("%(reason)s: escalated to a manager") % {"reason": _sla_breach(params)}


def _manual(params):
    return params.get("note") or _legacy(params) or ""  # the manager's own words, as typed


def _claim(params):
    return _legacy(params) or _("Claimed from pool '%(pool)s'") % params


def _needs_manager(params):
    """Escalated and nobody took it: the breach, then who must act."""
    team = params.get("manager_team") or _("the routing team")
    return _("%(reason)s. Needs a manager: no manager of %(team)s can take it; assign it by hand.") % {
        "reason": _sla_breach(params), "team": team}


def _sla_reminder(params):
    due = local_time_text(dt.datetime.fromisoformat(params["due"]), params["zone"])
    return _("Reminder sent to %(rep)s: first contact due by %(due)s.") % {"rep": params["rep"], "due": due}


def _status(params):
    """A status change (`leads.lifecycle`): from, to, and the reason the person gave, as typed."""
    line = f"{Lead.Status(params['from']).label} → {Lead.Status(params['to']).label}"
    return f"{line}: {params['reason']}" if params.get("reason") else line


def _created(params):
    """A lead's first line: through which channel (`leads.services.lead_submit`)."""
    if params["channel"] == "form" and params.get("form"):
        return _("Created from form %(form)s.") % params
    if params["channel"] == "api":
        return _("Created through the API.")
    if params["channel"] == "csv":
        return _("Created from a CSV import.")
    return _("Created from %(channel)s.") % params


def _resubmitted(params):
    if params["channel"] == "form" and params.get("form"):
        return _("The same person submitted again through form %(form)s.") % params
    if params["channel"] == "api":
        return _("The same person submitted again through the API.")
    if params["channel"] == "csv":
        return _("The same person submitted again in a CSV import.")
    return _("The same person submitted again through %(channel)s.") % params


def _rep_deactivated(params):
    return _("rep deactivated")


def _rep_away(params):
    return _("rep away")


# --- What the rules decided (the last line of a routing event and of the explanation) ----------------

def _chosen(params):
    return _("Chosen: %(rep)s by rule '%(rule)s'.") % params


def _pooled(params):
    return _("Waiting in pool '%(pool)s' until a rep claims it.") % params


def _nurtured(params):
    return _("Sent to nurture by rule '%(rule)s': no rep assigned.") % params


def _unroutable(params):
    return _("Unroutable: no rep was assigned. Fix the rules or assign the lead by hand.")


RENDERERS = {
    "email_refused": _email_refused,  # a permanent failure (5xx): no retry
    "email_failed": _email_failed,  # transient failures until the last retry
    # Causes of an owner change.
    "rule": _rule,  # the routing rules placed the lead
    "sla_breach": _sla_breach,  # not contacted in time: moved on (params: minutes, nobody_eligible, team)
    "escalation": _escalation,  # not contacted in time, given to a manager (the same params)
    "manual": _manual,  # a manager moved it (params: note)
    "claim": _claim,  # a rep took it from a pool (params: pool)
    "rep_deactivated": _rep_deactivated,
    "rep_away": _rep_away,
    # Other timeline lines.
    "created": _created,  # params: channel ("form", "api", "csv"), form (the intake form's slug)
    "resubmitted": _resubmitted,  # the same params
    "needs_manager": _needs_manager,  # escalated, no manager can take it (the sla_breach params, manager_team)
    "sla_reminder": _sla_reminder,  # params: rep, due (ISO instant), zone (the rep's time zone)
    "status": _status,  # params: from, to (Lead.Status values), reason
    # Outcomes of a routing run.
    "chosen": _chosen,
    "pooled": _pooled,
    "nurtured": _nurtured,
    "unroutable": _unroutable,
}


def timeline_text(cause: dict) -> str:
    """The cause in the active language."""
    return RENDERERS[cause["code"]](cause["params"])


def cause_text(cause: dict | None, *, default: str = "") -> str:
    """An owner change's cause in the active language; `default` (the stored text) when there is none."""
    if cause and cause.get("code") in RENDERERS:
        return timeline_text(cause)
    return default


def owner_change_text(data: dict) -> str:
    """The timeline line of an owner change, from the event's data (see `routing.ownership`)."""
    cause, change, outcome = data["cause"], data["change"], data.get("outcome")
    outcome_line = timeline_text(outcome) if outcome else ""
    if not change.get("reassigned"):
        return outcome_line  # a first routing: what the rules decided is the whole story
    if cause["code"] == "claim":
        return _("%(rep)s claimed the lead from pool '%(pool)s'.") % {"rep": change["to"], "pool": cause["params"]["pool"]}
    names = {"old": change["from"] or _("nobody"), "new": change["to"] or _("nobody"), "pool": change.get("pool"),
             "reason": timeline_text(cause)}
    if not change["to"] and change.get("pool"):
        line = _("%(old)s → pool %(pool)s, %(reason)s.") % names
    else:
        line = "%(old)s → %(new)s, %(reason)s." % names
    return f"{line} {outcome_line}" if outcome_line else line


def event_text(event) -> str:
    """A timeline event's line in the active language; events written before causes were data keep their text."""
    data = event.data if isinstance(event.data, dict) else {}
    cause = data.get("cause")
    if not cause or cause.get("code") not in RENDERERS:
        return event.message
    if "change" in data:
        return owner_change_text(data)
    return timeline_text(cause)
