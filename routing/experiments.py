"""A/B experiments on routing: which group a lead joins, starting and ending an experiment.

A running experiment splits the leads its control rule matches: the test group is placed
by the variant rule's target and strategy, the control group by the control rule as
always (the engine's `_experiment_split`).
"""

import hashlib

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from routing.models import RoutingExperiment, RoutingRule, RuleSkillRequirement

Group, Status = RoutingExperiment.Group, RoutingExperiment.Status
# What the winner hands on to the control rule: where leads go and how the rep is picked.
TARGET_FIELDS = ("target_type", "target_rep", "target_team", "include_sub_teams", "use_parent_account_owner",
                 "strategy", "performance_window_days")


# --- The split ----------------------------------------------------------------------------

def experiment_group_for(experiment: RoutingExperiment, lead_id: int) -> str:
    """"test" when the lead's bucket (0-99) is below the test share, else "control".

    The bucket is a hash of the experiment's and the lead's ids: the same lead always lands
    in the same group of an experiment (routed again, it stays there), consecutive leads do
    not simply alternate, and two experiments split independently of each other.
    """
    digest = hashlib.blake2b(f"{experiment.pk}:{lead_id}".encode(), digest_size=8).digest()
    bucket = int.from_bytes(digest, "big") % 100
    return Group.TEST if bucket < experiment.test_share else Group.CONTROL


def group_share(experiment: RoutingExperiment, group: str) -> int:
    """The group's percentage of the leads."""
    return experiment.test_share if group == Group.TEST else 100 - experiment.test_share


def placing_rule(experiment: RoutingExperiment, group: str) -> RoutingRule:
    """The rule whose target and strategy place the group's leads."""
    return experiment.variant_rule if group == Group.TEST else experiment.control_rule


# --- Checks and changes -------------------------------------------------------------------

def experiment_errors(experiment: RoutingExperiment) -> dict:
    """Field -> message for every reason this experiment cannot run; empty when it can."""
    errors = {}
    if experiment.control_rule_id and experiment.control_rule_id == experiment.variant_rule_id:
        errors["variant_rule"] = _(
            "The variant must be another rule than the control rule: choose the rule whose target and strategy "
            "the test group gets (usually an inactive copy of the control rule with another target).")
    if experiment.control_rule_id and experiment.status in (Status.DRAFT, Status.RUNNING) \
            and not experiment.control_rule.is_active:
        errors["control_rule"] = _(
            "Rule '%(rule)s' is inactive, so no lead would join the experiment. Choose an active rule, "
            "or activate this one first.") % {"rule": experiment.control_rule}
    return errors


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
        if experiment.status not in (Status.RUNNING, Status.STOPPED):
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
