"""Admin forms for the organisation: checks that need more than one row at a time."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from reps.models import WorkingHours, first_overlapping_shifts


def _overlap_message(shift, other) -> str:
    return _(
        "%(first)s overlaps %(second)s. Shifts of one calendar must not overlap: shorten one or merge them."
    ) % {"first": shift, "second": other}


class WorkingHoursFormSet(forms.BaseInlineFormSet):
    """All shifts of one calendar, checked together so that rows edited in the same save are compared."""

    def clean(self):
        super().clean()
        shifts = [
            form.instance
            for form in self.forms
            if form.cleaned_data and not form.errors and not self._should_delete_form(form)
        ]
        overlap = first_overlapping_shifts(shifts)
        if overlap:
            raise ValidationError(_overlap_message(*overlap))


class WorkingHoursForm(forms.ModelForm):
    """One shift edited on its own: compared with the calendar's saved shifts."""

    class Meta:
        model = WorkingHours
        fields = ["calendar", "weekday", "start", "end"]

    def clean(self):
        cleaned_data = super().clean()
        if self.errors:
            return cleaned_data
        shift = WorkingHours(**{name: cleaned_data[name] for name in self._meta.fields})
        others = WorkingHours.objects.filter(calendar=shift.calendar).exclude(pk=self.instance.pk)
        other = next((other for other in others if shift.overlaps(other)), None)
        if other is not None:
            raise ValidationError(_overlap_message(shift, other))
        return cleaned_data
