"""The routing engine: evaluate rules -> select candidates -> pick by strategy -> a Decision.

A rule under a running A/B experiment places its test group by the variant rule's target
and strategy instead of its own (`_experiment_split`, see `routing.experiment_split`).

Read top to bottom. `decide()` runs inside the caller's transaction with the lead's row
locked; it locks the winning rule's row (fairness state) and the chosen rep's row
(capacity) so that concurrent workers never hand out the same "next" rep twice and
never push a rep over a cap. The engine writes nothing: the caller hands the decision to
`routing.recording`, which writes it with the batch's other outcomes.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from reps.models import Rep
from routing import strategies
from routing.batch import RoutingBatch
from routing.candidates import candidate_reps, count_loads, has_capacity_limits, recheck_capacity, with_eligibility
from routing.experiment_split import experiment_group_for, group_share
from routing.explain import TRACE_VERSION  # the trace's shape: codes and parameters the explanation renders
from routing.facts import lead_facts
from routing.models import RoutingDecision, RoutingExperiment, RoutingRule
from routing.timeline import timeline_cause

Outcome = RoutingDecision.Outcome
MAX_EXCLUDED_LISTED = 200  # per rule in one decision's trace; the rest are counted by reason
RUNNERS_UP_LISTED = 5  # eligible reps shown after the chosen one
Target = RoutingRule.TargetType


@dataclass
class Decision:
    outcome: str
    rule: RoutingRule | None = None
    rep: Rep | None = None
    pool: object = None
    strategy: str = ""
    trace: dict = field(default_factory=dict)
    experiment: RoutingExperiment | None = None
    experiment_group: str = ""


def outcome_cause(decision: Decision) -> dict:
    """What the rules decided, as a timeline cause (the last line of the explanation and of the routing event)."""
    if decision.outcome == Outcome.ASSIGNED:
        return timeline_cause("chosen", rep=decision.rep.name, rule=decision.rule.name)
    if decision.outcome == Outcome.POOLED:
        return timeline_cause("pooled", pool=decision.pool.name)
    if decision.outcome == Outcome.NURTURE:
        return timeline_cause("nurtured", rule=decision.rule.name)
    return timeline_cause("unroutable")


def jsonable(value):
    """Lead values as the audit trail stores them."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # 2400, 999.5: never 2.4E+3
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return str(value)


def decide(lead, *, ruleset, now: dt.datetime, exclude_rep_ids=(), batch: RoutingBatch | None = None) -> Decision:
    """The first active rule that matches and can place the lead wins; every step goes into the trace.

    `batch` carries what earlier decisions of the same transaction read and picked (see
    `routing.batch`); without one, the decision stands alone.
    """
    batch = batch if batch is not None else RoutingBatch(now=now)
    facts = lead_facts(lead, ruleset.territory_index, accounts=batch)
    rules = ruleset.candidate_rules(facts)
    trace = {
        "v": TRACE_VERSION,
        "rules": [],
        "rules_total": len(ruleset.rules),
        "skipped_by_index": len(ruleset.rules) - len(rules),
        "territory": facts.get("territory") or None,
        "account": facts.get("account") or None,
        "excluded_previous_owners": list(exclude_rep_ids),
    }
    enrolled = None  # (experiment, group) of the first experiment that split this lead
    for compiled in rules:
        matched, results = compiled.evaluate(facts)
        entry = {
            "id": compiled.rule.pk,
            "position": compiled.position + 1,
            "name": compiled.rule.name,
            "matched": matched,
            "match_mode": compiled.rule.match_mode,
            "conditions": [
                {"field": condition.field, "op": condition.operator, "value": condition.value, "matched": ok,
                 "actual": jsonable(actual), **({"refused": True} if condition.refused else {})}
                for condition, ok, actual in results
            ],
        }
        trace["rules"].append(entry)
        if not matched:
            continue
        placed_by, split = _experiment_split(ruleset, compiled.rule, lead, entry)
        enrolled = enrolled or split
        decision = _apply_rule(
            compiled.rule, facts, entry, placed_by=placed_by, exclude_rep_ids=exclude_rep_ids,
            team_children=ruleset.team_children, batch=batch,
        )
        if decision is not None:
            break
    else:
        decision = Decision(Outcome.UNROUTABLE)
        trace["error"] = {"code": "no_rule"}
    decision.trace = trace
    # A lead stays in the experiment that split it even when a later rule placed it (see routing.experiments).
    decision.experiment, decision.experiment_group = enrolled or (None, "")
    return decision


def _experiment_split(ruleset, rule, lead, entry) -> tuple:
    """(the rule whose target and strategy place the lead, (experiment, group) or None).

    Under a running experiment the test group is placed by the variant rule, the control
    group by the rule itself; a lead's group follows from its id, so routing it again
    puts it in the same group. Experiments come with the rule set: no query per lead.
    """
    experiment = ruleset.experiments.get(rule.pk)
    if experiment is None:
        return rule, None
    group = experiment_group_for(experiment, lead.pk)
    placed_by = experiment.variant_rule if group == RoutingExperiment.Group.TEST else rule
    entry["experiment"] = {
        "id": experiment.pk, "name": experiment.name, "group": group, "share": group_share(experiment, group),
        "placed_by": placed_by.name,
    }
    return placed_by, (experiment, group)


def _apply_rule(rule, facts, entry, *, placed_by, exclude_rep_ids, team_children, batch):
    """A Decision when the rule places the lead; None to fall through to the next rule.

    `placed_by` supplies the target and the strategy (the rule itself, or an experiment's
    variant); `rule` is the rule that matched: the decision's rule, and what to do when
    nobody is eligible.
    """
    if placed_by.target_type == Target.NURTURE:
        entry["result"] = "nurture"
        return Decision(Outcome.NURTURE, rule=rule)
    if placed_by.target_type == Target.POOL:
        entry["result"], entry["pool"] = "pooled", str(placed_by.pool)
        return Decision(Outcome.POOLED, rule=rule, pool=placed_by.pool)

    candidates = candidate_reps(placed_by, facts, team_children=team_children, batch=batch)
    entry["target"] = candidates.note
    if exclude_rep_ids:
        candidates.reps = [rep for rep in candidates.reps if rep.pk not in exclude_rep_ids]
    with_eligibility(candidates, placed_by, batch)
    if candidates.eligible:
        # One rule's picks are serialised: its fairness state is read and moved under this lock,
        # taken as late as possible so concurrent workers overlap on everything before it.
        first_lock = batch.lock_rule(placed_by)
        if first_lock and placed_by.strategy == RoutingRule.Strategy.LEAST_LOADED:
            # Loads counted before the lock may predate another worker's pick through this rule.
            count_loads(batch, candidates.eligible, again=True)
            candidates.open_counts.update(batch.open_counts(candidates.eligible))
    chosen, ranked = _pick(placed_by, candidates, facts, batch)
    entry["strategy"] = placed_by.strategy
    entry["candidates"], entry["more_excluded"], entry["more_eligible"] = _candidate_trace(candidates, ranked, batch)
    if chosen is not None:
        entry["result"] = "assigned"
        entry["chosen_rep_id"] = chosen.pk
        return Decision(Outcome.ASSIGNED, rule=rule, rep=chosen, strategy=placed_by.strategy)
    if rule.when_none_eligible == RoutingRule.WhenNoneEligible.QUEUE and rule.pool_id:
        entry["result"], entry["pool"] = "nobody_eligible_pooled", str(rule.pool)
        return Decision(Outcome.POOLED, rule=rule, pool=rule.pool)
    entry["result"] = "nobody_eligible_next"
    return None


def _candidate_trace(candidates, ranked, batch):
    """Every excluded rep with the reason (up to a limit), the chosen rep and a few runners-up.

    A rule over a thousand reps would otherwise store a thousand entries per lead; the
    reps left out are counted, by exclusion reason, so the explanation stays complete.
    """
    excluded_why = candidates.excluded
    why = ranked.why if ranked else {}

    def entry(rep):
        # Only the keys that say something: this list is most of a decision's trace.
        rep_id = rep.id
        found = {"rep_id": rep_id, "name": batch.rep_name(rep)}
        if rep_id in excluded_why:
            found["excluded"], params = excluded_why[rep_id]
            if params:
                found["why"] = params
        elif rep_id in why:
            found["state"] = why[rep_id]
        return found

    # `rep.id`, not `rep.pk`, here and below: this runs for every rep of every lead (see `with_eligibility`).
    excluded = [rep for rep in candidates.reps if rep.id in excluded_why]
    more_excluded = {}
    for rep in excluded[MAX_EXCLUDED_LISTED:]:
        code = excluded_why[rep.id][0]
        more_excluded[code] = more_excluded.get(code, 0) + 1
    eligible = [rep for rep in (ranked.reps if ranked else []) if rep.id not in excluded_why]
    listed = excluded[:MAX_EXCLUDED_LISTED] + eligible[: RUNNERS_UP_LISTED + 1]
    return [entry(rep) for rep in listed], more_excluded, max(0, len(eligible) - RUNNERS_UP_LISTED - 1)


def _pick(rule, candidates, facts, batch):
    """The best-ranked eligible rep whose capacity still holds under their row lock."""
    if not candidates.eligible:
        return None, None
    ranked = strategies.rank(rule, candidates.eligible, open_counts=candidates.open_counts, facts=facts, batch=batch)
    for rep in ranked.reps:
        if has_capacity_limits(rep):
            # Other rules' workers may be filling this rep right now: count again under the rep's lock.
            problem = recheck_capacity(rep, batch)
            if problem is not None:
                candidates.excluded[rep.pk] = problem
                continue
        strategies.record_pick(rule, rep, ranked.states[rep.pk], candidates.eligible, ranked.states, batch,
                               shares=ranked.shares)
        return rep, ranked
    return None, ranked
