"""Error answers: JSON under /api/, which promises JSON errors to machines; the app's own pages everywhere else.

Django calls these for an address no route matches (404), an exception in a view (500), a refused host or an
oversized body (400), PermissionDenied (403) and a failed CSRF check, wherever it happens. The pages use the
app's layout (in the reader's language), show the message the code raised for people (PermissionDenied("Only
reps have a lead queue.")) and say what to do next.
"""

import logging

from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import defaults

from leads.api import request_error

API_PREFIX = "/api/"
logger = logging.getLogger("django.request")


def _page(request, status, title, what_to_do, message=""):
    return render(request, "errors/error.html", {"title": title, "what_to_do": what_to_do, "message": message},
                  status=status)


def _is_api(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


def bad_request(request, exception):
    if _is_api(request):
        return request_error(400, _("The request could not be read (its host, headers or body); check it and retry."))
    return _page(request, 400, _("The request could not be read"),
                  _("Go back, reload the page and try again."))


def permission_denied(request, exception):
    if _is_api(request):
        return request_error(403, _("This token may not do this; an administrator can see and change what it may do "
                                    "under Leads > API tokens."))
    # The message of a PermissionDenied raised by the app is written for people; Django's own have none.
    return _page(request, 403, _("You may not open this page"),
                 _("Sign in as someone who may open it, or go to your home page."), message=str(exception or ""))


def page_not_found(request, exception):
    if _is_api(request):
        return request_error(404, _("No API endpoint at this address; see docs/openapi.yaml for the addresses."))
    # Not the exception's text: it can name a model or a query ("No Lead matches the given query.").
    return _page(request, 404, _("Page not found"),
                 _("Check the address; the lead or page may have been deleted, or is not one you can see."))


def server_error(request):
    if _is_api(request):
        return request_error(500, _("Something went wrong on our side. Retry later, with the same Idempotency-Key "
                                    "if you sent one, so that the lead is not created twice."))
    try:
        return _page(request, 500, _("Something went wrong on our side"),
                     _("Try again in a minute. If it keeps happening, tell your administrator what you were doing."))
    except Exception:  # noqa: BLE001 — the page itself failed (a template, the database): Django's plain one
        logger.exception("The error page could not be rendered")
        return defaults.server_error(request)


def csrf_failure(request, reason=""):
    if _is_api(request):
        return request_error(403, _("The request was refused (CSRF check): send the API token, not a cookie."))
    return _page(request, 403, _("The form was refused"),
                 _("The page was open too long or cookies are blocked. Go back, reload the page, fill the form in "
                   "again and send it; this site needs cookies."))
