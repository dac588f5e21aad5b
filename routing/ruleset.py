"""The active rules, compiled once per configuration version and indexed by their selective conditions,
with the experiments running on them.

With thousands of rules, testing every rule for every lead is the slow part of routing.
An "all conditions" rule that requires `country equals DE` can only match leads from DE,
so rules are filed under such (field, value) keys; a lead is tested only against the
rules filed under its own values plus the rules that cannot be indexed.
"""

import threading
from dataclasses import dataclass

from django.db.models import Q

from reps.selectors import team_children, territory_index
from routing.conditions import CompiledCondition, ConditionError, compile_condition, normalise_text, refused_condition
from routing.models import RoutingConfigVersion, RoutingExperiment, RoutingRule

TERRITORY_CHAIN = "territory_chain"


@dataclass
class CompiledRule:
    position: int
    rule: RoutingRule
    conditions: list

    def evaluate(self, facts) -> tuple:
        """(matched, [(condition, matched, actual value)]) — all rows evaluated for the audit trail."""
        results = [(condition, *condition.evaluate(facts)) for condition in self.conditions]
        if not results:
            return True, results
        outcomes = [matched for _, matched, _ in results]
        matched = all(outcomes) if self.rule.match_mode == RoutingRule.MatchMode.ALL else any(outcomes)
        return matched, results


def _index_key(condition: CompiledCondition):
    """The (fact name) under which this condition's values are filed, or None if not indexable."""
    if not condition.index_keys:
        return None
    return TERRITORY_CHAIN if condition.operator == "in_territory" else condition.field


class RuleSet:
    def __init__(self, rules, territory_index, team_children=None, experiments=()):
        self.territory_index = territory_index
        self.team_children = team_children or {}
        # control rule pk -> its running RoutingExperiment, with the variant rule loaded.
        self.experiments = {experiment.control_rule_id: experiment for experiment in experiments}
        self.rules = []
        self.unindexed = []  # positions always tested
        self.index = {}  # fact name -> normalised value -> [positions]
        territory_ids = {t.name.casefold(): t.pk for t in territory_index.by_id.values()}
        for position, rule in enumerate(rules):
            conditions = [_compile_saved(condition, territory_ids) for condition in rule.conditions.all()]
            self.rules.append(CompiledRule(position, rule, conditions))
            self._file(position, rule, conditions)

    def _file(self, position, rule, conditions):
        if rule.match_mode == RoutingRule.MatchMode.ALL:
            for condition in conditions:
                key = _index_key(condition)
                if key is not None:
                    bucket = self.index.setdefault(key, {})
                    for value in condition.index_keys:
                        bucket.setdefault(value, []).append(position)
                    return
        self.unindexed.append(position)

    def refused_conditions(self) -> list:
        """(rule, condition) for every saved condition that does not compile (it never matches), in priority order."""
        return [(compiled.rule, condition) for compiled in self.rules for condition in compiled.conditions
                if condition.refused]

    @classmethod
    def load(cls, *, where=Q(is_active=True)):
        """The rules `where` selects (the active ones unless a simulation says otherwise), compiled."""
        rules = list(_rules_for_routing().filter(where).prefetch_related("conditions").order_by("priority", "id"))
        return cls(rules, territory_index(), team_children(), experiments=_running_experiments(rules))

    def candidate_rules(self, facts) -> list:
        """Rules that may match these facts, in priority order."""
        positions = set(self.unindexed)
        for key, bucket in self.index.items():
            if key == TERRITORY_CHAIN:
                values = facts.get(TERRITORY_CHAIN) or []
            else:
                value = facts.get(key)
                values = [normalise_text(value)] if value not in (None, "") else []
            for value in values:
                positions.update(bucket.get(value, ()))
        return [self.rules[p] for p in sorted(positions)]


def _compile_saved(condition, territory_ids) -> CompiledCondition:
    try:
        return compile_condition(condition.field, condition.operator, condition.value, territories=territory_ids)
    except ConditionError as error:
        return refused_condition(condition.field, condition.operator, condition.value, reason=error.message)


def _rules_for_routing():
    """Rules with what placing a lead reads from them, so routing costs no query per lead."""
    return RoutingRule.objects.select_related("target_rep__user", "target_team", "pool").prefetch_related(
        "skill_requirements__skill"
    )


def _running_experiments(active_rules) -> list:
    """Running experiments of active rules, their rules the very objects the rule set holds.

    One object per rule row: the engine moves a rule's rotation sequence on the object it
    locked, so an active variant must not exist twice.
    """
    by_pk = {rule.pk: rule for rule in active_rules}
    experiments = [
        experiment for experiment in RoutingExperiment.objects.filter(status=RoutingExperiment.Status.RUNNING)
        if experiment.control_rule_id in by_pk
    ]
    inactive_variants = {experiment.variant_rule_id for experiment in experiments} - by_pk.keys()
    by_pk.update({rule.pk: rule for rule in _rules_for_routing().filter(pk__in=inactive_variants)})
    for experiment in experiments:
        experiment.control_rule = by_pk[experiment.control_rule_id]
        experiment.variant_rule = by_pk[experiment.variant_rule_id]
    return experiments


_cache = threading.local()


def current_ruleset() -> RuleSet:
    """The compiled rules, reloaded only when the configuration changed (one cheap query).

    The version is moved by triggers on every table the rules are compiled from, whoever writes
    (routing/migrations/0011_config_version_triggers.py; 0013 for the rules themselves).
    """
    version = RoutingConfigVersion.objects.values_list("version", flat=True).first() or 0
    cached = getattr(_cache, "entry", None)
    if cached is None or cached[0] != version:
        cached = (version, RuleSet.load())
        _cache.entry = cached
    return cached[1]
