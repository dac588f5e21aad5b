"""Admin for routing: ordered rules that managers drag into place, pools, and the read-only audit trail."""

from functools import partial

from adminsortable2.admin import SortableAdminMixin
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.urls import path, reverse
from django.template.defaultfilters import linebreaksbr
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy

from leadrouting.admin_autocomplete import AutocompleteIdsOnlyMixin
from leadrouting.admin_lists import LargeListMixin, LeadSearchMixin
from leadrouting.admin_labels import LabelledTabularInline
from leads.models import LEAD_LABEL_COLUMNS, Lead
from reps.admin import RepListFilter, RepsOfMyTeamsMixin
from reps.models import REP_NAME_COLUMNS
from reps.scoping import assignments_in_scope, decisions_in_scope, leads_in_scope, manager_scope
from routing.admin_config_file import ConfigFileAdminMixin
from routing.experiments import experiment_start, experiment_stop
from routing.forms import RoutingRuleForm, RuleConditionForm, SkillRequirementFormSet
from routing.models import (
    Assignment,
    Pool,
    RotationState,
    RoutingDecision,
    RoutingExperiment,
    RoutingRule,
    RuleCondition,
    RuleSkillRequirement,
)
from routing.simulation_admin import rule_simulation_view, simulation_run_view
from routing.validation import is_rule_priority_clash, rule_priorities_check_now, rule_priorities_lock


class ReadOnlyAdmin(admin.ModelAdmin):
    """Audit rows can be searched and read; the routing services are their only writers."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AuditTextMixin:
    """The audit rows' texts rendered in the reader's language (causes and explanations are stored as data)."""

    @admin.display(description=gettext_lazy("explanation"))
    def explanation_shown(self, decision):
        return linebreaksbr(decision.explained)

    @admin.display(description=gettext_lazy("reason"))
    def reason_shown(self, assignment):
        return assignment.reason_for_reader


class ReadOnlyInline(admin.TabularInline):
    """Audit rows shown on the page of what they belong to, never edited by hand."""

    extra = 0
    can_delete = False
    show_change_link = True

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DecisionInline(AuditTextMixin, ReadOnlyInline):
    model = RoutingDecision
    verbose_name_plural = gettext_lazy("routing decisions (newest first)")
    fields = ["created_at", "outcome", "rule", "chosen_rep", "duration_ms", "worker", "explanation_shown"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("rule", "chosen_rep__user").order_by("-created_at", "-id")


class AssignmentInline(AuditTextMixin, ReadOnlyInline):
    model = Assignment
    verbose_name_plural = gettext_lazy("assignment history (newest first)")
    fields = ["rep", "kind", "rule", "reason_shown", "actor", "is_current", "created_at", "ended_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("rep__user", "rule", "actor").order_by("-created_at", "-id")


@admin.register(Pool)
class PoolAdmin(admin.ModelAdmin):
    list_display = ["name", "waiting_leads"]
    search_fields = ["name"]
    filter_horizontal = ["teams", "reps"]

    def get_queryset(self, request):
        # Pools are configuration, shared by every team; the leads waiting in them are the teams' data.
        scope = manager_scope(request.user)
        in_scope = None if scope is None else Q(leads__in=leads_in_scope(Lead.objects.all(), scope))
        return super().get_queryset(request).annotate(waiting_leads=Count("leads", filter=in_scope))

    @admin.display(description=gettext_lazy("leads waiting"), ordering="waiting_leads")
    def waiting_leads(self, pool):
        return pool.waiting_leads


class RuleConditionInline(LabelledTabularInline):
    model = RuleCondition
    form = RuleConditionForm
    extra = 1


class RuleSkillRequirementInline(AutocompleteIdsOnlyMixin, LabelledTabularInline):
    model = RuleSkillRequirement
    formset = SkillRequirementFormSet
    autocomplete_fields = ["skill"]
    extra = 1


@admin.register(RoutingRule)
class RoutingRuleAdmin(ConfigFileAdminMixin, AutocompleteIdsOnlyMixin, SortableAdminMixin, admin.ModelAdmin):
    form = RoutingRuleForm
    list_display = ["priority", "name", "is_active", "target", "strategy", "condition_summary"]
    list_filter = ["is_active", "target_type", "strategy"]
    search_fields = ["name", "description"]
    autocomplete_fields = ["target_rep", "target_team", "pool"]
    # Declared fieldsets keep priority on the form (sortable2 drops it from automatic field lists).
    fieldsets = [
        (None, {"fields": ["name", "description", "is_active", "priority"]}),
        (gettext_lazy("Assign to"), {"fields": [
            "target_type", "target_rep", "target_team", "include_sub_teams", "use_parent_account_owner", "pool",
        ]}),
        (gettext_lazy("How"), {"fields": ["match_mode", "strategy", "when_none_eligible", "performance_window_days",
                                          "performance_outcome_days", "performance_new_rep_share", "sla_minutes",
                                          "sla_working_time_only", "sla_breach_action", "sla_escalation_team",
                                          "sla_escalation_pool"]}),
    ]
    inlines = [RuleConditionInline, RuleSkillRequirementInline]

    class Media:
        css = {"all": ["routing/admin_pages.css"]}  # underlined breadcrumb links (WCAG 1.4.1)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("target_rep__user", "target_team", "pool")
            .prefetch_related("conditions")
        )

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        # Dragging renumbers the visible rows from their neighbours' priorities; with rules
        # hidden by a filter or a search the new numbers could collide with hidden rules.
        if changelist.has_active_filters or changelist.query:
            self.enable_sorting = False
        return changelist

    def get_urls(self):
        simulate = self.admin_site.admin_view(partial(rule_simulation_view, self))
        run = self.admin_site.admin_view(partial(simulation_run_view, self))
        return [path("simulate/", simulate, name="routing_routingrule_simulate"),
                path("simulate/<int:run_id>/", run, name="routing_routingrule_simulation"), *super().get_urls()]

    def update_order(self, request):
        try:
            with transaction.atomic():
                rule_priorities_lock()
                response = super().update_order(request)
                if response.status_code != 200:
                    transaction.set_rollback(True)
                    return response
                rule_priorities_check_now()
        except IntegrityError as error:
            if not is_rule_priority_clash(error):
                raise
            return HttpResponseBadRequest(_("This order would give two rules the same priority; reload the list."))
        return response

    def save_model(self, request, obj, form, change):
        # sortable2 would put a new rule last; the form already chose its priority (typed, or last).
        rule_priorities_lock()
        admin.ModelAdmin.save_model(self, request, obj, form, change)
        rule_priorities_check_now()

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # On a clash, once more: another manager's rule took this priority after the form was checked and is
        # committed now, so checked again the form says so next to the priority, with everything typed still there.
        for _attempt in range(2):
            try:
                return super().changeform_view(request, object_id, form_url, extra_context)
            except IntegrityError as error:
                if not is_rule_priority_clash(error):
                    raise
        messages.error(request, _("Another rule took this priority while you saved; nothing was saved. Try again."))
        return HttpResponseRedirect(request.get_full_path())

    @admin.display(description=gettext_lazy("assign to"), ordering="target_type")
    def target(self, rule):
        Target = RoutingRule.TargetType
        detail = {Target.REP: rule.target_rep, Target.TEAM: rule.target_team, Target.POOL: rule.pool}.get(
            rule.target_type
        )
        label = rule.get_target_type_display()
        return f"{label}: {detail}" if detail else label

    @admin.display(description=gettext_lazy("conditions"))
    def condition_summary(self, rule):
        joiner = _(" and ") if rule.match_mode == RoutingRule.MatchMode.ALL else _(" or ")
        return joiner.join(str(condition) for condition in rule.conditions.all()) or _("every lead")


@admin.register(RuleCondition)
class RuleConditionAdmin(AutocompleteIdsOnlyMixin, admin.ModelAdmin):
    form = RuleConditionForm
    fields = ["rule", "field", "operator", "value"]
    list_display = ["rule", "field", "operator", "value"]
    list_filter = ["operator", "rule"]
    list_select_related = ["rule"]
    search_fields = ["field", "value", "rule__name"]
    autocomplete_fields = ["rule"]


@admin.register(RuleSkillRequirement)
class RuleSkillRequirementAdmin(AutocompleteIdsOnlyMixin, admin.ModelAdmin):
    list_display = ["rule", "skill", "min_level"]
    list_filter = ["skill", "rule"]
    list_select_related = ["rule", "skill"]
    search_fields = ["rule__name", "skill__name"]
    autocomplete_fields = ["rule", "skill"]


@admin.register(RotationState)
class RotationStateAdmin(RepsOfMyTeamsMixin, ReadOnlyAdmin):
    list_display = ["rule", "rep", "last_assigned_at", "assigned_count", "virtual_pass"]
    list_filter = ["rule"]
    list_select_related = ["rule", "rep__user"]
    search_fields = ["rule__name", "rep__user__first_name", "rep__user__last_name"]


@admin.register(Assignment)
class AssignmentAdmin(LargeListMixin, LeadSearchMixin, AuditTextMixin, ReadOnlyAdmin):
    list_display = ["created_at", "lead", "rep", "kind", "rule", "is_current", "ended_at"]
    # A date range, not a drill-down (which reads every row's date); reps listed in one query.
    list_filter = ["created_at", "kind", "is_current", ("rep", RepListFilter), "rule"]
    list_select_related = ["lead", "rep__user", "rule"]
    list_columns = ["created_at", "kind", "is_current", "ended_at", "rule__name",
                    *(f"lead__{column}" for column in LEAD_LABEL_COLUMNS),
                    *(f"rep__{column}" for column in REP_NAME_COLUMNS)]
    lead_field = "lead"
    count_order = ["lead_id"]  # assignment_lead_reps holds the lead and the reps a manager's scope tests
    fields = ["lead", "rep", "kind", "rule", "strategy", "reason_shown", "actor", "experiment", "experiment_group",
              "is_current", "created_at", "ended_at"]

    def get_queryset(self, request):
        return assignments_in_scope(super().get_queryset(request), manager_scope(request.user))


@admin.register(RoutingDecision)
class RoutingDecisionAdmin(LargeListMixin, LeadSearchMixin, AuditTextMixin, ReadOnlyAdmin):
    list_display = ["created_at", "lead", "outcome", "rule", "chosen_rep", "duration_ms", "worker"]
    # A date range, not a drill-down (which reads every row's date); reps listed in one query.
    list_filter = ["created_at", "outcome", ("chosen_rep", RepListFilter), "rule"]
    list_select_related = ["lead", "rule", "chosen_rep__user"]
    list_columns = ["created_at", "outcome", "duration_ms", "worker", "rule__name",
                    *(f"lead__{column}" for column in LEAD_LABEL_COLUMNS),
                    *(f"chosen_rep__{column}" for column in REP_NAME_COLUMNS)]
    lead_field = "lead"
    count_order = ["lead_id"]  # decision_lead_rep holds the lead and the chosen rep a manager's scope tests
    # The explanation rendered from the trace in the reader's language; the trace itself for who needs the data.
    fields = ["created_at", "lead", "outcome", "rule", "chosen_rep", "assignment", "experiment", "experiment_group",
              "duration_ms", "worker", "explanation_shown", "trace"]

    def get_queryset(self, request):
        return decisions_in_scope(super().get_queryset(request), manager_scope(request.user))


# --- A/B experiments ---------------------------------------------------------------------------

@admin.register(RoutingExperiment)
class RoutingExperimentAdmin(AutocompleteIdsOnlyMixin, admin.ModelAdmin):
    """Managers prepare an experiment as a draft, then start and stop it with the actions; results have their own page."""

    list_display = ["name", "results_link", "status", "control_rule", "variant_rule", "test_share", "started_at"]
    list_filter = ["status"]
    list_select_related = ["control_rule", "variant_rule"]
    search_fields = ["name", "hypothesis", "control_rule__name", "variant_rule__name"]
    autocomplete_fields = ["control_rule", "variant_rule"]
    fields = ["name", "hypothesis", "control_rule", "variant_rule", "test_share", "status", "results_link",
              "started_at", "started_by", "ended_at", "ended_by", "winner_chosen_at", "winner_chosen_by"]
    readonly_fields = ["status", "results_link", "started_at", "started_by", "ended_at", "ended_by", "winner_chosen_at",
                       "winner_chosen_by"]
    # Changing these once leads were split would move leads between groups and mix up the results.
    split_fields = ["control_rule", "variant_rule", "test_share"]
    actions = ["start_experiments", "stop_experiments"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != RoutingExperiment.Status.DRAFT:
            return [*self.split_fields, *self.readonly_fields]
        return self.readonly_fields

    @admin.display(description=gettext_lazy("results"))
    def results_link(self, experiment):
        if experiment.pk is None:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("routing:experiment_results", args=[experiment.pk]),
                           _("Results"))

    @admin.action(description=gettext_lazy("Start selected experiments"), permissions=["change"])
    def start_experiments(self, request, queryset):
        self._apply_to_each(request, queryset, experiment_start, done=ngettext_lazy(
            "%d experiment started: its rule's leads are now split.",
            "%d experiments started: their rules' leads are now split."))

    @admin.action(description=gettext_lazy("Stop selected experiments"), permissions=["change"])
    def stop_experiments(self, request, queryset):
        self._apply_to_each(request, queryset, experiment_stop, done=ngettext_lazy(
            "%d experiment stopped: its rule routes every lead again.",
            "%d experiments stopped: their rules route every lead again."))

    def _apply_to_each(self, request, queryset, service, *, done):
        """Runs the service on each experiment: each refusal becomes a message saying why, then `done` says how many."""
        succeeded = 0
        for experiment in queryset.order_by("pk"):
            try:
                service(experiment_id=experiment.pk, actor=request.user)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            else:
                succeeded += 1
        if succeeded:
            self.message_user(request, done % succeeded, messages.SUCCESS)
