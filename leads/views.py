"""Public intake pages: the embeddable lead form and its thank-you page."""

from functools import wraps

from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django.views.decorators.clickjacking import xframe_options_exempt
from django_ratelimit.decorators import ratelimit

from leadrouting.client_ip import client_ip_key
from leads.forms_intake import LeadIntakeForm
from leads.models import IntakeForm
from leads.services import lead_submit


def _form_rate(group, request):
    return settings.INTAKE_FORM_RATE


def in_requested_language(view):
    """?lang=de shows the page in German (a website embeds the form in its own language); else the browser's."""
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            language = translation.get_supported_language_variant(request.GET.get("lang", ""))
        except LookupError:  # none or unknown: LocaleMiddleware already chose from Accept-Language
            return view(request, *args, **kwargs)
        with translation.override(language):
            response = view(request, *args, **kwargs)
        response.headers["Content-Language"] = language
        return response
    return wrapper


def _with_lang(url, request):
    """The same ?lang on the next page (thank-you, back to the form) as on this one."""
    language = request.GET.get("lang", "")
    return f"{url}?{urlencode({'lang': language})}" if language else url


@xframe_options_exempt  # the form is meant to be embedded on the company's website
@ratelimit(key=client_ip_key, rate=_form_rate, method="POST", block=False)
@in_requested_language
def intake_form(request, slug):
    intake = get_object_or_404(IntakeForm, slug=slug, is_active=True)
    form = LeadIntakeForm(request.POST if request.method == "POST" else None, intake_form=intake)
    if request.method == "POST":
        if request.limited:
            return _blocked(request, intake, reason="rate", status=429)
        if form.is_spam:
            return _blocked(request, intake, reason="spam", status=400)
        if form.is_valid():
            try:
                lead_submit(raw=form.lead_values(), channel="form", form=intake.slug, hidden_values=intake.hidden_values)
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                return redirect(intake.redirect_url or _with_lang(reverse("leads:intake_thanks", args=[slug]), request))
    status = 400 if form.errors else 200
    return render(request, "intake/form.html", {"intake": intake, "form": form}, status=status)


def _blocked(request, intake, *, reason, status):
    back = _with_lang(reverse("leads:intake_form", args=[intake.slug]), request)
    return render(request, "intake/blocked.html", {"intake": intake, "reason": reason, "back": back}, status=status)


@xframe_options_exempt
@in_requested_language
def intake_thanks(request, slug):
    intake = get_object_or_404(IntakeForm, slug=slug, is_active=True)
    return render(request, "intake/thanks.html", {"intake": intake})
