"""Fairness: each rep's share of a rule's leads against the share their weight asks for.

A manager reads it as "is the rotation fair?". Per distributing rule, over a period: the leads the
rule gave each rep at first routing, that count as a share of the rule's leads, and the share the
rep's weight asks for among the reps who could get them (the rule's team, or whoever the rule
served). Round robin asks for equal shares; weighted round robin for shares in proportion to the
weights. A rep who was away, out of hours or at a cap gets less by design: the page says so, and
the deviation is a prompt to look, not a verdict.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count

from reps.models import Rep
from reps.scoping import TeamScope, team_scope
from routing.models import Assignment, RoutingRule

# Strategies whose promise is a share of the leads; least loaded and performance based promise something else.
SHARE_STRATEGIES = (RoutingRule.Strategy.ROUND_ROBIN, RoutingRule.Strategy.WEIGHTED)
# A deviation smaller than this many percentage points is noise at any volume a manager looks at.
NOTICEABLE_POINTS = 5
# Fewer leads than this and shares say nothing yet.
MEANINGFUL_LEADS = 20


@dataclass
class RepShare:
    rep_id: int
    name: str
    weight: Decimal
    leads: int
    share: float
    expected_share: float

    @property
    def deviation_points(self) -> float:
        """Actual minus expected share, in percentage points (+ got more than asked)."""
        return (self.share - self.expected_share) * 100

    @property
    def share_points(self) -> float:
        return self.share * 100

    @property
    def expected_points(self) -> float:
        return self.expected_share * 100


@dataclass
class RuleFairness:
    rule_id: int
    name: str
    strategy: str
    strategy_label: str
    leads: int
    reps: list = field(default_factory=list)

    @property
    def has_enough_leads(self) -> bool:
        return self.leads >= MEANINGFUL_LEADS

    @property
    def largest_deviation_points(self) -> float:
        return max((abs(row.deviation_points) for row in self.reps), default=0.0)

    @property
    def is_uneven(self) -> bool:
        return self.has_enough_leads and self.largest_deviation_points >= NOTICEABLE_POINTS


def fairness_by_rule(*, scope: TeamScope | None, since: dt.datetime) -> list[RuleFairness]:
    """The share-promising rules that routed leads since `since`, each with its reps' actual and expected shares."""
    rules = {rule.pk: rule for rule in RoutingRule.objects.filter(strategy__in=SHARE_STRATEGIES)}
    counted = (
        Assignment.objects.filter(created_at__gte=since, kind=Assignment.Kind.INITIAL, rule_id__in=rules)
        .values_list("rule_id", "rep_id").annotate(n=Count("pk")).order_by()
    )
    leads_by_rule: dict[int, dict[int, int]] = {}
    for rule_id, rep_id, count in counted:
        leads_by_rule.setdefault(rule_id, {})[rep_id] = count
    reports = []
    for rule_id, leads_by_rep in leads_by_rule.items():
        rule = rules[rule_id]
        rep_ids = set(leads_by_rep) | _target_team_rep_ids(rule)
        if scope is not None and not rep_ids & scope.rep_ids:
            continue
        reports.append(_rule_fairness(rule, leads_by_rep, rep_ids, scope))
    return sorted(reports, key=lambda report: (-report.largest_deviation_points, report.name))


def _target_team_rep_ids(rule: RoutingRule) -> set:
    """The active reps of the rule's team: a member who got nothing still asked for a share."""
    if rule.target_type != RoutingRule.TargetType.TEAM or rule.target_team_id is None:
        return set()
    if rule.include_sub_teams:
        rep_ids = team_scope([rule.target_team_id]).rep_ids
    else:
        rep_ids = Rep.objects.filter(teams=rule.target_team_id).values_list("pk", flat=True)
    return set(Rep.objects.filter(pk__in=rep_ids, is_active=True).values_list("pk", flat=True))


def _rule_fairness(rule, leads_by_rep: dict, rep_ids: set, scope: TeamScope | None) -> RuleFairness:
    reps = Rep.objects.filter(pk__in=rep_ids).select_related("user")
    weighted = rule.strategy == RoutingRule.Strategy.WEIGHTED
    weights = {rep.pk: (rep.weight if weighted else Decimal(1)) for rep in reps}
    total_weight = sum(weights.values()) or Decimal(1)
    total_leads = sum(leads_by_rep.values())
    rows = [
        RepShare(
            rep_id=rep.pk, name=rep.name, weight=weights[rep.pk], leads=leads_by_rep.get(rep.pk, 0),
            share=leads_by_rep.get(rep.pk, 0) / total_leads, expected_share=float(weights[rep.pk] / total_weight),
        )
        for rep in reps
        # Other teams' reps count in the shares (the rotation is shared) but a scoped manager sees only theirs.
        if scope is None or rep.pk in scope.rep_ids
    ]
    rows.sort(key=lambda row: (-abs(row.deviation_points), row.name))
    return RuleFairness(rule_id=rule.pk, name=rule.name, strategy=rule.strategy,
                        strategy_label=rule.get_strategy_display(), leads=total_leads, reps=rows)
