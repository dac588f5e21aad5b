"""Causes on a lead's timeline: a code and its parameters stored in the event's data, rendered when read.

A writer stores `timeline_cause(code, **params)` as `data["cause"]` (and the site-language text
in `message`, for the admin's list and search); a reader calls `event_text(event)` and gets the
line in the active language. No code parses a stored sentence.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

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


RENDERERS = {
    "email_refused": _email_refused,  # a permanent failure (5xx): no retry
    "email_failed": _email_failed,  # transient failures until the last retry
}


def timeline_text(cause: dict) -> str:
    """The cause in the active language."""
    return RENDERERS[cause["code"]](cause["params"])


def event_text(event) -> str:
    """A timeline event's line in the active language; events written before causes were data keep their text."""
    cause = event.data.get("cause") if isinstance(event.data, dict) else None
    if cause and cause.get("code") in RENDERERS:
        return timeline_text(cause)
    return event.message
