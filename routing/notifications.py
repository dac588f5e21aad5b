"""Emails about routing: a new lead for a rep, a lead moved away, a first-touch reminder, an escalation.

Writers register a notification with `*_on_commit`: nothing is sent for a transaction that
rolls back, and the email is built from the committed rows (reloaded by primary key), so it
never shows a state another write in the same transaction has already replaced. A mail
server that fails must not undo or stop routing: the lead keeps its new owner. Reps who left
(inactive) and people without an email address get nothing.

With NOTIFICATIONS_ASYNC each built email is its own `notifications` job: a transient failure
(the server unreachable or busy, a 4xx reply) is retried by RQ after each of
NOTIFICATIONS_RETRY_SECONDS; a permanent one (a 5xx reply, e.g. an unknown recipient) and the
last failed retry are written on the lead's timeline, saying whose email failed and why.
"""

import datetime as dt
import logging
import smtplib
from functools import partial

import django_rq
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from redis.exceptions import RedisError
from rq import Retry

from leadrouting.i18n import language_of, language_of_user, site_language
from leads.models import Lead, LeadEvent
from reps.models import Rep, Team
from routing.models import Assignment
from routing.timeline import cause_text, local_time_text, timeline_cause, timeline_text

logger = logging.getLogger("routing")
NOTIFICATION_QUEUE = "notifications"
# RQ stores a queued job as the path of its function. Every job this module queues is an entry point in
# routing/jobs.py, named here by that path, so renaming a helper below can never strand a queued email.
SEND_EMAIL_JOB = "routing.jobs.send_email"
OWNER_CHANGES_JOB = "routing.jobs.notify_owner_changes"
REMINDER_JOB = "routing.jobs.notify_reminder"
ESCALATION_JOB = "routing.jobs.notify_escalation"


def lead_url(lead_id: int) -> str:
    """The absolute address of the lead's page in the app (not the admin's), for links in emails."""
    return settings.SITE_URL + reverse("routing:lead_detail", args=[lead_id])


# --- Registering notifications (inside the writer's transaction) -------------------------------


def notify_owner_changes(*, changes: list):
    """Subscriber of routing.events.OWNER_CHANGED (after commit): the new owners and the previous ones are told.

    One queued job for all the changes of one transaction (a routing batch), not one each.
    """
    _deliver(OWNER_CHANGES_JOB, changes)


def notify_escalation_on_commit(*, lead_id: int, team_id: int | None, reason: dict, escalated_to_id: int | None):
    """Tells the managers of the team that an untouched lead needs them (and to whom it went, if anyone)."""
    transaction.on_commit(
        lambda: _deliver(ESCALATION_JOB, lead_id, team_id, reason=reason, escalated_to_id=escalated_to_id)
    )


def _deliver(job: str, *args, retry: Retry | None = None, in_process=None, **kwargs):
    """Hands the email to a `notifications` worker, so a routing worker never waits for a mail server.

    In the embedded mode (no Redis), in tests, or when Redis is down, it is sent right away: by `in_process`
    when given (the job itself assumes a worker), else by the job's function.
    """
    if settings.NOTIFICATIONS_ASYNC:
        try:
            django_rq.get_queue(NOTIFICATION_QUEUE).enqueue(job, args=args, kwargs=kwargs, result_ttl=0, retry=retry)
            return
        except RedisError as error:
            logger.warning("Could not queue an email (Redis: %s); sending it now.", error)
    (in_process or import_string(job))(*args, **kwargs)


# --- First-touch reminders (the sweep) -----------------------------------------------------------


def sla_send_reminders(*, now: dt.datetime, limit: int = 500) -> int:
    """Reminds owners of untouched leads due within ROUTING_SLA_REMINDER_MINUTES, once per assignment.

    The reminder is recorded as a note on the lead's timeline (data {"sla_reminder": true})
    in the same transaction: that row is what makes a second sweep, or a concurrent
    sweeper, skip the lead. A reassigned lead has a new `assigned_at`, so its new owner
    is reminded again.
    """
    minutes = settings.ROUTING_SLA_REMINDER_MINUTES
    if minutes <= 0:
        return 0
    window_end = now + dt.timedelta(minutes=minutes)
    sent = 0
    while sent < limit:
        with transaction.atomic():
            lead = _lock_next_lead_to_remind(now, window_end)
            if lead is None:
                break
            # Locked now: a statement with a fresh snapshot sees a reminder another sweeper just committed.
            if not _reminders_since_assignment(lead).exists():
                cause = timeline_cause("sla_reminder", rep=lead.owner.name, due=lead.sla_due_at.isoformat(),
                                       zone=lead.owner.time_zone)
                with site_language():
                    message = timeline_text(cause)
                LeadEvent.objects.create(
                    lead=lead, kind=LeadEvent.Kind.NOTE, message=message,
                    data={"sla_reminder": True, "rep_id": lead.owner_id, "cause": cause},
                )
                transaction.on_commit(lambda lead_id=lead.pk: _deliver(REMINDER_JOB, lead_id))
                sent += 1
    return sent


def _reminders_since_assignment(lead):
    """Reminder notes written since the lead's current assignment; `lead` is a Lead or OuterRef("pk")."""
    assigned_at = OuterRef("assigned_at") if isinstance(lead, OuterRef) else lead.assigned_at
    return LeadEvent.objects.filter(
        lead=lead, kind=LeadEvent.Kind.NOTE, data__sla_reminder=True, created_at__gte=assigned_at
    )


def _lock_next_lead_to_remind(now, window_end):
    # Served by the partial index lead_sla_due_untouched; SKIP LOCKED lets several sweepers share the work.
    return (
        Lead.objects.select_for_update(skip_locked=True, of=("self",))
        .annotate(already_reminded=Exists(_reminders_since_assignment(OuterRef("pk"))))
        .filter(
            sla_due_at__gt=now, sla_due_at__lte=window_end, first_touch_at__isnull=True,
            status=Lead.Status.ASSIGNED, owner__isnull=False, already_reminded=False,
        )
        .select_related("owner__user")
        .order_by("sla_due_at", "pk")
        .first()
    )


# --- Sending (after commit) ----------------------------------------------------------------------


def _current_assignments(assignment_ids):
    # An assignment already replaced by a later one is skipped: the later one's own email tells the story.
    return (
        Assignment.objects.select_related("lead", "rep__user", "rule")
        .filter(pk__in=assignment_ids, is_current=True).order_by("pk")
    )


class _CauseText:
    """A cause rendered when the email is rendered, so in the recipient's language."""

    def __init__(self, cause, default=""):
        self.cause, self.default = cause, default

    def __str__(self):
        return cause_text(self.cause, default=self.default)


def send_owner_changes(changes):
    """The changes of one transaction: their assignments read in one query, then an email each."""
    by_assignment = {change["assignment_id"]: change for change in changes if change["assignment_id"]}
    for assignment in _current_assignments(by_assignment):
        change = by_assignment[assignment.pk]
        # An escalation's new owner is a manager the escalation email already told; a rep who took the lead
        # themselves (a claim from a pool) knows already.
        told_already = change["cause"].get("code") == "escalation" or (
            change.get("actor_id") is not None and change["actor_id"] == assignment.rep.user_id)
        _tell_about_assignment(assignment, previous_owner_id=change["previous_owner_id"],
                               notify_new_owner=not told_already)
    for change in changes:
        if change["assignment_id"] is None and change["previous_owner_id"]:
            send_moved_away(change["lead_id"], change["previous_owner_id"], reason=_CauseText(change["cause"]),
                             new_owner=None)


# Jobs queued by the release before the one owner writer (still waiting in Redis during an upgrade).
def _send_assignment(assignment_id, *, previous_owner_id, notify_new_owner):
    for assignment in _current_assignments([assignment_id]):
        _tell_about_assignment(assignment, previous_owner_id=previous_owner_id, notify_new_owner=notify_new_owner)


def _send_assignments(pairs):
    previous_owners = dict(pairs)
    for assignment in _current_assignments(previous_owners):
        _tell_about_assignment(assignment, previous_owner_id=previous_owners[assignment.pk], notify_new_owner=True)


def _tell_about_assignment(assignment, *, previous_owner_id, notify_new_owner):
    lead = assignment.lead
    if notify_new_owner:
        _send(
            "lead_assigned", to_rep=assignment.rep, subject=gettext_lazy("New lead for you: %(lead)s"),
            context={"lead": lead, "assignment": assignment}, due_at=lead.sla_due_at,
        )
    if previous_owner_id and previous_owner_id != assignment.rep_id:
        send_moved_away(lead.pk, previous_owner_id, reason=_CauseText(assignment.cause, assignment.reason),
                         new_owner=assignment.rep)


def send_moved_away(lead_id, previous_owner_id, *, reason, new_owner):
    lead = Lead.objects.filter(pk=lead_id).first()
    previous = Rep.objects.select_related("user").filter(pk=previous_owner_id).first()
    if lead is None or previous is None or lead.owner_id == previous.pk:
        return
    _send(
        "lead_moved_away", to_rep=previous, subject=gettext_lazy("Lead moved away from you: %(lead)s"),
        context={"lead": lead, "reason": reason, "new_owner": new_owner},
    )


def send_reminder(lead_id):
    lead = Lead.objects.select_related("owner__user").filter(pk=lead_id).first()
    if lead is None or lead.owner is None or lead.first_touch_at is not None or lead.sla_due_at is None:
        return
    _send(
        "sla_reminder", to_rep=lead.owner, subject=gettext_lazy("Contact %(lead)s by %(due)s"),
        context={"lead": lead}, due_at=lead.sla_due_at,
    )


def send_escalation(lead_id, team_id, *, reason, escalated_to_id):
    lead = Lead.objects.select_related("owner__user").filter(pk=lead_id).first()
    team = Team.objects.filter(pk=team_id).first() if team_id else None
    if lead is None:
        return
    escalated_to = lead.owner if escalated_to_id and lead.owner_id == escalated_to_id else None
    managers = list(team.managers.filter(is_active=True).exclude(email="").select_related("rep")) if team else []
    if not managers:
        logger.warning("Lead %s escalated but %s has no manager with an email address.", lead_id, team or "no team")
        return
    for manager in managers:
        with language_of_user(manager):
            _send_email(
                "lead_escalated", to=manager.email,
                subject=_("Escalated lead needs you: %(lead)s") % {"lead": lead},
                # `reason` is a cause (data), rendered in the manager's language; a job queued before held the text.
                context={"lead": lead, "reason": timeline_text(reason) if isinstance(reason, dict) else reason,
                         "team": team, "escalated_to": escalated_to,
                         "recipient_name": manager.get_full_name() or manager.get_username()},
            )


# Emails queued before the entry points moved to routing/jobs.py name these paths; kept for one release.
_send_moved_away, _send_reminder, _send_escalation = send_moved_away, send_reminder, send_escalation


def _send(template, *, to_rep, subject, context, due_at=None):
    """An email to a rep in the rep's language: `subject` is a lazy message, formatted with the context."""
    if not to_rep.is_active or not to_rep.user.email:
        return
    with language_of(to_rep):
        context = {**context, "rep": to_rep, "recipient_name": to_rep.name, "due": _format_time(due_at, to_rep)}
        _send_email(template, to=to_rep.user.email, subject=subject % context, context=context)


def _send_email(template, *, to, subject, context):
    """Renders the email now (a retry sends the same message) and sends it, or queues it with retries."""
    context = {**context, "lead_url": lead_url(context["lead"].pk), "site_url": settings.SITE_URL}
    rep = context.get("rep")
    email = {
        "template": template, "lead_id": context["lead"].pk, "to": to, "recipient": context["recipient_name"],
        "rep_id": rep.pk if rep else None, "subject": str(subject),
        "body": render_to_string(f"emails/{template}.txt", context),
        "html": render_to_string(f"emails/{template}.html", context),
    }
    retry_seconds = settings.NOTIFICATIONS_RETRY_SECONDS
    retry = Retry(max=len(retry_seconds), interval=retry_seconds) if retry_seconds else None
    _deliver(SEND_EMAIL_JOB, {**email, "attempts": len(retry_seconds) + 1}, retry=retry,
             in_process=partial(email_send, retries_left=0))


class TransientEmailError(Exception):
    """The mail server may take this email later: RQ retries the job."""


def email_send(email: dict, *, retries_left: int, attempt: int = 1) -> None:
    """Sends one rendered email; with retries left a transient failure raises, else a failure is recorded."""
    message = EmailMultiAlternatives(subject=email["subject"], body=email["body"], to=[email["to"]])
    message.attach_alternative(email["html"], "text/html")
    try:
        message.send()
    except Exception as error:  # noqa: BLE001 — the routing is committed; a mail outage must not turn it into an error
        transient, reply = email_failure_of(error)
        if transient and retries_left:
            logger.warning("Could not send the %s email to %s (%s); retrying.", email["template"], email["to"], reply)
            raise TransientEmailError(reply) from error
        logger.error("Could not send the %s email to %s: %s", email["template"], email["to"], reply)
        email_failure_record(email=email, permanent=not transient, reply=reply, attempts=attempt)


def email_failure_of(error: Exception) -> tuple[bool, str]:
    """(transient?, the server's reply or the error) for an exception raised while sending an email."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        replies = list(error.recipients.values())
        return all(400 <= code < 500 for code, _text in replies), "; ".join(_reply(*r) for r in replies)
    if isinstance(error, smtplib.SMTPResponseException):  # sender or data refused, bad greeting, login failed
        return 400 <= error.smtp_code < 500, _reply(error.smtp_code, error.smtp_error)
    described = f"{type(error).__name__}: {error}"
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return True, described
    if isinstance(error, smtplib.SMTPException):  # e.g. STARTTLS not supported: fixing it takes a person
        return False, described
    return isinstance(error, OSError), described  # connection refused, timeout, unknown host, reset: transient


def _reply(code, text) -> str:
    text = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    return f"{code} {text}"


def email_failure_record(*, email: dict, permanent: bool, reply: str, attempts: int) -> None:
    """The lead's timeline says whose email was not sent, which one and why, in each reader's language."""
    if not Lead.objects.filter(pk=email["lead_id"]).exists():
        return  # deleted meanwhile: nobody will read its timeline
    cause = timeline_cause(
        "email_refused" if permanent else "email_failed",
        email=email["template"], recipient=email["recipient"], address=email["to"], rep_id=email["rep_id"],
        reply=reply, attempts=attempts,
    )
    with site_language():
        message = timeline_text(cause)
    LeadEvent.objects.create(lead_id=email["lead_id"], kind=LeadEvent.Kind.NOTE, message=message,
                             data={"cause": cause})


def _format_time(moment, rep) -> str:
    """The instant in the rep's own time zone, e.g. '14:30 (Europe/Berlin), Mon 2 Mar', in the active language."""
    return local_time_text(moment, rep.time_zone)
