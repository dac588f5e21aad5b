"""Error answers: JSON under /api/, which promises JSON errors to machines; Django's HTML pages everywhere else.

Django calls these for an address no route matches (404), an exception in a view (500), a refused host or an
oversized body (400), PermissionDenied (403) and a failed CSRF check, wherever it happens.
"""

from django.utils.translation import gettext as _
from django.views import csrf, defaults

from leads.api import request_error

API_PREFIX = "/api/"


def _is_api(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


def bad_request(request, exception):
    if _is_api(request):
        return request_error(400, _("The request could not be read (its host, headers or body); check it and retry."))
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if _is_api(request):
        return request_error(403, _("This token may not do this; an administrator can see and change what it may do "
                                    "under Leads > API tokens."))
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    if _is_api(request):
        return request_error(404, _("No API endpoint at this address; see docs/openapi.yaml for the addresses."))
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return request_error(500, _("Something went wrong on our side. Retry later, with the same Idempotency-Key "
                                    "if you sent one, so that the lead is not created twice."))
    return defaults.server_error(request)


def csrf_failure(request, reason=""):
    if _is_api(request):
        return request_error(403, _("The request was refused (CSRF check): send the API token, not a cookie."))
    return csrf.csrf_failure(request, reason)
