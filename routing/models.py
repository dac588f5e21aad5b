"""Routing configuration (rules, conditions, pools), rotation state, assignments and the audit trail."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F
from django.db.models.fields.json import KT
from django.utils.translation import gettext_lazy as _

from routing.conditions import OPERATOR_CHOICES
from routing.explain import COMPACTED_KEY, decision_explanation
from routing.validation import RULE_PRIORITY_CONSTRAINT, experiment_errors, rule_target_errors


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
        PERFORMANCE = "performance", _("Performance based (shares by conversion in segment)")

    class SlaBreachAction(models.TextChoices):
        REROUTE = "reroute", _("Next eligible rep by the rules (never a previous owner)")
        TEAM = "team", _("An eligible rep of the escalation team")
        POOL = "pool", _("The escalation pool, for any member to claim")

    class WhenNoneEligible(models.TextChoices):
        FALL_THROUGH = "fall_through", _("Try the next rule")
        QUEUE = "queue", _("Wait in the rule's pool until someone is free")

    # Unique (the constraint below); its index also serves the engine's "order by priority".
    priority = models.PositiveIntegerField(_("priority"), default=0, help_text=_("Lower runs first."))
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
        _("performance window (days)"), default=90, validators=[MinValueValidator(1)],
        help_text=_("Performance based: leads assigned in this many days make up each rep's conversion rate."),
    )
    performance_outcome_days = models.PositiveIntegerField(
        _("days until an open lead counts as lost"), default=30, validators=[MinValueValidator(1)],
        help_text=_("Performance based: a lead neither converted nor lost counts against its rep only once it has "
                    "been open this many days; fresher leads do not count yet."),
    )
    performance_new_rep_share = models.PositiveSmallIntegerField(
        _("minimum share for new reps (%)"), default=10, validators=[MaxValueValidator(50)],
        help_text=_("Performance based: a rep with fewer than 20 known outcomes in the lead's segment gets at least "
                    "this percentage of the leads, to build a record (0 to 50)."),
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
        constraints = [
            # First match wins, so two rules with one priority would run in an order nobody chose. Checked at
            # commit (deferred): dragging a rule or importing a file renumbers several rules in one transaction,
            # passing through states where two rules briefly share a number. SQLite (the demo) has no deferrable
            # unique constraints and goes without; the admin and the import check in Python too.
            models.UniqueConstraint(
                fields=["priority"], name=RULE_PRIORITY_CONSTRAINT, deferrable=models.Deferrable.DEFERRED,
            ),
        ]
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")

    def __str__(self):
        return self.name

    def clean(self):
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
    """One row whose token changes on every configuration change, so workers know to reload their compiled rules.

    Written only by triggers in the database (migration 0009), on every write to rules, conditions, skills,
    pools, territories, teams and experiments: no Python writer can forget it.
    """

    version = models.PositiveBigIntegerField(default=0)


class RosterVersion(models.Model):
    """One row whose token changes on every write to the reps workers keep between batches (`routing.roster`).

    Written only by triggers in the database (migration 0026), on every write to reps, their team
    memberships, their users and their calendars: reading it costs a worker one row per batch instead of
    rebuilding the 200 reps of a mid-size organisation's teams.
    """

    version = models.PositiveBigIntegerField(default=0)

    class Meta:
        default_permissions = ()  # nobody edits it, not even a superuser: the triggers do


class RepLoad(models.Model):
    """How many open leads a rep holds, so the capacity checks read one row instead of counting a year of leads.

    Written only by triggers in the database (migration 0014), in the transaction that inserts,
    updates or deletes the lead: every writer (routing, claims, the admin, bulk updates, raw SQL)
    keeps it exact. `manage.py routing_check_loads` compares it with a real count.
    """

    rep = models.OneToOneField("reps.Rep", primary_key=True, on_delete=models.CASCADE, related_name="load")
    open_leads = models.IntegerField(default=0)

    class Meta:
        default_permissions = ()  # kept by the database, never edited by people: nothing to grant


class RotationState(models.Model):
    """Fairness state of one rep inside one rule: kept in PostgreSQL, updated with the assignment."""

    rule = models.ForeignKey(RoutingRule, on_delete=models.CASCADE, related_name="rotation", verbose_name=_("rule"))
    rep = models.ForeignKey("reps.Rep", on_delete=models.CASCADE, related_name="rotation", verbose_name=_("rep"))
    last_assigned_at = models.DateTimeField(_("last assigned at"), null=True, blank=True)
    # Order of the last assignment within the rule (clocks of several worker machines may disagree).
    last_assigned_seq = models.PositiveBigIntegerField(_("last assignment number"), default=0)
    assigned_count = models.PositiveIntegerField(_("leads assigned"), default=0)
    # Stride scheduling for weighted rotation: each assignment adds 1/weight.
    virtual_pass = models.FloatField(_("pass (weighted rotation)"), default=0.0)
    # Smooth weighted rotation for performance based routing: each lead credits every eligible rep with
    # their share, and the rep given the lead gives one lead's worth back.
    performance_credit = models.FloatField(_("credit (performance based)"), default=0.0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "rep"], name="rotation_unique_rule_rep")]
        verbose_name = _("rotation state")
        verbose_name_plural = _("rotation states")


def rule_reason(rule) -> str:
    """Why the rules gave a lead to its rep, in the active language."""
    return _("Rule '%(rule)s'") % {"rule": rule}


class RoutingExperiment(models.Model):
    """An A/B test of one rule: its test group is placed by another rule's target and strategy."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        RUNNING = "running", _("Running")
        STOPPED = "stopped", _("Stopped")
        WINNER_CHOSEN = "winner_chosen", _("Winner chosen")

    class Group(models.TextChoices):
        CONTROL = "control", _("Control")
        TEST = "test", _("Test")

    name = models.CharField(_("name"), max_length=150)
    hypothesis = models.TextField(
        _("hypothesis"), blank=True,
        help_text=_("What you expect, e.g. \"senior reps convert enterprise leads better\"."),
    )
    control_rule = models.ForeignKey(
        RoutingRule, verbose_name=_("control rule"), on_delete=models.PROTECT, related_name="experiments",
        help_text=_("An active rule. Every lead it matches joins the experiment; "
                    "the control group is routed by it as usual."),
    )
    variant_rule = models.ForeignKey(
        RoutingRule, verbose_name=_("variant rule"), on_delete=models.PROTECT, related_name="+",
        help_text=_("Usually an inactive rule: the test group is placed by its target and strategy. "
                    "Its conditions are ignored."),
    )
    # Not a PositiveSmallIntegerField: its form field would answer -5 with "greater than or equal to 0", not these.
    test_share = models.SmallIntegerField(
        _("test group share (%)"), default=50,
        validators=[
            MinValueValidator(1, _("At least 1: the test group needs some of the leads (1 to 99).")),
            MaxValueValidator(99, _("At most 99: the control group needs some of the leads (1 to 99).")),
        ],
        help_text=_("Percent of the matched leads placed by the variant rule (1 to 99)."),
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("started by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("ended by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    winner_chosen_at = models.DateTimeField(_("winner chosen"), null=True, blank=True)
    winner_chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("winner chosen by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Two running experiments on one rule would split the same leads twice.
            models.UniqueConstraint(
                fields=["control_rule"], condition=models.Q(status="running"),
                name="experiment_one_running_per_control_rule",
                violation_error_message=_(
                    "This rule already has a running experiment: stop it before starting another."),
            ),
            models.CheckConstraint(
                condition=models.Q(test_share__gte=1, test_share__lte=99), name="experiment_test_share_1_to_99",
                violation_error_message=_("The test group's share is a percentage from 1 to 99."),
            ),
            models.CheckConstraint(
                condition=~models.Q(variant_rule=models.F("control_rule")), name="experiment_variant_is_not_control",
                violation_error_message=_("The variant rule must be another rule than the control rule."),
            ),
        ]
        verbose_name = _("A/B experiment")
        verbose_name_plural = _("A/B experiments")

    def __str__(self):
        return self.name

    def clean(self):
        errors = experiment_errors(self)
        if errors:
            raise ValidationError(errors)


class Assignment(models.Model):
    """Who owned a lead, from when, and why; exactly one row per lead is current."""

    class Kind(models.TextChoices):
        INITIAL = "initial", _("Initial routing")
        REASSIGN = "reassign", _("Reassignment")
        MANUAL = "manual", _("Manual")
        CLAIM = "claim", _("Claimed from pool")

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="assignments", verbose_name=_("lead"),
                             db_index=False)  # assignment_lead_reps serves every lookup by lead
    rep = models.ForeignKey("reps.Rep", on_delete=models.PROTECT, related_name="assignments", verbose_name=_("rep"))
    # Who had the lead before: its owner when it moved, else the rep of its previous assignment (a lead moved out of
    # a pool). Written with the row by routing.ownership; the reassignment log's "from" and a manager's "moves from
    # one of your reps" read it instead of looking up each row's previous assignment. No index: both read it from
    # rows another index found.
    from_rep = models.ForeignKey("reps.Rep", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 db_index=False, verbose_name=_("from rep"))
    rule = models.ForeignKey(RoutingRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="assignments",
                             verbose_name=_("rule"))
    strategy = models.CharField(_("strategy"), max_length=20, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.INITIAL)
    # Why, as data: {"code": "sla_breach", "params": {...}} (routing.timeline renders it in the reader's language).
    cause = models.JSONField(_("cause"), default=dict, blank=True)
    # The cause in the site's language when it was written, for the admin's lists and search; never read back by code.
    reason = models.TextField(_("reason"), blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                              verbose_name=_("by"))
    # The experiment that split this lead, and its group ("control"/"test"); empty outside experiments.
    experiment = models.ForeignKey(
        RoutingExperiment, null=True, blank=True, on_delete=models.SET_NULL, related_name="assignments",
        verbose_name=_("experiment"),
    )
    experiment_group = models.CharField(_("experiment group"), max_length=10, choices=RoutingExperiment.Group.choices,
                                        blank=True)
    is_current = models.BooleanField(_("current"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # The invariant of the product: a lead never has two current owners.
            models.UniqueConstraint(
                fields=["lead"], condition=models.Q(is_current=True), name="assignment_one_current_owner_per_lead"
            ),
        ]
        indexes = [
            # Daily and hourly caps: "assignments of reps X, Y since the start of each one's window"
            # (routing.capacity.new_lead_counts), read from the window's start: the cost follows the window, not the history.
            models.Index(fields=["rep", "created_at"], name="assignment_rep_created"),
            # A lead's assignments; with the reps, a scoped manager's count of assignments ("to, from or of a lead
            # of my teams", reps.scoping) reads this index alone, in its order (routing.admin: 95 -> 45 ms).
            models.Index(fields=["lead"], include=["rep", "from_rep"], name="assignment_lead_reps"),
            # The admin's assignments list, newest first (the default order): reads 100 rows instead of sorting them all.
            models.Index(fields=["-created_at", "-id"], name="assignment_created"),
            # The reassignment log (routing.reassignment_log.reassignment_log): "moves, newest first", a page at a time.
            models.Index(F("created_at").desc(), F("id").desc(), condition=models.Q(kind__in=["reassign", "manual"]),
                         name="assignment_moves_newest"),
            # The reassignment log filtered by cause: "moves of cause X, newest first".
            models.Index(KT("cause__code"), F("created_at").desc(), condition=models.Q(kind__in=["reassign", "manual"]),
                         name="assignment_moves_by_cause"),
        ]
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")

    def __str__(self):
        return f"{self.lead} → {self.rep} ({self.get_kind_display()})"

    @property
    def reason_for_reader(self) -> str:
        """The cause in the reader's language; a reason written before causes were data as it was written."""
        from routing.timeline import cause_text

        if self.kind == self.Kind.INITIAL and self.rule is not None:
            return rule_reason(self.rule)
        return cause_text(self.cause, default=self.reason)


class RoutingDecision(models.Model):
    """The audit trail of one routing run: rules checked, candidates excluded and why, the outcome."""

    class Outcome(models.TextChoices):
        ASSIGNED = "assigned", _("Assigned")
        POOLED = "pooled", _("Waiting in pool")
        NURTURE = "nurture", _("Nurture")
        UNROUTABLE = "unroutable", _("Unroutable")

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="decisions", verbose_name=_("lead"),
                             db_index=False)  # decision_lead_rep serves every lookup by lead
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    rule = models.ForeignKey(RoutingRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             verbose_name=_("rule"))
    chosen_rep = models.ForeignKey("reps.Rep", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("chosen rep"))
    assignment = models.OneToOneField(Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="decision",
                                      verbose_name=_("assignment"))
    # Codes and parameters (`routing.explain` renders them in the reader's language).
    trace = models.JSONField(_("trace"), default=dict)
    # The explanation as text, written by decisions made before the trace was data; blank since.
    explanation = models.TextField(_("explanation"), blank=True)
    duration_ms = models.FloatField(_("duration (ms)"), default=0)
    worker = models.CharField(_("worker"), max_length=200, blank=True)
    # The experiment that split this lead, and its group ("control"/"test"); empty outside experiments.
    experiment = models.ForeignKey(
        RoutingExperiment, null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions",
        verbose_name=_("experiment"),
    )
    experiment_group = models.CharField(_("experiment group"), max_length=10, choices=RoutingExperiment.Group.choices,
                                        blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The admin's routing decisions list, newest first (the default order), and its date filter.
            models.Index(fields=["-created_at", "-id"], name="decision_created"),
            # A lead's decisions; with the chosen rep, a scoped manager's count of decisions reads this index alone,
            # in its order, instead of 2 kB rows of trace (routing.admin, one team of 20: 200 -> 40 ms).
            models.Index(fields=["lead"], include=["chosen_rep"], name="decision_lead_rep"),
            # compact_routing_decisions: "the oldest decisions whose trace is not compacted yet"; shrinks as it works.
            models.Index(fields=["created_at"], name="decision_trace_to_compact",
                         condition=~models.Q(trace__has_key=COMPACTED_KEY)),
            # Experiment results (routing.experiments._group_figures): "leads of experiment X's group G", read from
            # the index alone: the decisions' rows (traces, 2 kB each) are never fetched.
            models.Index(fields=["experiment", "experiment_group"], include=["lead"],
                         condition=models.Q(experiment__isnull=False), name="decision_experiment_leads"),
        ]
        verbose_name = _("routing decision")
        verbose_name_plural = _("routing decisions")

    def __str__(self):
        return f"{self.lead}: {self.get_outcome_display()}"

    @property
    def explained(self) -> str:
        """The explanation in the active language, from the trace; a decision written before: its stored text."""
        return decision_explanation(self.trace, stored=self.explanation)


class LeadStatsFigures(models.Model):
    """The figures of a group of leads, summed: the columns DailyLeadStats and MonthlyLeadStats share.

    A group is the set of reps the leads were ever assigned to (`rep_set`, ",3,17,"; "" for never routed), their
    owner now and the rule of their current assignment: a team's leads are those routed to its reps at some point,
    and summing groups counts a lead moved within a team once.
    """

    rep_set = models.CharField(max_length=400, blank=True)
    # No index of their own: every read is by day (or month) and groups by owner and rule.
    owner = models.ForeignKey("reps.Rep", null=True, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
                              related_name="+")
    rule = models.ForeignKey(RoutingRule, null=True, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
                             related_name="+")
    leads = models.PositiveIntegerField(default=0)
    converted = models.PositiveIntegerField(default=0)
    touched = models.PositiveIntegerField(default=0)
    contacted_late = models.PositiveIntegerField(default=0)
    # Contacted late, or moved on after a missed first-touch deadline.
    sla_breached = models.PositiveIntegerField(default=0)
    # Time to first touch as a histogram (columns, so a period's histogram is one SUM each): touched_within_X counts
    # the leads first touched within X and not within the edge before; the percentiles are read from the sums.
    touched_within_1m = models.PositiveIntegerField(default=0)
    touched_within_2m = models.PositiveIntegerField(default=0)
    touched_within_5m = models.PositiveIntegerField(default=0)
    touched_within_10m = models.PositiveIntegerField(default=0)
    touched_within_15m = models.PositiveIntegerField(default=0)
    touched_within_30m = models.PositiveIntegerField(default=0)
    touched_within_1h = models.PositiveIntegerField(default=0)
    touched_within_2h = models.PositiveIntegerField(default=0)
    touched_within_4h = models.PositiveIntegerField(default=0)
    touched_within_8h = models.PositiveIntegerField(default=0)
    touched_within_1d = models.PositiveIntegerField(default=0)
    touched_within_2d = models.PositiveIntegerField(default=0)
    touched_within_1w = models.PositiveIntegerField(default=0)
    touched_later = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class DailyLeadStats(LeadStatsFigures):
    """The dashboard's and the trends' figures for the leads created on one day (site time zone), summed by group.

    Kept by routing.daily_stats: triggers mark the hours whose leads changed, a read recomputes those days.
    """

    day = models.DateField()

    class Meta:
        default_permissions = ()  # derived figures, kept by the app: nothing to grant
        indexes = [
            # The dashboard and the trends: "figures of the days from X to Y" (by day, then summed).
            models.Index(fields=["day"], name="dailyleadstats_day"),
        ]


class MonthlyLeadStats(LeadStatsFigures):
    """The days of one month (site time zone) of DailyLeadStats summed by group: a year is read as 12 rows per group.

    Kept by routing.daily_stats for the months listed in SummedMonth.
    """

    month = models.DateField()  # its first day

    class Meta:
        default_permissions = ()  # derived figures, kept by the app: nothing to grant
        indexes = [
            # The dashboard: "figures of the months from X to Y" (then summed).
            models.Index(fields=["month"], name="monthlyleadstats_month"),
        ]


class AssignmentStatsFigures(models.Model):
    """Assignments made to one rep, counted: the columns DailyAssignmentStats and MonthlyAssignmentStats share."""

    # No index of its own: every read is by day (or month), served by the unique (day or month, rep) index.
    rep = models.ForeignKey("reps.Rep", on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
                            related_name="+")
    assigned = models.PositiveIntegerField(default=0)
    reassignments = models.PositiveIntegerField(default=0)
    sla_reassigned = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class DailyAssignmentStats(AssignmentStatsFigures):
    """Assignments made on one day (site time zone) to one rep: the distribution and the reassignment tiles."""

    day = models.DateField()

    class Meta:
        default_permissions = ()  # derived figures, kept by the app: nothing to grant
        constraints = [models.UniqueConstraint(fields=["day", "rep"], name="dailyassignmentstats_day_rep")]


class MonthlyAssignmentStats(AssignmentStatsFigures):
    """The days of one month of DailyAssignmentStats summed per rep; kept for the months listed in SummedMonth."""

    month = models.DateField()  # its first day

    class Meta:
        default_permissions = ()  # derived figures, kept by the app: nothing to grant
        constraints = [
            # One row per month and rep; its index serves the dashboard's "figures of the months from X to Y".
            models.UniqueConstraint(fields=["month", "rep"], name="monthlyassignmentstats_month_rep"),
        ]


class SummedMonth(models.Model):
    """A month (its first day, site time zone) whose daily figures the monthly tables hold summed.

    routing.daily_stats sums a month that ended when a read first needs it, and sums it again in the
    transaction that recomputes one of its days: a month listed here is always current.
    """

    month = models.DateField(unique=True)  # its index: "which of these months are summed"

    class Meta:
        default_permissions = ()  # derived figures, kept by the app: nothing to grant


class RepSetMember(models.Model):
    """One rep of a rep set of DailyLeadStats, kept with the rows by routing.daily_stats.

    A team's groups are "rep sets holding one of its reps": a join through this table instead of
    matching every row's text, and a set is written once, whatever the days it appears on.
    """

    rep_set = models.CharField(max_length=400)
    # No index of its own: the unique constraint's (rep, rep_set) serves every read.
    rep = models.ForeignKey("reps.Rep", on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
                            related_name="+")

    class Meta:
        default_permissions = ()  # derived figures, kept by the app: nothing to grant
        constraints = [
            # The dashboard's and the trends' scope: "rep sets of reps X, Y, ..." read off this index alone.
            models.UniqueConstraint(fields=["rep", "rep_set"], name="repsetmember_rep_rep_set"),
        ]


class DailyStatsStaleHour(models.Model):
    """An hour (UTC) whose leads or assignments changed since the daily figures were computed.

    Written by triggers (PostgreSQL), one row per transaction and hour, so writers never wait for each
    other; a read takes the marks away and recomputes their days (routing.daily_stats).
    """

    hour = models.DateTimeField()
    transaction_id = models.BigIntegerField()

    class Meta:
        default_permissions = ()  # derived figures, kept by the app: nothing to grant
        constraints = [
            models.UniqueConstraint(fields=["hour", "transaction_id"], name="dailystatsstalehour_one_per_transaction"),
        ]
class SimulationRun(models.Model):
    """One simulation a manager asked for, run by a worker of the `simulations` queue; its result kept as data."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                                   verbose_name=_("started by"))
    # What the form chose: leads_from, number, source, country, switch_on and switch_off (rule ids).
    parameters = models.JSONField(_("parameters"), default=dict)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    # Why it failed, as a code and parameters (`routing.simulation_runs.failure_message` says it in the reader's
    # language): "invalid" (messages), "error" (the exception's class), "stalled" (seconds).
    failure_code = models.CharField(_("failure"), max_length=20, blank=True)
    failure_params = models.JSONField(_("failure parameters"), default=dict, blank=True)
    progress_done = models.PositiveIntegerField(_("leads replayed"), default=0)
    progress_total = models.PositiveIntegerField(_("leads to replay"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Moved with every batch of leads replayed: the sweeper fails a run that stopped moving (its worker died).
    heartbeat_at = models.DateTimeField(_("last progress at"), auto_now_add=True)
    # Summary counts, tallies and the first changed leads with their traces; see `routing.simulation_runs`.
    results = models.JSONField(_("results"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("simulation run")
        verbose_name_plural = _("simulation runs")
        indexes = [
            # The sweeper: runs queued or running whose heartbeat is old (a small partial index: few runs are live).
            models.Index(fields=["heartbeat_at"], name="simulationrun_live_heartbeat",
                         condition=models.Q(status__in=["queued", "running"])),
            # "Your simulations" on the Simulate page, newest first; and the retention cleanup by created_at.
            models.Index(fields=["started_by", "-created_at"], name="simulationrun_by_user_newest"),
            models.Index(fields=["created_at"], name="simulationrun_created_at"),
        ]

    def __str__(self):
        return _("Simulation %(id)s") % {"id": self.pk}

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
