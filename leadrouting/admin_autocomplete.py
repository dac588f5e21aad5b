"""Admin autocomplete fields that re-show a refused form instead of failing on a submitted value that is no id."""

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError


class AutocompleteSelectIgnoringJunk(AutocompleteSelect):
    """Labels only submitted values that can be ids.

    Django's autocomplete widget filters `id__in=<submitted values>` to label them, and a value like
    "abc" raised there (a 500) instead of the form coming back with "Select a valid choice".
    """

    @property
    def media(self):
        # Gives each select2 combobox its field's name (WCAG 4.1.2); listed with autocomplete.js so that it runs after.
        return super().media + forms.Media(js=["admin/js/autocomplete.js", "routing/admin_autocomplete_names.js"])

    def format_value(self, value):
        return [item for item in super().format_value(value) if self._is_an_id(item)]

    def _is_an_id(self, item) -> bool:
        try:
            return abs(int(self.field.target_field.to_python(item))) < 2**63
        except (ValidationError, TypeError, ValueError):
            return False


class AutocompleteIdsOnlyMixin:
    """For a ModelAdmin or inline with autocomplete_fields; list it before the admin base class."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = AutocompleteSelectIgnoringJunk(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
