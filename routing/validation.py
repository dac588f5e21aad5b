"""Checks a manager's rule or experiment before it is saved: a target the rule can actually reach, a priority
of its own, an experiment that can run.

The models call these from clean(); this module imports no model at its top, so the models can import it.
"""

from django.db import IntegrityError, connection
from django.utils.translation import gettext as _

RULE_PRIORITY_CONSTRAINT = "routing_rule_unique_priority"


def rule_target_errors(rule) -> dict:
    """Field -> message for every reason this rule's target cannot work; empty when it can."""
    Target = type(rule).TargetType
    errors = {}
    if rule.target_type == Target.REP:
        if not rule.target_rep_id:
            errors["target_rep"] = _("Choose the rep this rule assigns to.")
        elif not rule.target_rep.is_active:
            errors["target_rep"] = _("%(rep)s is inactive: no lead could be assigned. Choose an active rep.") % {
                "rep": rule.target_rep
            }
    elif rule.target_type == Target.TEAM:
        if not rule.target_team_id:
            errors["target_team"] = _("Choose the team this rule assigns to.")
        elif not _team_has_active_rep(rule.target_team, rule.include_sub_teams):
            errors["target_team"] = _("Team %(team)s has no active rep: no lead could be assigned. Add reps first.") % {
                "team": rule.target_team
            }
    elif rule.target_type == Target.POOL and not rule.pool_id:
        errors["pool"] = _("Choose the pool where leads of this rule wait to be claimed.")
    if rule.when_none_eligible == type(rule).WhenNoneEligible.QUEUE and not rule.pool_id and rule.target_type not in (
        Target.POOL,
        Target.NURTURE,
    ):
        errors["pool"] = _("Choose the pool where leads wait while nobody is eligible, or let them try the next rule.")
    Breach = type(rule).SlaBreachAction
    if rule.sla_breach_action == Breach.TEAM and not rule.sla_escalation_team_id:
        errors["sla_escalation_team"] = _("Choose the team that takes leads whose first-touch deadline was missed.")
    if rule.sla_breach_action == Breach.POOL and not rule.sla_escalation_pool_id:
        errors["sla_escalation_pool"] = _("Choose the pool that receives leads whose first-touch deadline was missed.")
    if rule.strategy == type(rule).Strategy.PERFORMANCE and (rule.performance_outcome_days or 0) >= (
        rule.performance_window_days or 0
    ):
        # A lead assigned inside the window is at most that old: a longer wait would never let an open lead count.
        errors["performance_outcome_days"] = _(
            "Open leads must count as lost sooner than the performance window (%(window)s days) ends, or they would "
            "never count: choose fewer days."
        ) % {"window": rule.performance_window_days}
    if rule.priority is not None:
        clash = type(rule).objects.filter(priority=rule.priority).exclude(pk=rule.pk).first()
        if clash is not None:
            errors["priority"] = _("Rule '%(other)s' already has priority %(priority)s; give each rule its own.") % {
                "other": clash,
                "priority": rule.priority,
            }
    return errors


def _team_has_active_rep(team, include_sub_teams: bool) -> bool:
    from reps.selectors import team_ids_below

    team_ids = team_ids_below(team.pk) if include_sub_teams else [team.pk]
    from reps.models import Rep

    return Rep.objects.filter(teams__in=team_ids, is_active=True).exists()


def rule_skill_errors(rule, requirements) -> list:
    """Why a skills rule's required skills, [(skill, min_level)], cannot work; empty when they can."""
    if rule.target_type != type(rule).TargetType.SKILLS:
        return []
    if not requirements:
        return [_("This rule assigns by skills: add at least one required skill, or choose another target.")]
    if not _active_rep_has_skills(requirements):
        return [_("No active rep has all of these skills at these levels, so no lead could be assigned. "
                  "Lower a minimum level or give the skills to reps first.")]
    return []


def _active_rep_has_skills(requirements) -> bool:
    from reps.models import Rep

    reps = Rep.objects.filter(is_active=True)
    for skill, min_level in requirements:
        # One filter() per skill: each requirement must be met by its own RepSkill row.
        reps = reps.filter(skill_levels__skill=skill, skill_levels__level__gte=min_level)
    return reps.exists()


def experiment_errors(experiment) -> dict:
    """Field -> message for every reason this experiment cannot run; empty when it can."""
    Status = type(experiment).Status
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


def rule_priorities_lock() -> None:
    """Makes the admin's and the import's renumberings of rules take turns (until the transaction ends).

    Two renumberings checked at commit would each wait for the other's uncommitted rows: a deadlock,
    not a clash a manager can act on. Taking turns, the second one sees the first one's rules.
    """
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [RULE_PRIORITY_CONSTRAINT])


def rule_priorities_check_now() -> None:
    """Checks the deferred unique constraint on rule priorities at once: IntegrityError here rather than at commit.

    The Python check above reads committed rules only; two managers saving at the same moment both pass it,
    and PostgreSQL refuses the second. Checked before the admin or the import reports success, the clash
    becomes a message for the manager instead of a failed commit after the page said "saved".
    """
    if connection.features.supports_deferrable_unique_constraints and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(f"SET CONSTRAINTS {RULE_PRIORITY_CONSTRAINT} IMMEDIATE")
            cursor.execute(f"SET CONSTRAINTS {RULE_PRIORITY_CONSTRAINT} DEFERRED")


def is_rule_priority_clash(error: IntegrityError) -> bool:
    """True when PostgreSQL refused two rules with one priority (and not some other constraint)."""
    diagnostics = getattr(error.__cause__, "diag", None)
    return getattr(diagnostics, "constraint_name", None) == RULE_PRIORITY_CONSTRAINT
