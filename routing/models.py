"""Routing configuration (rules, conditions, pools), rotation state, assignments and the audit trail."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from routing.conditions import OPERATOR_CHOICES


class Pool(models.Model):
    """Leads wait here until a member claims one (hybrid push-pull)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    teams = models.ManyToManyField("reps.Team", verbose_name=_("teams that may claim"), blank=True, related_name="pools")
    reps = models.ManyToManyField("reps.Rep", verbose_name=_("reps that may claim"), blank=True, related_name="pools")

    class Meta:
        ordering = ["name"]
        verbose_name = _("pool")
        verbose_name_plural = _("pools")

    def __str__(self):
        return self.name


class RoutingRule(models.Model):
    class MatchMode(models.TextChoices):
        ALL = "all", _("All conditions match")
        ANY = "any", _("Any condition matches")

    class TargetType(models.TextChoices):
        REP = "rep", _("A rep")
        TEAM = "team", _("A team")
        TERRITORY = "territory", _("Reps covering the lead's territory")
        SKILLS = "skills", _("Reps with the required skills")
        ACCOUNT_OWNER = "account_owner", _("Owner of the matched account")
        POOL = "pool", _("A claimable pool")
        NURTURE = "nurture", _("Nurture (no rep)")

    class Strategy(models.TextChoices):
        ROUND_ROBIN = "round_robin", _("Round robin (least recently assigned)")
        WEIGHTED = "weighted", _("Weighted round robin")
        LEAST_LOADED = "least_loaded", _("Least loaded (fewest open leads)")
        PERFORMANCE = "performance", _("Performance based (best conversion in segment)")

    class SlaBreachAction(models.TextChoices):
        REROUTE = "reroute", _("Next eligible rep by the rules (never a previous owner)")
        TEAM = "team", _("An eligible rep of the escalation team")
        POOL = "pool", _("The escalation pool, for any member to claim")

    class WhenNoneEligible(models.TextChoices):
        FALL_THROUGH = "fall_through", _("Try the next rule")
        QUEUE = "queue", _("Wait in the rule's pool until someone is free")

    priority = models.PositiveIntegerField(_("priority"), default=0, db_index=True, help_text=_("Lower runs first."))
    name = models.CharField(_("name"), max_length=150)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    match_mode = models.CharField(_("combine conditions"), max_length=3, choices=MatchMode.choices, default=MatchMode.ALL)
    target_type = models.CharField(_("assign to"), max_length=20, choices=TargetType.choices, default=TargetType.TEAM)
    target_rep = models.ForeignKey(
        "reps.Rep", verbose_name=_("rep"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    target_team = models.ForeignKey(
        "reps.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT, related_name="rules"
    )
    include_sub_teams = models.BooleanField(_("include sub-teams"), default=True)
    use_parent_account_owner = models.BooleanField(
        _("fall back to the parent account's owner"), default=True,
        help_text=_("When the matched account has no owner, use the owner of its parent company."),
    )
    pool = models.ForeignKey(
        Pool, verbose_name=_("pool"), null=True, blank=True, on_delete=models.PROTECT, related_name="rules",
        help_text=_("The pool of a 'claimable pool' rule, or where leads wait when nobody is eligible."),
    )
    strategy = models.CharField(_("strategy"), max_length=20, choices=Strategy.choices, default=Strategy.ROUND_ROBIN)
    when_none_eligible = models.CharField(
        _("when nobody is eligible"), max_length=20, choices=WhenNoneEligible.choices, default=WhenNoneEligible.FALL_THROUGH
    )
    performance_window_days = models.PositiveIntegerField(
        _("performance window (days)"), default=90, validators=[MinValueValidator(1)]
    )
    sla_minutes = models.PositiveIntegerField(
        _("time to first touch (minutes)"), null=True, blank=True, help_text=_("Empty: the global default.")
    )
    sla_breach_action = models.CharField(
        _("when the SLA is missed"), max_length=20, choices=SlaBreachAction.choices, default=SlaBreachAction.REROUTE
    )
    sla_escalation_team = models.ForeignKey(
        "reps.Team", verbose_name=_("escalation team"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sla_escalation_pool = models.ForeignKey(
        Pool, verbose_name=_("escalation pool"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sla_working_time_only = models.BooleanField(
        _("count the SLA in working time only"), default=False,
        help_text=_("The clock runs only during the assigned rep's working hours (a lead at 17:55 is due tomorrow morning)."),
    )
    # Counts this rule's assignments; moved under the rule's row lock, it orders "least recently assigned".
    rotation_seq = models.PositiveBigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["priority", "id"]
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")

    def __str__(self):
        return self.name

    def clean(self):
        from routing.validation import rule_target_errors

        errors = rule_target_errors(self)
        if errors:
            raise ValidationError(errors)


class RuleCondition(models.Model):
    rule = models.ForeignKey(RoutingRule, on_delete=models.CASCADE, related_name="conditions")
    field = models.CharField(
        _("field"), max_length=120,
        help_text=_("A lead field (country, score...), attributes.<key> for custom data, or territory, account, "
                    "account.is_customer, account.parent."),
    )
    operator = models.CharField(_("operator"), max_length=20, choices=OPERATOR_CHOICES, default="equals")
    value = models.TextField(
        _("value"), blank=True,
        help_text=_("Lists: comma-separated. Between: low,high. Territory: the territory's name."),
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("condition")
        verbose_name_plural = _("conditions")

    def __str__(self):
        return f"{self.field} {self.operator} {self.value}".strip()

    def clean(self):
        from routing.conditions import ConditionError, compile_condition

        try:
            compile_condition(self.field, self.operator, self.value)
        except ConditionError as error:
            raise ValidationError({error.field or "value": error.message}) from None


class RuleSkillRequirement(models.Model):
    rule = models.ForeignKey(RoutingRule, on_delete=models.CASCADE, related_name="skill_requirements")
    skill = models.ForeignKey("reps.Skill", on_delete=models.PROTECT, related_name="+")
    min_level = models.PositiveSmallIntegerField(
        _("minimum level"), default=1, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "skill"], name="ruleskill_unique_rule_skill")]
        verbose_name = _("required skill")
        verbose_name_plural = _("required skills")

    def __str__(self):
        return f"{self.skill.name} ≥ {self.min_level}"


class RoutingConfigVersion(models.Model):
    """One row whose counter moves on every rule change, so workers know to reload their compiled rules."""

    version = models.PositiveBigIntegerField(default=0)


class RotationState(models.Model):
    """Fairness state of one rep inside one rule: kept in PostgreSQL, updated with the assignment."""

    rule = models.ForeignKey(RoutingRule, on_delete=models.CASCADE, related_name="rotation")
    rep = models.ForeignKey("reps.Rep", on_delete=models.CASCADE, related_name="rotation")
    last_assigned_at = models.DateTimeField(null=True, blank=True)
    # Order of the last assignment within the rule (clocks of several worker machines may disagree).
    last_assigned_seq = models.PositiveBigIntegerField(default=0)
    assigned_count = models.PositiveIntegerField(default=0)
    # Stride scheduling for weighted rotation: each assignment adds 1/weight.
    virtual_pass = models.FloatField(default=0.0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "rep"], name="rotation_unique_rule_rep")]


def rule_reason(rule) -> str:
    """Why the rules gave a lead to its rep, in the active language."""
    return _("Rule '%(rule)s'") % {"rule": rule}


class Assignment(models.Model):
    """Who owned a lead, from when, and why; exactly one row per lead is current."""

    class Kind(models.TextChoices):
        INITIAL = "initial", _("Initial routing")
        REASSIGN = "reassign", _("Reassignment")
        MANUAL = "manual", _("Manual")
        CLAIM = "claim", _("Claimed from pool")

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="assignments")
    rep = models.ForeignKey("reps.Rep", on_delete=models.PROTECT, related_name="assignments")
    rule = models.ForeignKey(RoutingRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="assignments")
    strategy = models.CharField(max_length=20, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.INITIAL)
    reason = models.TextField(blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    is_current = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # The invariant of the product: a lead never has two current owners.
            models.UniqueConstraint(
                fields=["lead"], condition=models.Q(is_current=True), name="assignment_one_current_owner_per_lead"
            ),
        ]
        indexes = [
            # Daily caps: "assignments of rep X since the start of their day".
            models.Index(fields=["rep", "created_at"], name="assignment_rep_created"),
        ]
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")

    def __str__(self):
        return f"{self.lead} → {self.rep} ({self.get_kind_display()})"

    @property
    def reason_for_reader(self) -> str:
        """The reason in the reader's language when the rules wrote it (initial routing); else as it was written."""
        if self.kind == self.Kind.INITIAL and self.rule is not None:
            return rule_reason(self.rule)
        return self.reason


class RoutingDecision(models.Model):
    """The audit trail of one routing run: rules checked, candidates excluded and why, the outcome."""

    class Outcome(models.TextChoices):
        ASSIGNED = "assigned", _("Assigned")
        POOLED = "pooled", _("Waiting in pool")
        NURTURE = "nurture", _("Nurture")
        UNROUTABLE = "unroutable", _("Unroutable")

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="decisions")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    rule = models.ForeignKey(RoutingRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    chosen_rep = models.ForeignKey("reps.Rep", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    assignment = models.OneToOneField(Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="decision")
    trace = models.JSONField(default=dict)
    explanation = models.TextField()
    duration_ms = models.FloatField(default=0)
    worker = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("routing decision")
        verbose_name_plural = _("routing decisions")

    def __str__(self):
        return f"{self.lead}: {self.get_outcome_display()}"
