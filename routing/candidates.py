"""Who could take a lead under a rule, and which of them can take it now (with the reason for each one who can't)."""

from dataclasses import dataclass, field

from django.db.models import Q

from reps.models import Rep, RepSkill, Territory
from reps.selectors import team_ids_below
from routing.batch import RoutingBatch, TargetReps
from routing.capacity import LAST_HOUR, TODAY, capacity_problem, new_lead_counts, rep_loads
from routing.models import RoutingRule
from routing.roster import team_roster

Target = RoutingRule.TargetType


@dataclass
class Candidates:
    reps: list
    eligible: list = field(default_factory=list)
    excluded: dict = field(default_factory=dict)  # rep.pk -> (code, params), see `routing.explain`
    open_counts: dict = field(default_factory=dict)  # rep.pk -> open leads
    note: dict | None = None  # how the candidate set was found, for the audit trail: {"code": ..., params}
    # The same reps as a query, so per-rep counts run as one subquery instead of a list of a thousand ids.
    queryset: object = None


def _candidates(condition, note: dict | None) -> TargetReps:
    queryset = Rep.objects.filter(condition).distinct()
    reps = list(queryset.select_related("user", "calendar"))
    return TargetReps(reps, note=note, queryset=queryset.values("pk") if len(reps) > SUBQUERY_FROM else None)


SUBQUERY_FROM = 50  # candidate sets larger than this are passed to later queries as a subquery


# Targets that follow from the rule alone, not the lead: found once per batch and rule, not worked out per lead.
RULE_ONLY_TARGETS = (Target.REP, Target.TEAM, Target.SKILLS)


def candidate_reps(rule: RoutingRule, facts, *, team_children: dict, batch: RoutingBatch) -> Candidates:
    """The rule's target as a list of reps, before availability and capacity (read once per batch and target)."""
    found = batch.rule_targets.get(rule.pk)
    if found is None:
        key, build = _target(rule, facts, team_children)
        found = batch.target_reps(key, build)
        if rule.target_type in RULE_ONLY_TARGETS:
            batch.rule_targets[rule.pk] = found
    return Candidates(list(found.reps), note=found.note, queryset=found.queryset)


def _target(rule, facts, team_children) -> tuple:
    """(what the candidate set depends on, how to read it)."""
    if rule.target_type == Target.REP:
        return ("rep", rule.target_rep_id), lambda: _candidates(Q(pk=rule.target_rep_id), {"code": "rep", "rep": str(rule.target_rep)})
    if rule.target_type == Target.TEAM:
        key, note = _team_target(rule, team_children)
        return key, lambda: _candidates(Q(teams__in=key[1]), note)
    if rule.target_type == Target.TERRITORY:
        chain = tuple(facts.get("territory_chain") or ())
        return ("territory", chain), lambda: _territory_reps(chain)
    if rule.target_type == Target.SKILLS:
        skill_ids = [req.skill_id for req in rule.skill_requirements.all()]
        return ("skills", rule.pk), lambda: _candidates(Q(skill_levels__skill__in=skill_ids), {"code": "skills"})
    if rule.target_type == Target.ACCOUNT_OWNER:
        account = facts.get("account_obj")
        key = ("account", account.pk if account else None, rule.use_parent_account_owner)
        return key, lambda: _account_owner(rule, account)
    return ("nobody",), lambda: TargetReps([], note=None)


def _team_target(rule, team_children) -> tuple:
    """(("team", team ids), note) of a rule whose target is a team, with its sub-teams when the rule says so."""
    team_ids = team_ids_below(rule.target_team_id, team_children) if rule.include_sub_teams else [rule.target_team_id]
    code = "team_and_sub_teams" if rule.include_sub_teams and len(team_ids) > 1 else "team"
    return ("team", tuple(team_ids)), {"code": code, "team": str(rule.target_team)}


def team_targets_prefetch(ruleset, batch: RoutingBatch) -> None:
    """Every team target of the rules with its reps, their time off and loads: a few queries per batch.

    Read one target at a time, a batch spread over 20 teams paid the reps, time off and loads
    queries 20 times; this reads them once for all the teams any rule (or experiment variant) targets.
    The reps themselves come from the worker's `routing.roster`, read again only when one changed.
    """
    rules = [compiled.rule for compiled in ruleset.rules] + [e.variant_rule for e in ruleset.experiments.values()]
    targets = {}
    for rule in rules:
        if rule.target_type == Target.TEAM:
            key, note = _team_target(rule, ruleset.team_children)
            if key not in batch.target_reps_cache:
                targets.setdefault(key, note)
    if not targets:
        return
    roster = team_roster({team_id for key in targets for team_id in key[1]})
    reps, teams_of = roster.reps, roster.teams_of
    members = {}  # rep id -> Rep, for the reps of these targets only (the roster may hold more teams)
    for key, note in targets.items():
        team_ids = set(key[1])
        # 20 targets x 200 reps per batch: the ids of the dict, not `rep.pk` (Django's model machinery).
        found = [rep for rep_id, rep in reps.items() if teams_of[rep_id] & team_ids]
        members.update((rep.id, rep) for rep in found)
        queryset = Rep.objects.filter(teams__in=team_ids).distinct().values("pk") if len(found) > SUBQUERY_FROM else None
        batch.target_reps_cache[key] = TargetReps(found, note=note, queryset=queryset)
    batch.unavailability(members.values())
    count_loads(batch, list(members.values()))


def _territory_reps(territory_chain) -> TargetReps:
    """Reps covering the lead's territory; when nobody covers it, the nearest parent territory that is covered."""
    for territory_id in territory_chain:
        candidates = _candidates(Q(territories=territory_id) | Q(teams__territories=territory_id), None)
        if candidates.reps:
            name = Territory.objects.filter(pk=territory_id).values_list("name", flat=True).first()
            candidates.note = {"code": "territory", "territory": name}
            return candidates
    return TargetReps([], note={"code": "no_territory"})


def _account_owner(rule, account) -> TargetReps:
    if account is None:
        return TargetReps([], note={"code": "no_account"})
    if account.owner_id:
        return _candidates(Q(pk=account.owner_id), {"code": "account_owner", "account": str(account)})
    if rule.use_parent_account_owner:
        for parent in account.ancestors():
            if parent.owner_id:
                return _candidates(Q(pk=parent.owner_id), {"code": "parent_account_owner", "account": str(parent)})
    return TargetReps([], note={"code": "account_without_owner", "account": str(account)})


def _skill_problems(rule, reps, batch: RoutingBatch) -> dict:
    """rep.pk -> (code, params) for reps below the rule's skill levels; each rep checked once per batch and rule."""
    if rule is None:
        return {}
    requirements = batch.skill_requirements.get(rule.pk)
    if requirements is None:  # prefetched with the rule; still, `.all()` builds a manager and a queryset each time
        requirements = batch.skill_requirements[rule.pk] = list(rule.skill_requirements.all())
    if not requirements:
        return {}
    known = batch.skill_problems.setdefault(rule.pk, {})
    missing = [rep for rep in reps if rep.id not in known]
    if missing:
        problems = _skill_levels_below(requirements, missing)
        known.update({rep.pk: problems.get(rep.pk) for rep in missing})
    return known


def _skill_levels_below(requirements, reps) -> dict:
    levels = {}
    for rep_id, skill_id, level in RepSkill.objects.filter(
        rep__in=reps, skill__in=[req.skill_id for req in requirements]
    ).values_list("rep_id", "skill_id", "level"):
        levels[(rep_id, skill_id)] = level
    problems = {}
    for rep in reps:
        for req in requirements:
            level = levels.get((rep.pk, req.skill_id), 0)
            if level < req.min_level:
                problems[rep.pk] = ("missing_skill", {"skill": req.skill.name, "min": req.min_level, "level": level})
                break
    return problems


def count_loads(batch: RoutingBatch, reps, *, queryset=None, again=False):
    """Reads the reps' open leads and today's leads into the batch (only reps it has not counted, unless `again`)."""
    missing = reps if again else [rep for rep in reps if rep.id not in batch.open_base]
    if not missing:
        return
    whole_set = queryset is not None and len(missing) == len(reps)
    loads = rep_loads(missing, at=batch.now, open_rep_ids=queryset if whole_set else None)
    batch.open_base.update({rep.pk: loads.open.get(rep.pk, 0) for rep in missing})
    batch.today_base.update(loads.new[TODAY.name])
    batch.hour_base.update(loads.new[LAST_HOUR.name])


def with_eligibility(candidates: Candidates, rule, batch: RoutingBatch) -> Candidates:
    """Sorts candidates into eligible and excluded: availability, skills, open-lead, daily and hourly caps."""
    reps = candidates.reps
    if not reps:
        return candidates
    unavailable = batch.unavailability(reps)
    skills = _skill_problems(rule, reps, batch)
    count_loads(batch, reps, queryset=candidates.queryset)
    # `rep.id`, not `rep.pk`: this runs for every rep of every lead, and `pk` goes through Django's model machinery.
    candidates.open_counts = batch.open_counts(reps)
    for rep in reps:
        rep_id = rep.id
        reason = unavailable.get(rep_id)
        if reason is not None:
            candidates.excluded[rep_id] = (reason.code, reason.params)
            continue
        if skills.get(rep_id) is not None:
            candidates.excluded[rep_id] = skills[rep_id]
            continue
        if has_capacity_limits(rep):  # most reps have no cap: their day's and hour's counts are not needed
            cap = capacity_problem(rep, candidates.open_counts[rep_id], batch.today_count(rep_id),
                                   batch.hour_count(rep_id))
            if cap is not None:
                candidates.excluded[rep_id] = cap
                continue
        candidates.eligible.append(rep)
    return candidates


def eligible_team_reps(team_id: int, *, at, exclude_rep_ids=()) -> list:
    """The team's (and sub-teams') reps who can take a lead now, least loaded first."""
    found = _candidates(Q(teams__in=team_ids_below(team_id)), None)
    candidates = Candidates([rep for rep in found.reps if rep.pk not in exclude_rep_ids])
    with_eligibility(candidates, None, RoutingBatch(now=at))
    return sorted(candidates.eligible, key=lambda rep: (candidates.open_counts.get(rep.pk, 0), rep.pk))


def has_capacity_limits(rep) -> bool:
    return (rep.max_open_leads is not None or rep.max_new_leads_per_day is not None
            or rep.max_new_leads_per_hour is not None)


def recheck_capacity(rep, batch: RoutingBatch):
    """The capacity check under the rep's row lock, so concurrent workers never push a rep over a cap.

    Counted again in the database the first time the batch locks the rep; from then on the
    lock keeps other workers out and the batch adds its own picks.
    """
    open_leads = batch.lock_rep(rep)
    if open_leads is not None:
        batch.open_base[rep.pk] = open_leads
        received = new_lead_counts([rep], at=batch.now)  # no query for a rep without a daily or hourly cap
        batch.today_base.update(received[TODAY.name])
        batch.hour_base.update(received[LAST_HOUR.name])
    return capacity_problem(rep, batch.open_count(rep.pk), batch.today_count(rep.pk), batch.hour_count(rep.pk))
