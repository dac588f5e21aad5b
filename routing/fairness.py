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
from reps.scoping import TeamScope
from reps.selectors import team_children, team_ids_below
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
    """The share-promising rules that routed leads since `since`, each with its reps' actual and expected shares.

    A constant number of queries however many rules: the counts, the target teams' active members, the reps.
    """
    rules = {rule.pk: rule for rule in RoutingRule.objects.filter(strategy__in=SHARE_STRATEGIES)}
    counted = (
        Assignment.objects.filter(created_at__gte=since, kind=Assignment.Kind.INITIAL, rule_id__in=rules)
        .values_list("rule_id", "rep_id").annotate(n=Count("pk")).order_by()
    )
    leads_by_rule: dict[int, dict[int, int]] = {}
    for rule_id, rep_id, count in counted:
        leads_by_rule.setdefault(rule_id, {})[rep_id] = count
    teams_of_rule = _target_team_ids([rules[rule_id] for rule_id in leads_by_rule])
    members = _active_members(set().union(*teams_of_rule.values()))
    shown = []
    for rule_id, leads_by_rep in leads_by_rule.items():
        # A member of the rule's team who got nothing still asked for a share.
        rep_ids = set(leads_by_rep).union(*(members.get(team_id, ()) for team_id in teams_of_rule.get(rule_id, ())))
        if scope is None or rep_ids & scope.rep_ids:
            shown.append((rules[rule_id], leads_by_rep, rep_ids))
    reps = list(Rep.objects.filter(pk__in=set().union(*(rep_ids for _, _, rep_ids in shown))).select_related("user"))
    reports = [_rule_fairness(rule, leads_by_rep, [rep for rep in reps if rep.pk in rep_ids], scope)
               for rule, leads_by_rep, rep_ids in shown]
    return sorted(reports, key=lambda report: (-report.largest_deviation_points, report.name))


def _target_team_ids(rules) -> dict:
    """rule.pk -> the ids of its target team and, when the rule says so, the sub-teams; for rules aimed at a team."""
    children = team_children()
    return {
        rule.pk: team_ids_below(rule.target_team_id, children) if rule.include_sub_teams else [rule.target_team_id]
        for rule in rules
        if rule.target_type == RoutingRule.TargetType.TEAM and rule.target_team_id is not None
    }


def _active_members(team_ids) -> dict:
    """team id -> ids of its active reps."""
    members = {}
    memberships = Rep.teams.through.objects.filter(team_id__in=team_ids, rep__is_active=True)
    for team_id, rep_id in memberships.values_list("team_id", "rep_id"):
        members.setdefault(team_id, set()).add(rep_id)
    return members


def _rule_fairness(rule, leads_by_rep: dict, reps: list, scope: TeamScope | None) -> RuleFairness:
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
