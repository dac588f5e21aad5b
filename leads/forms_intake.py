"""The public intake form, built from an IntakeForm's configuration."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from leads.models import IntakeForm, Lead
from leads.normalise import TEXT_LIMITS, lead_data_normalise

# A field people never see (hidden by CSS): bots that fill every input give themselves away.
HONEYPOT_FIELD = "nickname"
INPUT_TYPES = {"email": "email", "phone": "tel", "website": "url", "employee_count": "number", "seats": "number",
               "score": "number", "deal_value": "number"}
AUTOCOMPLETE = {"first_name": "given-name", "last_name": "family-name", "email": "email", "phone": "tel",
                "company": "organization", "job_title": "organization-title", "postal_code": "postal-code",
                "city": "address-level2", "region": "address-level1", "website": "url"}


class LeadIntakeForm(forms.Form):
    """Text in, as typed: normalisation and the real checks happen in leads.services.lead_submit."""

    def __init__(self, *args, intake_form: IntakeForm, **kwargs):
        super().__init__(*args, **kwargs)
        for name in intake_form.fields:
            model_field = Lead._meta.get_field(name)
            options = {
                "label": intake_form.labels.get(name) or capfirst(model_field.verbose_name),  # "E-Mail", not "E-mail"
                "help_text": intake_form.help_texts.get(name, ""),
                "required": name in intake_form.required_fields,
            }
            if name == "country":
                self.fields[name] = forms.ChoiceField(choices=[("", "—"), *countries], **options)
                continue
            attrs = {"autocomplete": AUTOCOMPLETE.get(name, "on")}
            if name in INPUT_TYPES:
                attrs["type"] = INPUT_TYPES[name]
            self.fields[name] = forms.CharField(max_length=TEXT_LIMITS.get(name, 30), widget=forms.TextInput(attrs),
                                                **options)
        self.fields[HONEYPOT_FIELD] = forms.CharField(
            required=False, label=_("Leave this field empty"),
            widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
        )

    @property
    def is_spam(self) -> bool:
        return bool(self.data.get(HONEYPOT_FIELD))

    def visible_fields(self):
        return [field for field in super().visible_fields() if field.name != HONEYPOT_FIELD]

    def clean(self):
        """The service's value checks too (an email address, a number), so every error shows in one round."""
        cleaned = super().clean()
        # Raw text of every field, also those a field check refused: the service's checks of the others still run.
        raw = {name: self.data.get(name, "") for name in self.fields if name != HONEYPOT_FIELD}
        try:
            lead_data_normalise(raw)
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                if name in self.fields and name not in self.errors:
                    self.add_error(name, messages)
        return cleaned

    def lead_values(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if name != HONEYPOT_FIELD}

    def add_service_errors(self, error: ValidationError) -> None:
        """Shows the service's errors next to their fields; errors about hidden values go on top."""
        for name, messages in error.message_dict.items():
            self.add_error(name if name in self.fields else None, messages)
