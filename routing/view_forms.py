"""Forms of the rep queue, the dashboard and the reassignment log (the admin's forms are in routing.forms)."""

from django import forms
from django.db.models import Q
from django.utils.functional import lazy
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from leads.lifecycle import NOTE_MAX_LENGTH, REASON_MAX_LENGTH
from reps.models import Rep, Team
from reps.scoping import TeamScope, reps_in_scope, teams_in_scope
from routing.claims import MAX_CLAIMED_AT_ONCE
from routing.models import Pool, RoutingRule
from routing.pool_ageing import AGE_STEPS, DEFAULT_AGE_MINUTES


class LostForm(forms.Form):
    reason = forms.CharField(label=_("Why was it lost?"), max_length=REASON_MAX_LENGTH)


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Note"), max_length=NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2}))


def _say_how_many() -> str:
    return gettext("Say how many leads to take, from 1 to %(max)s.") % {"max": MAX_CLAIMED_AT_ONCE}


# Filled in when shown, in the reader's language (a lazy text formatted here would stay in the language at import).
SAY_HOW_MANY = lazy(_say_how_many, str)()


class ClaimNextForm(forms.Form):
    count = forms.IntegerField(
        label=_("How many"), min_value=1, max_value=MAX_CLAIMED_AT_ONCE, initial=5,
        error_messages={
            "required": SAY_HOW_MANY,
            "invalid": SAY_HOW_MANY,
            "min_value": _("Take at least 1 lead."),
            "max_value": _("Take at most %(limit_value)s leads at once."),
        },
    )


class AwayForm(forms.Form):
    until = forms.DateTimeField(
        label=_("Back at (optional)"), required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave empty to stay away until you switch back."),
    )


class DashboardFilterForm(forms.Form):
    """Offers only the teams in the manager's scope; no team chosen means all of them."""

    PERIODS = [("today", _("Today")), ("7d", _("Last 7 days")), ("30d", _("Last 30 days")),
               ("12m", _("Last 12 months"))]

    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.all(), required=False,
                                  empty_label=_("All teams"))
    period = forms.ChoiceField(label=_("Period"), choices=PERIODS, required=False, initial="7d")

    def __init__(self, data=None, *, scope: TeamScope | None):
        super().__init__(data)
        self.fields["team"].queryset = teams_in_scope(Team.objects.all(), scope)
        if scope is not None:
            self.fields["team"].empty_label = _("All my teams")


# The causes of a move (Assignment.cause["code"]) the reassignment log filters by.
MOVE_CAUSES = [
    ("manual", _("Moved by a manager")),
    ("sla_breach", _("Not contacted in time")),
    ("escalation", _("Not contacted in time, given to a manager")),
    ("rep_away", _("The rep went away")),
    ("rep_deactivated", _("The rep was deactivated")),
]


class ReassignmentFilterForm(forms.Form):
    """Offers only the reps and teams in the manager's scope."""

    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    rep = forms.ModelChoiceField(label=_("Rep"), queryset=Rep.objects.select_related("user"), required=False,
                                 empty_label=_("Any rep"))
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.all(), required=False,
                                  empty_label=_("Any team"))
    cause = forms.ChoiceField(label=_("Cause"), required=False, choices=[("", _("Any cause")), *MOVE_CAUSES])
    rule = forms.ModelChoiceField(label=_("Rule"), queryset=RoutingRule.objects.all(), required=False,
                                  empty_label=_("Any rule"))

    def __init__(self, data=None, *, scope: TeamScope | None):
        super().__init__(data)
        self.fields["rep"].queryset = reps_in_scope(self.fields["rep"].queryset, scope)
        self.fields["team"].queryset = teams_in_scope(Team.objects.all(), scope)
        if scope is not None:
            self.fields["team"].empty_label = _("Any of my teams")

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date; swap them."))
        return data


class PoolAgeingForm(forms.Form):
    """A threshold from routing.pool_ageing.AGE_STEPS and, optionally, one pool."""

    older_than = forms.TypedChoiceField(label=_("Waiting longer than"), coerce=int, required=False, choices=[])
    pool = forms.ModelChoiceField(label=_("Pool"), queryset=Pool.objects.all(), required=False,
                                  empty_label=_("All pools"))

    def __init__(self, data=None, *, scope: TeamScope | None):
        super().__init__(data)
        if scope is not None:
            self.fields["pool"].queryset = Pool.objects.filter(
                Q(teams__in=scope.team_ids) | Q(reps__in=scope.rep_ids)).distinct()
        self.fields["older_than"].choices = [(minutes, minutes_label(minutes)) for minutes in AGE_STEPS]
        self.fields["older_than"].initial = DEFAULT_AGE_MINUTES


def minutes_label(minutes: int) -> str:
    if minutes % 1440 == 0:
        days = minutes // 1440
        return ngettext("%(count)d day", "%(count)d days", days) % {"count": days}
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
class QueueRefreshForm(forms.Form):
    """What the queue's poll sends back: when the rep's page was drawn, to tell which leads are new since."""

    seen = forms.DateTimeField(required=False)


class PoolFilterForm(forms.Form):
    """Search and filters of the pool; the pools offered are those the rep may claim from."""

    AGES = [("", _("Any age")), ("15m", _("Waiting 15 minutes or more")), ("1h", _("Waiting 1 hour or more")),
            ("1d", _("Waiting 1 day or more"))]

    q = forms.CharField(label=_("Search"), required=False, max_length=100,
                        widget=forms.SearchInput(attrs={"placeholder": _("Company, name or email")}))
    pool = forms.ModelChoiceField(label=_("Pool"), queryset=Pool.objects.none(), required=False,
                                  empty_label=_("All my pools"))
    waiting = forms.ChoiceField(label=_("Waiting"), choices=AGES, required=False)

    def __init__(self, data=None, *, pools):
        super().__init__(data)
        self.fields["pool"].queryset = pools
