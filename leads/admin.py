"""Admin for accounts and leads; a lead's page shows its whole routing audit, read-only."""

from functools import partial

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_countries.filters import CountryFilter

from leadrouting.admin_autocomplete import AutocompleteIdsOnlyMixin
from leadrouting.admin_lists import LargeListMixin, LeadSearchMixin
from leadrouting.admin_labels import LabelledTabularInline
from leads.csv_import import CsvFileError, csv_decode, csv_read, leads_import, mapping_suggest, rows_check, rows_map
from leads.forms import AccountDomainForm, CsvMappingForm, CsvUploadForm
from leads.models import Account, AccountDomain, ApiToken, IntakeForm, Lead, LeadEvent
from leads.selectors import lead_column_values
from leads.services import api_token_create
from reps.admin import RepListFilter
from reps.scoping import lead_events_visible_to, leads_visible_to, manager_scope
from routing.admin import AssignmentInline, DecisionInline, ReadOnlyAdmin, ReadOnlyInline
from routing.forms import LeadReassignForm
from routing.reassignment import lead_reassign
from routing.simulation_admin import lead_simulation_response, may_simulate
from routing.timeline import event_text


class AccountDomainInline(LabelledTabularInline):
    model = AccountDomain
    form = AccountDomainForm
    extra = 1


@admin.register(Account)
class AccountAdmin(AutocompleteIdsOnlyMixin, admin.ModelAdmin):
    list_display = ["name", "parent", "owner", "is_customer", "domain_list", "created_at"]
    list_filter = ["is_customer"]
    list_select_related = ["parent", "owner__user"]
    search_fields = ["name", "domains__domain"]
    autocomplete_fields = ["parent", "owner"]
    inlines = [AccountDomainInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("domains")

    @admin.display(description=_("domains"))
    def domain_list(self, account):
        return ", ".join(domain.domain for domain in account.domains.all())


@admin.register(AccountDomain)
class AccountDomainAdmin(AutocompleteIdsOnlyMixin, admin.ModelAdmin):
    form = AccountDomainForm
    list_display = ["domain", "account"]
    list_select_related = ["account"]
    search_fields = ["domain", "account__name"]
    autocomplete_fields = ["account"]


class EventTextMixin:
    @admin.display(description=_("message"))
    def text(self, event):
        """The event's line in the reader's language (causes are data); an event without one, as written."""
        return event_text(event)


class EventInline(EventTextMixin, ReadOnlyInline):
    model = LeadEvent
    verbose_name_plural = _("timeline")
    fields = ["created_at", "kind", "text", "actor"]
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class LeadCountryFilter(CountryFilter):
    """The countries leads have, found along an index (django-countries' reads every lead for them)."""

    def lookup_choices(self, changelist):
        codes = set(lead_column_values("country"))
        return [(code, name) for code, name in self.field.get_choices(include_blank=False) if code in codes]


class LeadSourceFilter(admin.AllValuesFieldListFilter):
    """The sources leads have, found along an index (Django's reads every lead for them)."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.lookup_choices = lead_column_values("source")


class ScoreBandFilter(admin.SimpleListFilter):
    title = _("score")
    parameter_name = "score_band"
    BANDS = {"0-24": (None, 25), "25-49": (25, 50), "50-74": (50, 75), "75+": (75, None)}

    def lookups(self, request, model_admin):
        return [(band, band) for band in self.BANDS] + [("none", _("No score"))]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(score__isnull=True)
        if self.value() not in self.BANDS:
            return queryset
        low, high = self.BANDS[self.value()]
        if low is not None:
            queryset = queryset.filter(score__gte=low)
        return queryset.filter(score__lt=high) if high is not None else queryset


STATUS_LABELS = dict(Lead.Status.choices)


@admin.register(Lead)
class LeadAdmin(LargeListMixin, LeadSearchMixin, AutocompleteIdsOnlyMixin, admin.ModelAdmin):
    list_display = ["__str__", "company", "status_shown", "owner", "country_shown", "source", "score", "created_at"]
    # Each filter's choices come cheap: fixed lists, the reps (one query), the countries along an index.
    list_filter = [
        "status",
        ("owner", RepListFilter),
        ("country", LeadCountryFilter),
        ("source", LeadSourceFilter),
        ScoreBandFilter,
        "created_at",
    ]
    list_select_related = ["owner__user"]
    autocomplete_fields = ["account"]
    # Ownership and lifecycle change only through the routing services, which write the audit trail.
    readonly_fields = [
        "status", "owner", "pool", "account_match_method", "account_match_score", "created_at", "updated_at",
        "assigned_at", "first_touch_at", "closed_at", "routing_requested_at", "routing_attempts", "sla_due_at",
        "reassignment_count",
    ]
    fieldsets = [
        (_("Contact"), {"fields": [("first_name", "last_name"), "email", "phone", "job_title", "language"]}),
        (_("Company"), {"fields": ["company", "website", "domain", "account", "account_match_method",
                                   "account_match_score"]}),
        (_("Location"), {"fields": ["country", "region", "postal_code", "city"]}),
        (_("Qualification"), {"fields": ["industry", "employee_count", "deal_value", "seats", "product_interest",
                                         "use_case", "source", "score", "attributes"]}),
        (_("Ownership"), {"fields": ["status", "owner", "pool", "created_at", "updated_at", "assigned_at",
                                     "sla_due_at", "reassignment_count", "first_touch_at", "closed_at", "routing_requested_at", "routing_attempts"]}),
    ]
    inlines = [DecisionInline, AssignmentInline, EventInline]
    actions = ["reassign_leads", "simulate_routing"]
    change_list_template = "admin/leads/lead/change_list.html"  # adds the "Import CSV" button

    def get_queryset(self, request):
        # Reps see their own leads, as on their queue; managers those of their teams (manager_scope).
        return leads_visible_to(request.user, super().get_queryset(request))

    # The choices columns through the row's own value: a field column looks its label up in the field's choices,
    # rebuilt twice a row (the 250 countries' names: two thirds of the list's time).
    @admin.display(description=_("status"), ordering="status")
    def status_shown(self, lead):
        return STATUS_LABELS.get(lead.status, lead.status)

    @admin.display(description=_("country"), ordering="country")
    def country_shown(self, lead):
        return lead.country.name or None  # None: the list's "-" for no country, as the field column showed

    def get_urls(self):
        import_view = self.admin_site.admin_view(partial(lead_import_csv_view, self))
        return [path("import-csv/", import_view, name="leads_lead_import_csv"), *super().get_urls()]

    @admin.action(description=_("Reassign selected leads"), permissions=["change"])
    def reassign_leads(self, request, queryset):
        form = LeadReassignForm(request.POST if "apply" in request.POST else None,
                                scope=manager_scope(request.user))
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request), "title": _("Reassign leads"), "form": form,
                "leads": queryset, "opts": self.model._meta, "action_checkbox_name": ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/leads/lead/reassign.html", context)
        moved = 0
        for lead in queryset:
            try:
                lead_reassign(lead_id=lead.pk, actor=request.user, **form.cleaned_data)
                moved += 1
            except ValidationError as error:
                self.message_user(request, f"{lead}: {' '.join(error.messages)}", messages.ERROR)
        self.message_user(request, ngettext("%d lead reassigned.", "%d leads reassigned.", moved) % moved,
                          messages.SUCCESS)
        return None

    @admin.action(description=_("Simulate routing for the selected leads"), permissions=["simulate"])
    def simulate_routing(self, request, queryset):
        return lead_simulation_response(self, request, queryset)

    def has_simulate_permission(self, request):
        return may_simulate(request.user)


@admin.register(LeadEvent)
class LeadEventAdmin(LargeListMixin, EventTextMixin, ReadOnlyAdmin):
    list_display = ["created_at", "lead", "kind", "text", "actor"]
    list_filter = ["kind", "created_at"]  # a date range, not a drill-down (which reads every row's date)
    list_select_related = ["lead", "actor"]
    search_fields = ["message", "lead__email", "lead__company"]

    def get_queryset(self, request):
        return lead_events_visible_to(request.user, super().get_queryset(request))


# --- Intake ----------------------------------------------------------------


# The uploaded file waits in the session between "map columns", "preview" and "import".
CSV_SESSION_KEY = "leads_csv_import"
CSV_MAX_BYTES = 5 * 1024 * 1024


@admin.register(IntakeForm)
class IntakeFormAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "is_active", "public_link", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(description=_("public page"))
    def public_link(self, intake_form):
        url = reverse("leads:intake_form", args=[intake_form.slug])
        return format_html('<a href="{}" target="_blank">{}</a>', url, url)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "source", "can_read_routing", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["source", "can_read_routing"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    search_fields = ["name", "source", "prefix"]
    actions = ["revoke_tokens"]

    def get_fields(self, request, obj=None):
        editable = ["name", "source", "can_read_routing"]
        return editable if obj is None else [*editable, *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        token, raw_token = api_token_create(name=obj.name, source=obj.source, can_read_routing=obj.can_read_routing)
        obj.pk = token.pk
        self.message_user(request, format_html(
            _("Copy this token now, it will not be shown again: <code>{}</code>"), raw_token), messages.WARNING)
        return None

    @admin.action(description=_("Revoke selected tokens"), permissions=["change"])
    def revoke_tokens(self, request, queryset):
        revoked = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, ngettext("%d token revoked.", "%d tokens revoked.", revoked) % revoked)


def lead_import_csv_view(model_admin, request):
    """Upload -> map columns and preview -> import, with a per-row report."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    context = {**model_admin.admin_site.each_context(request), "title": _("Import leads from CSV"),
               "opts": model_admin.model._meta}
    stored = request.session.get(CSV_SESSION_KEY)
    if request.method == "POST" and "upload" in request.POST:
        upload = CsvUploadForm(request.POST, request.FILES)
        if upload.is_valid():
            file = upload.cleaned_data["file"]
            try:
                if file.size > CSV_MAX_BYTES:
                    raise CsvFileError(_("The file is larger than 5 MB; split it."))
                content = csv_decode(file.read())
                csv_read(content)  # refuses now what the mapping step could not read
            except CsvFileError as error:
                upload.add_error("file", str(error))
            else:
                request.session[CSV_SESSION_KEY] = {"content": content, "source": upload.cleaned_data["source"],
                                                    "name": file.name}
                return redirect("admin:leads_lead_import_csv")
        return TemplateResponse(request, "admin/leads/lead/import_csv.html", {**context, "upload": upload})
    if not stored or "restart" in request.POST:
        request.session.pop(CSV_SESSION_KEY, None)
        return TemplateResponse(request, "admin/leads/lead/import_csv.html", {**context, "upload": CsvUploadForm()})
    headers, rows = csv_read(stored["content"])
    mapping_form = CsvMappingForm(request.POST if request.method == "POST" else None, headers=headers,
                                  initial_mapping=mapping_suggest(headers))
    context.update({"mapping_form": mapping_form, "stored": stored, "row_count": len(rows)})
    if request.method == "POST" and mapping_form.is_valid():
        mapped = rows_map(rows, mapping_form.mapping())
        if "import" in request.POST:
            report = leads_import(mapped=mapped, source=stored["source"])
            request.session.pop(CSV_SESSION_KEY, None)
            return TemplateResponse(request, "admin/leads/lead/import_csv.html", {**context, "report": report})
        checked, fields = rows_check(mapped), list(mapping_form.mapping().values())
        preview = [{"line": row.line, "cells": [row.values.get(name, "") for name in fields], "errors": row.errors}
                   for row in checked[:20]]
        context.update({"preview": preview, "preview_failed": [row for row in checked if row.errors], "fields": fields})
    return TemplateResponse(request, "admin/leads/lead/import_csv.html", context)
