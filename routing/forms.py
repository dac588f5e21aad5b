"""Admin forms for routing rules: a manager sees every mistake next to the row that causes it."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Max
from django.utils.formats import number_format
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_countries import countries

from reps.availability import unavailability
from reps.models import Rep
from reps.scoping import TeamScope, reps_in_scope
from routing.conditions import ANY, ATTRIBUTE_PREFIX, BOOLEAN, FIELD_TYPES, NUMBER, TERRITORY, TEXT
from routing.models import RoutingRule, RuleCondition
from routing.validation import rule_skill_errors

# Room between rules so a manager can type a priority that slots a new rule in between.
PRIORITY_STEP = 10
# The kind of value each suggested field holds, as the manager reads it.
FIELD_TYPE_LABELS = {TEXT: gettext_lazy("text"), NUMBER: gettext_lazy("number"), BOOLEAN: gettext_lazy("boolean"),
                     TERRITORY: gettext_lazy("territory"), ANY: gettext_lazy("any")}


class RoutingRuleForm(forms.ModelForm):
    priority = forms.IntegerField(
        label=gettext_lazy("priority"),
        required=False,
        min_value=0,
        help_text=gettext_lazy("Lower runs first. Leave empty to add the rule last; drag rules in the list to reorder."),
    )

    class Meta:
        model = RoutingRule
        fields = "__all__"

    def clean_priority(self):
        priority = self.cleaned_data["priority"]
        if priority is None:
            highest = RoutingRule.objects.exclude(pk=self.instance.pk).aggregate(Max("priority"))["priority__max"]
            priority = PRIORITY_STEP if highest is None else highest + PRIORITY_STEP
        return priority


class ConditionFieldInput(forms.TextInput):
    """A free text input that suggests every field a condition can test."""

    template_name = "routing/widgets/condition_field_input.html"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        # The datalist id follows the input id, so rows added in the browser keep a working list.
        datalist_id = f"{context['widget']['attrs'].get('id', name)}_choices"
        context["widget"]["attrs"]["list"] = datalist_id
        context["widget"]["datalist_id"] = datalist_id
        context["widget"]["suggestions"] = [
            *((name, FIELD_TYPE_LABELS[kind]) for name, kind in FIELD_TYPES.items()),
            (ATTRIBUTE_PREFIX, _("custom attribute: attributes.<key>")),
        ]
        return context


class RuleConditionForm(forms.ModelForm):
    class Meta:
        model = RuleCondition
        fields = ["field", "operator", "value"]
        widgets = {
            "field": ConditionFieldInput(attrs={"placeholder": "country", "autocomplete": "off"}),
            "value": forms.TextInput(attrs={"size": 30}),
        }


class SkillRequirementFormSet(forms.BaseInlineFormSet):
    """A skills rule needs at least one required skill, and at least one active rep who has them all."""

    def clean(self):
        super().clean()
        if any(form.errors for form in self.forms):
            return
        requirements = [
            (form.cleaned_data["skill"], form.cleaned_data["min_level"])
            for form in self.forms
            if form.cleaned_data and not self._should_delete_form(form)
        ]
        errors = rule_skill_errors(self.instance, requirements)
        if errors:
            raise ValidationError(errors)


# Marked in the list of reps a manager reassigns to; out of hours is left unmarked (most reps are, at any hour).
MARKED_ABSENCES = ("away", "on_leave")


class RepChoiceField(forms.ModelChoiceField):
    """Reps by name, those away or on leave marked with until when, e.g. "Ben Weber (away until 14:00 Europe/Berlin)"."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.absences = {}  # rep id -> reps.availability.Unavailable, set by the form that shows the list

    def label_from_instance(self, rep):
        absence = self.absences.get(rep.pk)
        return _("%(rep)s (%(absence)s)") % {"rep": rep, "absence": absence.text} if absence else str(rep)


class LeadReassignForm(forms.Form):
    """A manager moves leads to an active rep of their teams, or sends them through the rules again, and says why.

    Reps away or on leave stay in the list, marked: a manager who names a rep means that rep (the account's
    owner back on Monday, a colleague covering), unlike routing, which passes over whoever cannot call now.
    """

    to_rep = RepChoiceField(
        label=gettext_lazy("new owner"),
        queryset=Rep.objects.filter(is_active=True).select_related("user"),
        required=False,
        empty_label=gettext_lazy("Route again through the rules (without the current owner)"),
        error_messages={"invalid_choice": gettext_lazy(
            "Choose an active rep from the list, or route the lead again through the rules.")},
    )
    reason = forms.CharField(
        label=gettext_lazy("reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Required: it is recorded in each lead's history."),
    )

    def __init__(self, data=None, *, scope: TeamScope | None):
        super().__init__(data)
        if scope is not None:
            to_rep = self.fields["to_rep"]
            to_rep.queryset = reps_in_scope(to_rep.queryset, scope)
            to_rep.error_messages["invalid_choice"] = _(
                "That rep is not in a team you manage, or is inactive: choose a rep from the list, "
                "or route the lead again through the rules.")
        if data is None:  # only the page shows the list
            to_rep = self.fields["to_rep"]
            to_rep.absences = {pk: absence for pk, absence in unavailability(to_rep.queryset, timezone.now()).items()
                               if absence is not None and absence.code in MARKED_ABSENCES}


# --- Simulation ------------------------------------------------------------


class RuleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, rule):
        return _("%(priority)s. %(name)s") % {"priority": rule.priority, "name": rule.name}


class SimulationForm(forms.Form):
    """Which past leads to replay, and which rules to switch on and off for the replay."""

    BY_DAYS, BY_COUNT = "days", "leads"
    MAX_DAYS = 3650

    leads_from = forms.ChoiceField(
        label=gettext_lazy("Replay"), widget=forms.RadioSelect, initial=BY_DAYS,
        choices=[(BY_DAYS, gettext_lazy("the leads created in the last N days")),
                 (BY_COUNT, gettext_lazy("the last N leads"))],
    )
    number = forms.IntegerField(
        label="N", initial=30, min_value=1,
        error_messages={
            "required": gettext_lazy("Say how many days or leads to replay."),
            "invalid": gettext_lazy("N must be a whole number, such as 30."),
            "min_value": gettext_lazy("N must be 1 or more."),
        },
    )
    source = forms.CharField(label=gettext_lazy("Only from source"), required=False, max_length=100,
                             help_text=gettext_lazy("For example: webinar. Empty: every source."))
    country = forms.ChoiceField(label=gettext_lazy("Only from country"), required=False,
                                choices=lambda: [("", _("every country")), *countries])
    switch_on = RuleChoiceField(
        label=gettext_lazy("Switch on (inactive rules)"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Inactive rules are drafts: save a new rule with Active unticked to try it here."),
        queryset=RoutingRule.objects.filter(is_active=False),
        error_messages={"invalid_choice": gettext_lazy(
            "Rule %(value)s is not an inactive rule (any more): reload the page and choose again."),
            "invalid_pk_value": gettext_lazy("“%(pk)s” is not a rule id: choose rules from the list.")},
    )
    switch_off = RuleChoiceField(
        label=gettext_lazy("Switch off (active rules)"), required=False, widget=forms.CheckboxSelectMultiple,
        queryset=RoutingRule.objects.filter(is_active=True),
        error_messages={"invalid_choice": gettext_lazy(
            "Rule %(value)s is not an active rule (any more): reload the page and choose again."),
            "invalid_pk_value": gettext_lazy("“%(pk)s” is not a rule id: choose rules from the list.")},
    )

    def clean(self):
        cleaned = super().clean()
        number = cleaned.get("number") or 0
        if cleaned.get("leads_from") == self.BY_COUNT and number > settings.SIMULATION_MAX_LEADS:
            self.add_error("number", _("At most %(max)s leads can be replayed at once.")
                           % {"max": number_format(settings.SIMULATION_MAX_LEADS, force_grouping=True)})
        if cleaned.get("leads_from") == self.BY_DAYS and number > self.MAX_DAYS:
            self.add_error("number", _("N must be at most %(limit_value)s days.")
                           % {"limit_value": number_format(self.MAX_DAYS, force_grouping=True)})
        return cleaned

    def run_parameters(self) -> dict:
        """What a simulation run keeps of this form: the arguments of `simulation_leads` and the rules' ids."""
        data = self.cleaned_data
        by_days = data["leads_from"] == self.BY_DAYS
        return {"days": data["number"] if by_days else None, "last": None if by_days else data["number"],
                "source": data["source"], "country": data["country"],
                "switch_on": [rule.pk for rule in data["switch_on"]],
                "switch_off": [rule.pk for rule in data["switch_off"]]}
