"""A/B experiments on routing: starting and ending an experiment, and its results.

Which group a lead joins is `routing.experiment_split`, read by the engine (which writes nothing).

A running experiment splits the leads its control rule matches: the test group is placed
by the variant rule's target and strategy, the control group by the control rule as
always (the engine's `_experiment_split`). The results compare the groups' conversion
with a two-proportion z-test, and say in a sentence what a manager can conclude.
"""

import datetime as dt
import math
from dataclasses import dataclass
from statistics import NormalDist

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, transaction
from django.db.models import (
    Aggregate, BooleanField, Count, DurationField, ExpressionWrapper, F, Func, Q, Subquery,
)
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from leads.models import Lead
from reps.scoping import TeamScope, leads_in_scope
from routing.experiment_split import group_share, placing_rule
from routing.models import RoutingDecision, RoutingExperiment, RoutingRule, RuleSkillRequirement

Group, Status = RoutingExperiment.Group, RoutingExperiment.Status
SIGNIFICANCE_LEVEL = 0.05  # two-sided
POWER = 0.8  # the chance to detect a real difference of the observed size, for "how many more leads"
# What the winner hands on to the control rule: where leads go and how the rep is picked.
TARGET_FIELDS = ("target_type", "target_rep", "target_team", "include_sub_teams", "use_parent_account_owner",
                 "strategy", "performance_window_days", "performance_outcome_days", "performance_new_rep_share")


# --- Checks and changes -------------------------------------------------------------------

def experiment_start(*, experiment_id: int, actor: AbstractBaseUser | None) -> RoutingExperiment:
    """Starts a draft experiment: from now on its control rule's leads are split between the groups."""
    with transaction.atomic():
        experiment = RoutingExperiment.objects.select_for_update().get(pk=experiment_id)
        if experiment.status != Status.DRAFT:
            raise ValidationError(_(
                "'%(name)s' (%(status)s) cannot start again: only a draft experiment can start. "
                "Create a new experiment to test again."
            ) % {"name": experiment, "status": experiment.get_status_display()})
        running = RoutingExperiment.objects.filter(control_rule_id=experiment.control_rule_id,
                                                   status=Status.RUNNING).first()
        if running is not None:
            raise ValidationError(_already_running(experiment, running))
        experiment.status, experiment.started_at, experiment.started_by = Status.RUNNING, timezone.now(), actor
        experiment.full_clean()
        try:
            with transaction.atomic():
                experiment.save()
        except IntegrityError:
            # Another manager started an experiment on the same rule a moment ago (the database constraint).
            running = RoutingExperiment.objects.filter(control_rule_id=experiment.control_rule_id,
                                                       status=Status.RUNNING).first()
            raise ValidationError(_already_running(experiment, running)) from None
    return experiment


def _already_running(experiment, running) -> str:
    return _("Rule '%(rule)s' already runs the experiment '%(running)s'. Stop it before starting '%(name)s'.") % {
        "rule": experiment.control_rule, "running": running or _("another one"), "name": experiment}


def experiment_stop(*, experiment_id: int, actor: AbstractBaseUser | None) -> RoutingExperiment:
    """Ends a running experiment: every lead its control rule matches is routed by that rule again."""
    with transaction.atomic():
        experiment = RoutingExperiment.objects.select_for_update().get(pk=experiment_id)
        if experiment.status != Status.RUNNING:
            raise ValidationError(_("'%(name)s' (%(status)s) is not running: there is nothing to stop.") % {
                "name": experiment, "status": experiment.get_status_display()})
        experiment.status, experiment.ended_at, experiment.ended_by = Status.STOPPED, timezone.now(), actor
        experiment.save()
    return experiment


def experiment_make_variant_default(*, experiment_id: int, actor: AbstractBaseUser | None) -> RoutingExperiment:
    """The test variant wins: the control rule takes the variant's target, strategy and required skills.

    The experiment ends (if it still runs), marked "winner chosen" with who chose it; the
    control rule keeps its conditions, priority, SLA and what it does when nobody is eligible.
    """
    with transaction.atomic():
        experiment = RoutingExperiment.objects.select_for_update().get(pk=experiment_id)
        if experiment.status == Status.WINNER_CHOSEN:
            raise ValidationError(_("'%(name)s' already has its winner: the test variant is the default.") % {
                "name": experiment})
        if not can_have_winner(experiment):
            raise ValidationError(_("'%(name)s' has not started: only a running or stopped experiment can have a "
                                    "winner.") % {"name": experiment})
        control = RoutingRule.objects.select_for_update().get(pk=experiment.control_rule_id)
        _copy_target(experiment.variant_rule, onto=control)
        now = timezone.now()
        experiment.status, experiment.winner_chosen_at, experiment.winner_chosen_by = Status.WINNER_CHOSEN, now, actor
        if experiment.ended_at is None:
            experiment.ended_at, experiment.ended_by = now, actor
        experiment.save()
    return experiment


def can_have_winner(experiment: RoutingExperiment) -> bool:
    """Only an experiment that has split leads, and has no winner yet."""
    return experiment.status in (Status.RUNNING, Status.STOPPED)


def _copy_target(variant: RoutingRule, *, onto: RoutingRule):
    for name in TARGET_FIELDS:
        setattr(onto, name, getattr(variant, name))
    if variant.target_type == RoutingRule.TargetType.POOL:
        onto.pool = variant.pool  # otherwise the control's pool stays: it is where leads wait when nobody is eligible
    try:
        onto.full_clean()
    except ValidationError as error:
        raise ValidationError(_("Rule '%(rule)s' cannot take the variant's target: %(problems)s") % {
            "rule": onto, "problems": " ".join(error.messages)}) from None
    onto.save()
    onto.skill_requirements.all().delete()
    RuleSkillRequirement.objects.bulk_create([
        RuleSkillRequirement(rule=onto, skill_id=requirement.skill_id, min_level=requirement.min_level)
        for requirement in variant.skill_requirements.all()
    ])


# --- Results ------------------------------------------------------------------------------

@dataclass
class GroupFigures:
    group: str
    share: int
    rule: RoutingRule  # whose target and strategy place the group's leads
    leads: int = 0
    assigned: int = 0
    contacted: int = 0
    converted: int = 0
    median_to_first_touch: dt.timedelta | None = None

    @property
    def label(self) -> str:
        return Group(self.group).label

    @property
    def conversion_rate(self) -> float | None:
        return self.converted / self.leads if self.leads else None

    @property
    def conversion_rate_text(self) -> str:
        """As the verdict writes it ("12.5%"), so the table and the sentence read alike."""
        return "—" if self.conversion_rate is None else format_rate(self.conversion_rate)


@dataclass(frozen=True)
class ZTest:
    z: float
    p_value: float  # two-sided


@dataclass
class ExperimentResults:
    experiment: RoutingExperiment
    control: GroupFigures
    test: GroupFigures
    z_test: ZTest | None
    verdict: str

    @property
    def groups(self) -> list:
        return [self.control, self.test]


def experiment_results(*, experiment: RoutingExperiment, scope: TeamScope | None = None) -> ExperimentResults:
    """Per group: leads, assigned, contacted, median time to first touch, converted; and the comparison.

    A lead counts in the group the experiment put it in, whatever happened next (moved by
    hand, placed by a later rule because nobody in its group was eligible): the groups stay
    the random halves the split made, so their difference is the variant's doing.
    Only the leads of `scope` count (see reps.scoping.manager_scope); None counts every lead.
    """
    control, test = (_group_figures(experiment, group, scope) for group in (Group.CONTROL, Group.TEST))
    z_test = two_proportion_z_test(successes_a=control.converted, trials_a=control.leads,
                                   successes_b=test.converted, trials_b=test.leads)
    return ExperimentResults(experiment, control, test, z_test, verdict(control, test, z_test))


def _group_figures(experiment, group, scope) -> GroupFigures:
    leads = leads_in_scope(Lead.objects.filter(_is_a_lead_of(experiment, group)), scope)
    to_first_touch = ExpressionWrapper(F("first_touch_at") - F("created_at"), output_field=DurationField())
    in_one_pass = connections[leads.db].vendor == "postgresql"
    median = {"median_to_first_touch": NearestRankMedian(to_first_touch, filter=Q(first_touch_at__isnull=False))}
    figures = leads.aggregate(
        leads=Count("pk"),
        assigned=Count("pk", filter=Q(assigned_at__isnull=False)),
        contacted=Count("pk", filter=Q(first_touch_at__isnull=False)),
        converted=Count("pk", filter=Q(status=Lead.Status.CONVERTED)),
        **(median if in_one_pass else {}),
    )
    if not in_one_pass:  # SQLite (the demo) has no percentile_disc: the value at the median's rank, in order
        touched = leads.filter(first_touch_at__isnull=False).annotate(to_first_touch=to_first_touch)
        rank = math.ceil(figures["contacted"] / 2)
        figures["median_to_first_touch"] = (
            touched.order_by("to_first_touch").values_list("to_first_touch", flat=True)[rank - 1] if rank else None)
    return GroupFigures(group=group, share=group_share(experiment, group), rule=placing_rule(experiment, group),
                        **figures)


def _is_a_lead_of(experiment, group) -> "_InArrayOf":
    """`id = ANY(ARRAY(the group's lead ids))`, the ids read off the index decision_experiment_leads.

    The group's leads are a few per cent of all leads: they are read by id, in id order (PostgreSQL
    sorts an ANY array for the index scan), and the scope only filters those rows. As a semi-join
    (`pk__in`) the plan hung on the planner's estimate of the group's size: too low, it read the
    leads in random order; with the team scope's filters it read all of leads_lead (issue 14).
    """
    decisions = RoutingDecision.objects.filter(experiment=experiment, experiment_group=group)
    return _InArrayOf(F("pk"), Subquery(decisions.order_by().values("lead_id")))


class _InArrayOf(Func):
    """`value = ANY(ARRAY(subquery))`: the subquery runs once, its rows made one array."""

    arg_joiner = " = ANY(ARRAY"
    template = "%(expressions)s)"
    output_field = BooleanField()

    def as_sqlite(self, compiler, connection, **extra_context):
        # SQLite (the demo) has no arrays: a plain IN (subquery), which its planner reads the same way.
        return self.as_sql(compiler, connection, arg_joiner=" IN (", template="%(expressions)s)", **extra_context)


class NearestRankMedian(Aggregate):
    """The nearest-rank median, picked by the database (the values never leave it); None without values.

    PostgreSQL's percentile_disc(0.5): the value at rank ceil(n / 2) of the n values in order.
    """

    function = "percentile_disc"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"


# --- Statistics ---------------------------------------------------------------------------

def two_proportion_z_test(*, successes_a: int, trials_a: int, successes_b: int, trials_b: int) -> ZTest | None:
    """The pooled two-proportion z-test of b against a, two-sided.

    None when a group has no trials, or when nobody (or everybody) succeeded in both:
    there is no variation to test.
    """
    if not trials_a or not trials_b:
        return None
    pooled = (successes_a + successes_b) / (trials_a + trials_b)
    variance = pooled * (1 - pooled) * (1 / trials_a + 1 / trials_b)
    if variance == 0:
        return None
    z = (successes_b / trials_b - successes_a / trials_a) / math.sqrt(variance)
    # P(|Z| >= |z|) for a standard normal Z: 2 * (1 - Phi(|z|)), which erfc gives without cancellation.
    return ZTest(z=z, p_value=math.erfc(abs(z) / math.sqrt(2)))


def leads_per_group_needed(rate_a: float, rate_b: float) -> int | None:
    """Leads per group for a two-sided test at SIGNIFICANCE_LEVEL to detect rate_a vs rate_b with POWER.

    The usual normal approximation for two proportions with equal groups; None when the
    rates are equal (no difference to detect).
    """
    if rate_a == rate_b:
        return None
    z_alpha = NormalDist().inv_cdf(1 - SIGNIFICANCE_LEVEL / 2)
    z_beta = NormalDist().inv_cdf(POWER)
    mean = (rate_a + rate_b) / 2
    spread = z_alpha * math.sqrt(2 * mean * (1 - mean)) + z_beta * math.sqrt(
        rate_a * (1 - rate_a) + rate_b * (1 - rate_b))
    return math.ceil(spread**2 / (rate_a - rate_b) ** 2)


def format_p_value(p_value: float) -> str:
    """ "p = 0.31", "p = 0.004", "p < 0.001": as precise as a reader needs."""
    if p_value < 0.001:
        return "p < " + _decimal(0.001, 3)
    return "p = " + _decimal(p_value, 3 if p_value < 0.1 else 2)


def format_rate(rate: float) -> str:
    return _decimal(rate * 100, 1) + "%"


def _decimal(value: float, places: int) -> str:
    # Rounded first: Django's number_format cuts the digits off (0.0078 would read 0.007).
    return number_format(round(value, places), decimal_pos=places)


def verdict(control: GroupFigures, test: GroupFigures, z_test: ZTest | None) -> str:
    """What a manager can conclude, in one sentence."""
    if not control.leads or not test.leads:
        return _("Not enough leads yet: both groups need leads before they can be compared.")
    if z_test is None:
        return _("Nothing to compare yet: the two groups convert at %(rate)s so far.") % {
            "rate": format_rate(control.conversion_rate)}
    values = {"test": format_rate(test.conversion_rate), "control": format_rate(control.conversion_rate),
              "p": format_p_value(z_test.p_value)}
    if z_test.p_value < SIGNIFICANCE_LEVEL:
        if test.conversion_rate > control.conversion_rate:
            return _("Test converts better: %(test)s vs %(control)s, %(p)s.") % values
        return _("Control converts better: %(control)s vs %(test)s, %(p)s.") % values
    needed = leads_per_group_needed(control.conversion_rate, test.conversion_rate)
    if needed is None:
        return _("Not significant yet (%(p)s): both groups convert at %(control)s so far.") % values
    # Groups this large would almost always show the observed difference as significant, so `more` stays positive.
    more = max(needed - min(control.leads, test.leads), 1)
    return _("Not significant yet (%(p)s); about %(more)s more leads per group needed to detect this "
             "difference.") % {**values, "more": number_format(more, force_grouping=True)}
