"""Admin for accounts and leads; a lead's page shows its whole routing audit, read-only."""

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_countries.filters import CountryFilter

from leads.forms import AccountDomainForm
from leads.models import Account, AccountDomain, Lead, LeadEvent
from routing.admin import AssignmentInline, DecisionInline, ReadOnlyAdmin, ReadOnlyInline
from routing.forms import LeadReassignForm
from routing.reassignment import lead_reassign


class AccountDomainInline(admin.TabularInline):
    model = AccountDomain
    form = AccountDomainForm
    extra = 1


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
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
class AccountDomainAdmin(admin.ModelAdmin):
    form = AccountDomainForm
    list_display = ["domain", "account"]
    list_select_related = ["account"]
    search_fields = ["domain", "account__name"]
    autocomplete_fields = ["account"]


class EventInline(ReadOnlyInline):
    model = LeadEvent
    verbose_name_plural = _("timeline")
    fields = ["created_at", "kind", "message", "actor"]
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


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


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ["__str__", "company", "status", "owner", "country", "source", "score", "created_at"]
    list_filter = [
        "status",
        ("owner", admin.RelatedOnlyFieldListFilter),
        ("country", CountryFilter),
        "source",
        ScoreBandFilter,
        "created_at",
    ]
    list_select_related = ["owner__user"]
    search_fields = ["first_name", "last_name", "email", "company"]
    date_hierarchy = "created_at"
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
    actions = ["reassign_leads"]

    @admin.action(description=_("Reassign selected leads"), permissions=["change"])
    def reassign_leads(self, request, queryset):
        form = LeadReassignForm(request.POST if "apply" in request.POST else None)
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


@admin.register(LeadEvent)
class LeadEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "lead", "kind", "message", "actor"]
    list_filter = ["kind", "created_at"]
    list_select_related = ["lead", "actor"]
    search_fields = ["message", "lead__email", "lead__company"]
    date_hierarchy = "created_at"
