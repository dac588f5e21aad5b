"""Public intake pages: the embeddable lead form and its thank-you page."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_exempt
from django_ratelimit.decorators import ratelimit

from leads.forms_intake import LeadIntakeForm
from leads.models import IntakeForm
from leads.services import lead_submit


def _form_rate(group, request):
    return settings.INTAKE_FORM_RATE


@xframe_options_exempt  # the form is meant to be embedded on the company's website
@ratelimit(key="ip", rate=_form_rate, method="POST", block=False)
def intake_form(request, slug):
    intake = get_object_or_404(IntakeForm, slug=slug, is_active=True)
    form = LeadIntakeForm(request.POST if request.method == "POST" else None, intake_form=intake)
    if request.method == "POST":
        if request.limited:
            return render(request, "intake/blocked.html", {"intake": intake, "reason": "rate"}, status=429)
        if form.is_spam:
            return render(request, "intake/blocked.html", {"intake": intake, "reason": "spam"}, status=400)
        if form.is_valid():
            try:
                lead_submit(raw=form.lead_values(), channel=f"form {intake.slug}", hidden_values=intake.hidden_values)
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                return redirect(intake.redirect_url or reverse("leads:intake_thanks", args=[slug]))
    status = 400 if form.errors else 200
    return render(request, "intake/form.html", {"intake": intake, "form": form}, status=status)


@xframe_options_exempt
def intake_thanks(request, slug):
    intake = get_object_or_404(IntakeForm, slug=slug, is_active=True)
    return render(request, "intake/thanks.html", {"intake": intake})
