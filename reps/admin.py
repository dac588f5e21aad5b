"""Admin for the organisation: what sales managers configure every week."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from leadrouting.admin_autocomplete import AutocompleteIdsOnlyMixin
from leadrouting.admin_labels import LabelledTabularInline
from reps.forms import WorkingHoursForm, WorkingHoursFormSet
from reps.models import (
    AvailabilityCalendar,
    Holiday,
    Rep,
    RepSkill,
    RepStatusChange,
    Skill,
    Team,
    Territory,
    TimeOff,
    WorkingHours,
)
from reps.scoping import is_sales_manager, manager_scope, reps_in_scope
from reps.services import check_away_until, rep_set_available, rep_set_away
from routing.reassignment import rep_deactivate


@admin.register(Team)
class TeamAdmin(AutocompleteIdsOnlyMixin, admin.ModelAdmin):
    list_display = ["name", "parent", "member_count"]
    list_select_related = ["parent"]
    search_fields = ["name"]
    autocomplete_fields = ["parent"]
    filter_horizontal = ["managers"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("members", distinct=True))

    def get_readonly_fields(self, request, obj=None):
        # Who manages which team, and what sits below it, decides what a manager sees:
        # only someone who sees every team may change it, or a manager could widen their own view.
        return ["parent", "managers"] if manager_scope(request.user) is not None else []

    @admin.display(description=_("members"), ordering="member_count")
    def member_count(self, team):
        return team.member_count


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ["name", "kind"]
    list_filter = ["kind"]
    search_fields = ["name"]


class WorkingHoursInline(LabelledTabularInline):
    model = WorkingHours
    formset = WorkingHoursFormSet
    extra = 1


class HolidayInline(LabelledTabularInline):
    model = Holiday
    extra = 1


@admin.register(AvailabilityCalendar)
class AvailabilityCalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "rep_count"]
    search_fields = ["name"]
    inlines = [WorkingHoursInline, HolidayInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(rep_count=Count("reps"))

    @admin.display(description=_("reps"), ordering="rep_count")
    def rep_count(self, calendar):
        return calendar.rep_count


@admin.register(WorkingHours)
class WorkingHoursAdmin(AutocompleteIdsOnlyMixin, admin.ModelAdmin):
    form = WorkingHoursForm
    list_display = ["__str__", "calendar", "weekday", "start", "end"]
    list_filter = ["weekday", "calendar"]
    list_select_related = ["calendar"]
    autocomplete_fields = ["calendar"]


@admin.register(Holiday)
class HolidayAdmin(AutocompleteIdsOnlyMixin, admin.ModelAdmin):
    list_display = ["date", "name", "calendar"]
    list_filter = ["calendar"]
    list_select_related = ["calendar"]
    search_fields = ["name", "calendar__name"]
    date_hierarchy = "date"
    autocomplete_fields = ["calendar"]


class RepSkillInline(AutocompleteIdsOnlyMixin, LabelledTabularInline):
    model = RepSkill
    autocomplete_fields = ["skill"]
    extra = 1


class TimeOffInline(LabelledTabularInline):
    model = TimeOff
    extra = 1


class RepStatusChangeInline(admin.TabularInline):
    """Who switched the rep away or available, newest first: read only, it is an audit."""

    model = RepStatusChange
    fields = ["created_at", "status", "away_until", "actor"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    verbose_name_plural = _("status history")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    def has_add_permission(self, request, obj=None):
        return False


AVAILABILITY_FIELDS = {"status", "away_until"}


class RepAdminForm(forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        # The service refuses a return time that has passed: say so on the field rather than fail on save.
        if cleaned.get("status") == Rep.Status.AWAY and AVAILABILITY_FIELDS & set(self.changed_data):
            try:
                check_away_until(cleaned.get("away_until"))
            except ValidationError as error:
                self.add_error(None, error)
        return cleaned


@admin.register(Rep)
class RepAdmin(AutocompleteIdsOnlyMixin, admin.ModelAdmin):
    form = RepAdminForm
    list_display = ["name", "email", "seniority", "status", "is_active", "team_names", "calendar", "max_open_leads"]
    list_filter = ["is_active", "status", "seniority", "teams", "calendar"]
    list_select_related = ["user", "calendar"]
    search_fields = ["user__first_name", "user__last_name", "user__username", "user__email"]
    autocomplete_fields = ["user", "calendar"]
    filter_horizontal = ["teams"]
    readonly_fields = ["name"]
    fieldsets = [
        (None, {"fields": ["user", "name", "is_active", "seniority", "teams"]}),
        (_("Distribution"), {"fields": ["weight", "max_open_leads", "max_new_leads_per_day", "max_new_leads_per_hour"]}),
        (_("Availability"), {"fields": ["status", "away_until", "time_zone", "calendar"]}),
        (_("Emails"), {"fields": ["language"]}),
    ]
    inlines = [RepSkillInline, TimeOffInline, RepStatusChangeInline]

    def get_queryset(self, request):
        reps = super().get_queryset(request).prefetch_related("teams")
        # Managers see the reps of their teams; the Reps group reads the whole list, as before.
        return reps_in_scope(reps, manager_scope(request.user)) if is_sales_manager(request.user) else reps

    def save_model(self, request, obj, form, change):
        status, away_until = obj.status, obj.away_until
        # Away and back change only through the services the rep's own button uses (row lock, status history
        # with who did it, untouched leads moved under ROUTING_REASSIGN_WHEN_AWAY); the form saves the rest.
        if change:
            obj.save(update_fields=[field.name for field in obj._meta.concrete_fields
                                    if not field.primary_key and field.name not in AVAILABILITY_FIELDS])
        else:
            obj.status, obj.away_until = Rep.Status.AVAILABLE, None
            obj.save()
        if AVAILABILITY_FIELDS & set(form.changed_data):
            if status == Rep.Status.AWAY:
                rep_set_away(rep=obj, until=away_until, actor=request.user)
            else:
                rep_set_available(rep=obj, actor=request.user)
        if change and "is_active" in form.changed_data and not obj.is_active:
            # Leaving the company: their open leads are routed again, recorded as "rep deactivated".
            moved = rep_deactivate(rep=obj, actor=request.user)
            self.message_user(request, ngettext("%d open lead was routed again.", "%d open leads were routed again.",
                                                moved) % moved)

    @admin.display(description=_("name"), ordering="user__last_name")
    def name(self, rep):
        return rep.name

    @admin.display(description=_("email"), ordering="user__email")
    def email(self, rep):
        return rep.user.email

    @admin.display(description=_("teams"))
    def team_names(self, rep):
        return ", ".join(team.name for team in rep.teams.all())


class RepListFilter(admin.RelatedFieldListFilter):
    """Filter by rep: the reps the user may see, named in one query (Django's asks for each rep's user in turn)."""

    def field_choices(self, field, request, model_admin):
        reps = Rep.objects.select_related("user").order_by("user__first_name", "user__last_name", "pk")
        return [(rep.pk, rep.name) for rep in reps_in_scope(reps, manager_scope(request.user))]


class RepsOfMyTeamsMixin:
    """For the admin of rows that belong to one rep (skills, time off): a manager sees their teams' reps' rows."""

    def get_queryset(self, request):
        scope = manager_scope(request.user)
        queryset = super().get_queryset(request)
        return queryset if scope is None else queryset.filter(rep_id__in=scope.rep_ids)


@admin.register(RepSkill)
class RepSkillAdmin(RepsOfMyTeamsMixin, AutocompleteIdsOnlyMixin, admin.ModelAdmin):
    list_display = ["rep", "skill", "level"]
    list_filter = ["skill", "level"]
    list_select_related = ["rep__user", "skill"]
    search_fields = ["rep__user__first_name", "rep__user__last_name", "skill__name"]
    autocomplete_fields = ["rep", "skill"]


@admin.register(TimeOff)
class TimeOffAdmin(RepsOfMyTeamsMixin, AutocompleteIdsOnlyMixin, admin.ModelAdmin):
    list_display = ["rep", "start", "end", "reason"]
    list_select_related = ["rep__user"]
    search_fields = ["rep__user__first_name", "rep__user__last_name", "reason"]
    date_hierarchy = "start"
    autocomplete_fields = ["rep"]


@admin.register(Territory)
class TerritoryAdmin(AutocompleteIdsOnlyMixin, admin.ModelAdmin):
    list_display = ["name", "parent", "country_codes", "regions", "coverage"]
    list_select_related = ["parent"]
    search_fields = ["name"]
    autocomplete_fields = ["parent"]
    filter_horizontal = ["reps", "teams"]
    fieldsets = [
        (None, {"fields": ["name", "parent"]}),
        (_("Where"), {"fields": ["countries", "regions", "postal_codes"]}),
        (_("Who covers it"), {"fields": ["reps", "teams"]}),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(rep_count=Count("reps", distinct=True), team_count=Count("teams", distinct=True))
        )

    @admin.display(description=_("countries"))
    def country_codes(self, territory):
        return ", ".join(str(country) for country in territory.countries)

    @admin.display(description=_("coverage"))
    def coverage(self, territory):
        return _("%(reps)s reps, %(teams)s teams") % {"reps": territory.rep_count, "teams": territory.team_count}
