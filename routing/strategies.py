"""Distribution strategies: order a rule's eligible reps, best first, from state kept in PostgreSQL.

Every strategy is called with the rule's row locked (see `engine`), so the state it
reads cannot change under it until the assignment commits.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q

from leads.models import Lead
from routing.models import RotationState, RoutingRule

Strategy = RoutingRule.Strategy
SMOOTHING_LEADS = 5  # a new rep counts as if they had 5 leads at the segment's average rate
SIZE_BANDS = [(1, 49), (50, 249), (250, 999), (1000, None)]


@dataclass
class Ranked:
    reps: list  # best first
    states: dict  # rep.pk -> State
    why: dict  # rep.pk -> short text: the state the strategy used for this rep


@dataclass
class State:
    """A RotationState row as the strategies read it (plain values: a thousand model instances cost too much)."""

    pk: int
    rep_id: int
    last_assigned_at: object
    last_assigned_seq: int
    assigned_count: int
    virtual_pass: float


STATE_FIELDS = ("pk", "rep_id", "last_assigned_at", "last_assigned_seq", "assigned_count", "virtual_pass")


def _read_states(queryset, wanted) -> dict:
    return {row[1]: State(*row) for row in queryset.values_list(*STATE_FIELDS) if wanted is None or row[1] in wanted}


def rotation_states(rule, reps, batch) -> dict:
    """State per rep, created at the rule's current virtual time so newcomers join fairly.

    Read once per batch, under the rule's lock; the batch's picks move the same objects.
    """
    states = batch.rotation.get(rule.pk)
    if states is None:
        # All of the rule's states (about its candidate set): no list of a thousand rep ids to send.
        states = batch.rotation[rule.pk] = _read_states(RotationState.objects.filter(rule=rule), None)
    missing = [rep for rep in reps if rep.pk not in states]
    if missing:
        start_pass = min((s.virtual_pass for s in states.values()), default=0.0)
        states.update(batch.join_rotation(rule, missing, start_pass=start_pass))
    return states


def rotation_states_create(rule, reps, *, start_pass) -> dict:
    """Rows for reps new to the rule's rotation, all at `start_pass`; their states by rep."""
    RotationState.objects.bulk_create(
        [RotationState(rule=rule, rep=rep, virtual_pass=start_pass) for rep in reps], ignore_conflicts=True
    )
    return _read_states(RotationState.objects.filter(rule=rule, rep__in=reps), None)


def _last(state) -> int:
    """Least recently assigned first; 0 (never) before everyone."""
    return state.last_assigned_seq


def _describe_last(state) -> str:
    if state.last_assigned_at is None:
        return "no lead from this rule yet"
    return f"last lead {state.last_assigned_at:%Y-%m-%d %H:%M:%S} UTC"


def rank(rule, reps, *, open_counts, facts, batch) -> Ranked:
    states = rotation_states(rule, reps, batch)
    ranker = {
        Strategy.ROUND_ROBIN: _round_robin,
        Strategy.WEIGHTED: _weighted,
        Strategy.LEAST_LOADED: _least_loaded,
        Strategy.PERFORMANCE: _performance,
    }[rule.strategy]
    return ranker(rule, reps, states, open_counts=open_counts, facts=facts, now=batch.now)


def _round_robin(rule, reps, states, **_):
    ordered = sorted(reps, key=lambda rep: (_last(states[rep.pk]), rep.pk))
    return Ranked(ordered, states, {rep.pk: _describe_last(states[rep.pk]) for rep in reps})


def effective_pass(rep, states, reps) -> float:
    """A rep back from leave resumes near the others' pass instead of catching up with a flood of leads."""
    floor = max(states[r.pk].virtual_pass for r in reps) - max(1.0 / float(r.weight) for r in reps)
    return max(states[rep.pk].virtual_pass, floor)


def _weighted(rule, reps, states, **_):
    # Stride scheduling: the lowest pass goes next; each lead adds 1/weight to the rep's pass,
    # so weights 1:3 give exactly 1:3 over every full cycle of four leads.
    passes = {rep.pk: effective_pass(rep, states, reps) for rep in reps}
    ordered = sorted(reps, key=lambda rep: (passes[rep.pk], -rep.weight, _last(states[rep.pk]), rep.pk))
    why = {rep.pk: f"weight {rep.weight}, pass {passes[rep.pk]:.3f}" for rep in reps}
    return Ranked(ordered, states, why)


def _least_loaded(rule, reps, states, *, open_counts, **_):
    ordered = sorted(reps, key=lambda rep: (open_counts.get(rep.pk, 0), _last(states[rep.pk]), rep.pk))
    why = {rep.pk: f"{open_counts.get(rep.pk, 0)} open leads, {_describe_last(states[rep.pk])}" for rep in reps}
    return Ranked(ordered, states, why)


def size_band(employee_count):
    if employee_count is None:
        return None
    for low, high in SIZE_BANDS:
        if employee_count >= low and (high is None or employee_count <= high):
            return low, high
    return None


def segment_filter(facts) -> Q:
    """Leads in the same segment: same industry and company size band."""
    segment = Q()
    if facts.get("industry"):
        segment &= Q(industry__iexact=facts.get("industry"))
    band = size_band(facts.get("employee_count"))
    if band is not None:
        low, high = band
        segment &= Q(employee_count__gte=low) & (Q(employee_count__lte=high) if high else Q())
    return segment


def conversion_scores(rule, reps, facts, now) -> dict:
    """Smoothed conversion rate per rep in the lead's segment over the rule's window."""
    since = now - dt.timedelta(days=rule.performance_window_days)
    in_segment = Lead.objects.filter(segment_filter(facts), owner__isnull=False, assigned_at__gte=since)
    converted = Count("id", filter=Q(status=Lead.Status.CONVERTED))
    rows = in_segment.filter(owner__in=reps).values("owner_id").annotate(total=Count("id"), converted=converted)
    stats = {row["owner_id"]: (row["converted"], row["total"]) for row in rows}
    # The prior is the whole segment's rate (every rep, eligible or not): a newcomer starts at the average.
    segment = in_segment.aggregate(total=Count("id"), converted=converted)
    prior = segment["converted"] / segment["total"] if segment["total"] else 0.0
    scores = {}
    for rep in reps:
        converted, leads = stats.get(rep.pk, (0, 0))
        scores[rep.pk] = ((converted + SMOOTHING_LEADS * prior) / (leads + SMOOTHING_LEADS), converted, leads)
    return scores


def _performance(rule, reps, states, *, facts, now, **_):
    scores = conversion_scores(rule, reps, facts, now)
    ordered = sorted(reps, key=lambda rep: (-scores[rep.pk][0], _last(states[rep.pk]), rep.pk))
    why = {
        rep.pk: f"conversion {scores[rep.pk][0]:.0%} in segment ({scores[rep.pk][1]}/{scores[rep.pk][2]} leads, smoothed)"
        for rep in reps
    }
    return Ranked(ordered, states, why)


def record_pick(rule, rep, state, reps_considered, states, batch):
    """Moves the chosen rep's rotation state forward; the batch writes it with the assignment.

    `rule.rotation_seq` must have been read under the rule's lock (`batch.lock_rule`).
    """
    state.virtual_pass = effective_pass(rep, states, reps_considered) + 1.0 / float(rep.weight)
    rule.rotation_seq += 1
    state.last_assigned_at, state.last_assigned_seq = batch.now, rule.rotation_seq
    state.assigned_count += 1
    batch.rule_picked(rule, rep, state)
