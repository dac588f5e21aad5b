"""Admin forms for accounts and the CSV import."""

from django import forms

from django.utils.translation import gettext_lazy as _

from leads.domains import normalise_domain
from leads.models import INTAKE_FIELDS, AccountDomain


class AccountDomainForm(forms.ModelForm):
    class Meta:
        model = AccountDomain
        fields = ["account", "domain"]

    def clean_domain(self):
        # Normalised here too (AccountDomain.clean does it for every path) so that the
        # inline formset's duplicate check compares "www.acme.com" with "acme.com".
        return normalise_domain(self.cleaned_data["domain"])


class CsvUploadForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), help_text=_("First line: column names. Up to 5 MB."))
    source = forms.CharField(label=_("Source"), max_length=100, required=False,
                               help_text=_("Set on every imported lead, e.g. \"Trade fair 2025\"."))


class CsvMappingForm(forms.Form):
    def __init__(self, *args, headers, initial_mapping, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("— skip —"))] + [(name, name) for name in INTAKE_FIELDS]
        for index, header in enumerate(headers):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=header or f"#{index + 1}", choices=choices, required=False, initial=initial_mapping.get(index, ""))

    def clean(self):
        chosen = [value for value in self.cleaned_data.values() if value]
        doubled = sorted({value for value in chosen if chosen.count(value) > 1})
        if doubled:
            raise forms.ValidationError(_("Map each lead field once: %(fields)s mapped twice.")
                                        % {"fields": ", ".join(doubled)})
        if not chosen:
            raise forms.ValidationError(_("Map at least one column, e.g. the email column to email."))
        return self.cleaned_data

    def mapping(self):
        return {int(name.removeprefix("column_")): value for name, value in self.cleaned_data.items() if value}
