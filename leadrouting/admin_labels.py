"""Accessible names for the admin's tabular inlines: their column headings are no <label>, so each field gets one."""

from django.contrib import admin


class _LabelledFieldsFormSet:
    def add_fields(self, form, index):
        super().add_fields(form, index)  # adds DELETE and ORDER, which need a name too
        for field in form.fields.values():
            if not field.widget.is_hidden:
                # The admin's related-field wrapper renders its inner widget, whose attrs its copy does not share.
                widget = getattr(field.widget, "widget", field.widget)
                widget.attrs.setdefault("aria-label", field.label)


class LabelledTabularInline(admin.TabularInline):
    """A TabularInline whose every field is named after its column (aria-label), as WCAG 4.1.2 asks."""

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        return type(formset.__name__, (_LabelledFieldsFormSet, formset), {})
