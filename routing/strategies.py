"""Distribution strategies: order a rule's eligible reps, best first, from state kept in PostgreSQL.

Every strategy is called with the rule's row locked (see `engine`), so the state it
reads cannot change under it until the assignment commits.
"""

import datetime as dt
import functools
from dataclasses import dataclass

from django.db.models import Count, Q

from leads.models import Lead
from routing.models import RotationState, RoutingRule

Strategy = RoutingRule.Strategy
SMOOTHING_LEADS = 5  # a rep's rate counts 5 known outcomes at the segment's average: a new rep starts there
# Fewer known outcomes in the segment than this: a new rep, given at least the rule's minimum share.
# The help text of RoutingRule.performance_new_rep_share says 20.
NEW_REP_OUTCOMES = 20
SIZE_BANDS = [(1, 49), (50, 249), (250, 999), (1000, None)]


@dataclass
class Ranked:
    reps: list  # best first
    states: dict  # rep.pk -> State
    why: dict  # rep.pk -> the state the strategy used for this rep, as data for the trace (see `routing.explain`)
    shares: dict | None = None  # performance based: rep.pk -> share of the leads, credited on every pick


@dataclass
class State:
    """A RotationState row as the strategies read it (plain values: a thousand model instances cost too much)."""

    pk: int
    rep_id: int
    last_assigned_at: object
    last_assigned_seq: int
    assigned_count: int
    virtual_pass: float
    performance_credit: float = 0.0


STATE_FIELDS = (
    "pk", "rep_id", "last_assigned_at", "last_assigned_seq", "assigned_count", "virtual_pass", "performance_credit",
)


def _read_states(queryset, wanted) -> dict:
    return {row[1]: State(*row) for row in queryset.values_list(*STATE_FIELDS) if wanted is None or row[1] in wanted}


def rotation_states(rule, reps, batch) -> dict:
    """State per rep, created at the rule's current virtual time so newcomers join fairly.

    Read once per batch, under the rule's lock (with it, by `batch.lock_rule`, when routing on PostgreSQL);
    the batch's picks move the same objects.
    """
    states = batch.rotation.get(rule.pk)
    if states is None:
        # All of the rule's states (about its candidate set): no list of a thousand rep ids to send.
        states = batch.rotation[rule.pk] = _read_states(RotationState.objects.filter(rule=rule), None)
    missing = [rep for rep in reps if rep.id not in states]
    if missing:
        start_pass = min((s.virtual_pass for s in states.values()), default=0.0)
        states.update(batch.join_rotation(rule, missing, start_pass=start_pass))
    return states


def _last(state) -> int:
    """Least recently assigned first; 0 (never) before everyone."""
    return state.last_assigned_seq


def _describe_last(state) -> dict:
    """{"last": when the rep last had a lead from this rule, in UTC}; empty when never."""
    if state.last_assigned_at is None:
        return {}
    return {"last": _utc_text(state.last_assigned_at)}


@functools.lru_cache(maxsize=4096)
def _utc_text(at: dt.datetime) -> str:
    # Said for every rep of every lead while most reps' last assignment stays the same: formatted once.
    return f"{at.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S}"


def rank(rule, reps, *, open_counts, facts, batch) -> Ranked:
    states = rotation_states(rule, reps, batch)
    ranker = {
        Strategy.ROUND_ROBIN: _round_robin,
        Strategy.WEIGHTED: _weighted,
        Strategy.LEAST_LOADED: _least_loaded,
        Strategy.PERFORMANCE: _performance,
    }[rule.strategy]
    return ranker(rule, reps, states, open_counts=open_counts, facts=facts, batch=batch)


# The rankers say `rep.id`, not `rep.pk`: they run for every rep of every lead, and `pk` goes through Django's
# model machinery (278 `pk` reads per lead on the 50-rule organisation before).


def _round_robin(rule, reps, states, **_):
    ordered = sorted(reps, key=lambda rep: (_last(states[rep.id]), rep.id))
    return Ranked(ordered, states, {rep.id: _describe_last(states[rep.id]) for rep in reps})


def effective_pass(rep, states, reps, *, floor: float | None = None) -> float:
    """A rep back from leave resumes near the others' pass instead of catching up with a flood of leads."""
    floor = _pass_floor(states, reps) if floor is None else floor
    return max(states[rep.id].virtual_pass, floor)


def _pass_floor(states, reps) -> float:
    return max(states[r.id].virtual_pass for r in reps) - max(1.0 / float(r.weight) for r in reps)


def _weighted(rule, reps, states, **_):
    # Stride scheduling: the lowest pass goes next; each lead adds 1/weight to the rep's pass,
    # so weights 1:3 give exactly 1:3 over every full cycle of four leads.
    floor = _pass_floor(states, reps)  # the same for every rep: computed once, not once per rep
    passes = {rep.id: effective_pass(rep, states, reps, floor=floor) for rep in reps}
    ordered = sorted(reps, key=lambda rep: (passes[rep.id], -rep.weight, _last(states[rep.id]), rep.id))
    why = {rep.id: {"weight": str(rep.weight), "pass": round(passes[rep.id], 3)} for rep in reps}
    return Ranked(ordered, states, why)


def _least_loaded(rule, reps, states, *, open_counts, **_):
    ordered = sorted(reps, key=lambda rep: (open_counts.get(rep.id, 0), _last(states[rep.id]), rep.id))
    why = {rep.id: {"open": open_counts.get(rep.id, 0), **_describe_last(states[rep.id])} for rep in reps}
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


@dataclass(frozen=True)
class Record:
    """A rep's leads in one segment whose outcome is known, and how many of them converted."""

    converted: int = 0
    known: int = 0


@dataclass(frozen=True)
class SegmentRecords:
    by_rep: dict  # rep.pk -> Record
    rate: float  # the whole segment's rate over known outcomes (every rep, eligible or not): the prior


def segment_records(rule, facts, batch) -> SegmentRecords:
    """Known outcomes per rep in the lead's segment over the rule's window; read once per batch, rule and segment.

    A lead's outcome is known once it is converted or lost, or has been open longer than the rule's
    outcome window (then it counts as not converted). A fresh lead nobody has worked yet says nothing
    about its rep, so it does not count: the leads a batch gives out cannot change the rates it reads.
    """
    key = (rule.pk, (facts.get("industry") or "").upper(), size_band(facts.get("employee_count")))
    records = batch.segment_records.get(key)
    if records is None:
        records = batch.segment_records[key] = _read_segment_records(rule, facts, batch.now)
    return records


def _read_segment_records(rule, facts, now) -> SegmentRecords:
    since = now - dt.timedelta(days=rule.performance_window_days)
    given_up_before = now - dt.timedelta(days=rule.performance_outcome_days)
    open_too_long = Q(status__in=Lead.OPEN_STATUSES, assigned_at__lt=given_up_before)
    converted = Q(status=Lead.Status.CONVERTED)
    rows = (
        Lead.objects.filter(segment_filter(facts), owner__isnull=False, assigned_at__gte=since)
        .filter(Q(status__in=Lead.CLOSED_STATUSES) | open_too_long)
        .values("owner_id")
        .annotate(known=Count("id"), converted=Count("id", filter=converted))
    )
    by_rep = {row["owner_id"]: Record(row["converted"], row["known"]) for row in rows}
    known = sum(record.known for record in by_rep.values())
    return SegmentRecords(by_rep, sum(record.converted for record in by_rep.values()) / known if known else 0.0)


def smoothed_rate(record: Record, prior: float) -> float:
    """The rep's rate pulled towards the segment's: a rep with no record starts at the average."""
    return (record.converted + SMOOTHING_LEADS * prior) / (record.known + SMOOTHING_LEADS)


def performance_shares(rates: dict, new_reps: set, minimum: float) -> dict:
    """Each rep's share of the leads: their rate over the sum, with every new rep lifted to `minimum` at least.

    The others give up what lifting the new reps takes, in proportion to their shares; with no
    conversion anywhere, everyone gets the same.
    """
    total = sum(rates.values())
    shares = {pk: rate / total if total else 1 / len(rates) for pk, rate in rates.items()}
    minimum = min(minimum, 1 / len(rates))  # ten new reps cannot all have 20 %
    lifted = set()
    while True:
        below = {pk for pk in new_reps - lifted if shares[pk] < minimum - 1e-12}
        if not below:
            return shares
        lifted |= below
        # Never zero: a rate is zero only when nobody in the segment converted, and then all shares are equal.
        rest = sum(rates[pk] for pk in rates if pk not in lifted)
        left = 1 - minimum * len(lifted)
        shares = {pk: minimum if pk in lifted else rates[pk] / rest * left for pk in rates}


def _performance(rule, reps, states, *, facts, batch, **_):
    # Smooth weighted rotation: every lead credits each eligible rep with their share, the rep with the
    # most credit takes it and gives one lead's worth back. Shares follow conversion, and the picks
    # interleave (40 % and 10 % converters alternate about four to one) instead of coming in blocks.
    records = segment_records(rule, facts, batch)
    known = {rep.id: records.by_rep.get(rep.id, Record()) for rep in reps}
    rates = {rep.id: smoothed_rate(known[rep.id], records.rate) for rep in reps}
    new_reps = {rep.id for rep in reps if known[rep.id].known < NEW_REP_OUTCOMES}
    shares = performance_shares(rates, new_reps, rule.performance_new_rep_share / 100)
    credit = {rep.id: states[rep.id].performance_credit + shares[rep.id] for rep in reps}
    ordered = sorted(reps, key=lambda rep: (-credit[rep.id], _last(states[rep.id]), rep.id))
    why = {
        rep.id: {"rate": round(rates[rep.id], 4), "converted": known[rep.id].converted, "known": known[rep.id].known,
                 **({"new": True} if rep.id in new_reps else {}), "share": round(shares[rep.id], 4),
                 "credit": round(credit[rep.id], 2)}
        for rep in reps
    }
    return Ranked(ordered, states, why, shares)


def record_pick(rule, rep, state, reps_considered, states, batch, *, shares=None):
    """Moves the chosen rep's rotation state forward; the batch writes it with the assignment.

    `rule.rotation_seq` must have been read under the rule's lock (`batch.lock_rule`).
    With `shares` (performance based), every rep ranked is credited with their share first.
    """
    for rep_id, share in (shares or {}).items():
        states[rep_id].performance_credit += share
        batch.state_moved(states[rep_id])
    if shares:
        state.performance_credit -= 1.0
    state.virtual_pass = effective_pass(rep, states, reps_considered) + 1.0 / float(rep.weight)
    rule.rotation_seq += 1
    state.last_assigned_at, state.last_assigned_seq = batch.now, rule.rotation_seq
    state.assigned_count += 1
    batch.rule_picked(rule, rep, state)
