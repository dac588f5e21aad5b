"""Admin forms for routing rules: a manager sees every mistake next to the row that causes it."""

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Max
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from reps.models import Rep
from routing.conditions import ANY, ATTRIBUTE_PREFIX, BOOLEAN, FIELD_TYPES, NUMBER, TERRITORY, TEXT
from routing.models import RoutingRule, RuleCondition
from routing.selectors import TeamScope, reps_in_scope

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
        if self.instance.target_type != RoutingRule.TargetType.SKILLS or any(form.errors for form in self.forms):
            return
        requirements = [
            (form.cleaned_data["skill"], form.cleaned_data["min_level"])
            for form in self.forms
            if form.cleaned_data and not self._should_delete_form(form)
        ]
        if not requirements:
            raise ValidationError(
                _("This rule assigns by skills: add at least one required skill, or choose another target.")
            )
        if not _active_rep_has_skills(requirements):
            raise ValidationError(
                _("No active rep has all of these skills at these levels, so no lead could be assigned. "
                  "Lower a minimum level or give the skills to reps first.")
            )


def _active_rep_has_skills(requirements) -> bool:
    reps = Rep.objects.filter(is_active=True)
    for skill, min_level in requirements:
        # One filter() per skill: each requirement must be met by its own RepSkill row.
        reps = reps.filter(skill_levels__skill=skill, skill_levels__level__gte=min_level)
    return reps.exists()


class LeadReassignForm(forms.Form):
    """A manager moves leads to an active rep of their teams, or sends them through the rules again, and says why."""

    to_rep = forms.ModelChoiceField(
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
