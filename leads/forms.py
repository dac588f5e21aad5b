"""Admin forms for accounts."""

from django import forms

from leads.models import AccountDomain, normalise_domain


class AccountDomainForm(forms.ModelForm):
    class Meta:
        model = AccountDomain
        fields = ["account", "domain"]

    def clean_domain(self):
        # Normalised here too (AccountDomain.clean does it for every path) so that the
        # inline formset's duplicate check compares "www.acme.com" with "acme.com".
        return normalise_domain(self.cleaned_data["domain"])
