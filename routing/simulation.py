"""Simulation: replay leads through a draft rule set and see what would change, writing and locking nothing.

A manager switches inactive rules on and active rules off; the chosen leads are routed again,
oldest first, by the engine itself: the same rule order, conditions, candidates, eligibility at
one instant, and strategies whose rotation moves from lead to lead as in a real run. The batch
it routes with reads like a worker's but takes no row lock and creates no row, so a simulation
never makes a live worker wait. Leads are replayed in batches of `REPLAY_BATCH`, each in a read-only
transaction that is always rolled back (PostgreSQL itself refuses any write or row lock that might slip
in), through one `SimulationBatch`: the reps, their availability, loads and the rules' sequences are read
once for the whole replay, not once per batch or per lead.

A manager's simulation runs as a background job (`routing.simulation_runs`) that keeps only the
counts and the first changed leads (`ReplayTotals`), so 100,000 leads take well under a minute
and little memory; the Leads action replays a few selected leads at once, in the request.

Each replayed lead counts once, where the simulation puts it: its current owner's open-lead and
daily counts leave it out, as if the leads were arriving now, so caps and "least loaded" see the
load the simulation builds rather than the replayed leads twice.
"""

import datetime as dt
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property

from django.core.exceptions import ValidationError
from django.db import DatabaseError, connections, router, transaction
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.dateparse import parse_datetime
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from leads.models import Lead
from reps.models import Rep
from routing.batch import RoutingBatch
from routing.capacity import LAST_HOUR, TODAY, replayed_loads
from routing.engine import Outcome, decide, outcome_cause
from routing.explain import explain
from routing.models import Pool, RoutingDecision, RoutingRule
from routing.ruleset import RuleSet
from routing.services import failed_decision

MAX_SIMULATED_LEADS = 2000  # the Leads action, in the request: 2,000 leads replay in about 1.2 s on a 50-rep team
REPLAY_BATCH = 1000  # leads read and routed per read-only transaction; a run's progress moves after each
CHANGES_KEPT = 1000  # changed leads a run keeps with their explanation; the counts and tallies cover every lead


@dataclass
class SimulationBatch(RoutingBatch):
    """A routing batch that reads what a worker reads but locks nothing; its outcomes are never written."""

    # Replayed leads already in the reps' loads (rep.pk -> count): open leads, and assignments of the rep's day.
    replayed_open: dict = field(default_factory=dict)
    replayed_today: dict = field(default_factory=dict)
    replayed_hour: dict = field(default_factory=dict)

    def lock_rule(self, rule) -> bool:
        """Reads the rule's sequence once, without FOR UPDATE: live workers go on routing through the rule."""
        if rule.pk in self.locked_rules:
            return False
        rule.rotation_seq = RoutingRule.objects.values_list("rotation_seq", flat=True).get(pk=rule.pk)
        self.locked_rules.add(rule.pk)
        return True

    def lock_rep(self, rep) -> None:
        # No lock, and no need to count again: only the simulation's own picks move its loads.
        return None

    def open_count(self, rep_id) -> int:
        return super().open_count(rep_id) - self.replayed_open.get(rep_id, 0)

    def open_counts(self, reps) -> dict:
        replayed = self.replayed_open
        return {rep_id: count - replayed.get(rep_id, 0) for rep_id, count in super().open_counts(reps).items()}

    def today_count(self, rep_id) -> int:
        return super().today_count(rep_id) - self.replayed_today.get(rep_id, 0)

    def hour_count(self, rep_id) -> int:
        return super().hour_count(rep_id) - self.replayed_hour.get(rep_id, 0)


@dataclass
class SimulatedLead:
    """One lead as it stands now and as the simulated rules would route it."""

    lead: Lead
    now_rule: RoutingRule | None  # the rule of the lead's latest routing decision
    now_outcome: str | None  # the outcome of that decision; None: never routed
    now_owner: Rep | None  # the lead's owner
    now_pool: object  # the pool the lead waits in
    outcome: str
    rule: RoutingRule | None
    rep: Rep | None
    pool: object
    trace: dict  # the decision's trace, with its outcome (see `routing.explain`)

    @property
    def explanation(self) -> str:
        """Rendered when read, in the reader's language, like a live decision's."""
        return explain(self.trace)

    @property
    def changes_owner(self) -> bool:
        return self.lead.owner_id != (self.rep.pk if self.rep else None)

    @property
    def changes_rule(self) -> bool:
        return _pk(self.now_rule) != _pk(self.rule)

    @property
    def changes_outcome(self) -> bool:
        return self.now_outcome != self.outcome

    @property
    def changes(self) -> bool:
        return self.changes_owner or self.changes_rule or self.changes_outcome

    @property
    def now_holder(self) -> str:
        """Who or what holds the lead now: its owner, else the pool it waits in."""
        return _holder(_holder_data(self.now_owner, self.now_pool))

    @property
    def holder(self) -> str:
        return _holder(_holder_data(self.rep, self.pool))


@dataclass(frozen=True)
class Tally:
    """How many of the replayed leads one rep, rule or outcome has now, and would have."""

    label: str
    now: int
    simulated: int

    @property
    def change(self) -> int:
        return self.simulated - self.now


@dataclass
class ReplayTotals:
    """What a replay found, counted lead by lead: every count and tally, and the first changed leads in full.

    `as_data()` is what a run keeps: JSON holding codes, ids, names and traces, never a sentence;
    `SimulationResult` reads it back in the reader's language.
    """

    at: dt.datetime
    switched_on: list  # rule names
    switched_off: list
    changes_kept: int = CHANGES_KEPT
    seconds: float = 0.0
    replayed: int = 0
    owner_changes: int = 0
    rule_changes: int = 0
    outcome_changes: int = 0
    unroutable: int = 0
    changed: int = 0
    changes: list = field(default_factory=list)  # the first `changes_kept` changed leads, see `_change_data`
    # key -> [now, simulated]; keys are outcome codes, rep ids and rule ids, None for "none".
    by_outcome: dict = field(default_factory=dict)
    by_rep: dict = field(default_factory=dict)
    by_rule: dict = field(default_factory=dict)
    rep_names: dict = field(default_factory=dict)  # rep.pk -> name
    rules: dict = field(default_factory=dict)  # rule.pk -> [name, priority]

    def add(self, lead: SimulatedLead):
        self.replayed += 1
        self.owner_changes += lead.changes_owner
        self.rule_changes += lead.changes_rule
        self.outcome_changes += lead.changes_outcome
        self.unroutable += lead.outcome == Outcome.UNROUTABLE
        _count(self.by_outcome, lead.now_outcome, lead.outcome)
        _count(self.by_rep, _pk(lead.now_owner), _pk(lead.rep))
        _count(self.by_rule, _pk(lead.now_rule), _pk(lead.rule))
        # Every lead names a rep or two of a few hundred: each name is worked out once.
        for rep in (lead.now_owner, lead.rep):
            if rep is not None and rep.id not in self.rep_names:
                self.rep_names[rep.id] = rep.name
        for rule in (lead.now_rule, lead.rule):
            if rule is not None and rule.id not in self.rules:
                self.rules[rule.id] = [rule.name, rule.priority]
        if lead.changes:
            self.changed += 1
            if len(self.changes) < self.changes_kept:
                self.changes.append(_change_data(lead))

    def as_data(self) -> dict:
        return {
            "at": self.at.isoformat(), "seconds": round(self.seconds, 3), "switched_on": self.switched_on,
            "switched_off": self.switched_off, "replayed": self.replayed, "owner_changes": self.owner_changes,
            "rule_changes": self.rule_changes, "outcome_changes": self.outcome_changes,
            "unroutable": self.unroutable, "changed": self.changed, "changes": self.changes,
            "by_outcome": _rows(self.by_outcome), "by_rep": _rows(self.by_rep), "by_rule": _rows(self.by_rule),
            "rep_names": {str(pk): name for pk, name in self.rep_names.items()},
            "rules": {str(pk): rule for pk, rule in self.rules.items()},
        }


def _count(table: dict, now_key, simulated_key):
    table.setdefault(now_key, [0, 0])[0] += 1
    table.setdefault(simulated_key, [0, 0])[1] += 1


def _rows(table: dict) -> list:
    return [[key, now, simulated] for key, (now, simulated) in table.items()]


def _change_data(lead: SimulatedLead) -> dict:
    return {
        "lead": lead.lead.pk, "label": lead.lead.full_name or lead.lead.email or lead.lead.company,
        "status": lead.lead.status, "now_rule": _name(lead.now_rule), "rule": _name(lead.rule),
        "now_holder": _holder_data(lead.now_owner, lead.now_pool), "holder": _holder_data(lead.rep, lead.pool),
        "now_outcome": lead.now_outcome, "outcome": lead.outcome, "trace": lead.trace,
    }


def _name(obj):
    return obj.name if obj is not None else None


def _holder_data(rep, pool) -> dict:
    if rep is not None:
        return {"rep": rep.name}
    return {"pool": str(pool)} if pool is not None else {}


def _holder(holder: dict) -> str:
    """Who or what holds a lead: its owner, else the pool it waits in."""
    if "rep" in holder:
        return holder["rep"]
    return _("pool %(pool)s") % {"pool": holder["pool"]} if "pool" in holder else _("no owner")


def _outcome_label(outcome) -> str:
    return Outcome(outcome).label if outcome else _("never routed")


@dataclass(frozen=True)
class ChangedLead:
    """One lead the simulated rules would route differently, as kept by a run."""

    data: dict

    @property
    def lead_id(self) -> int:
        return self.data["lead"]

    @property
    def label(self) -> str:
        return self.data["label"] or _("Lead #%(id)s") % {"id": self.lead_id}

    @property
    def status_display(self) -> str:
        return Lead.Status(self.data["status"]).label

    @property
    def now_rule(self):
        return self.data["now_rule"]

    @property
    def rule(self):
        return self.data["rule"]

    @property
    def now_holder(self) -> str:
        return _holder(self.data["now_holder"])

    @property
    def holder(self) -> str:
        return _holder(self.data["holder"])

    @property
    def now_outcome_display(self) -> str:
        return _outcome_label(self.data["now_outcome"])

    @property
    def outcome_display(self) -> str:
        return _outcome_label(self.data["outcome"])

    @property
    def explanation(self) -> str:
        """Rendered when read, in the reader's language, like a live decision's."""
        return explain(self.data["trace"])


class SimulationResult:
    """A replay's results as the pages show them: `ReplayTotals.as_data()` read back in the reader's language."""

    def __init__(self, data: dict):
        self.data = data
        self.at = parse_datetime(data["at"])
        self.seconds = data["seconds"]
        self.switched_on, self.switched_off = data["switched_on"], data["switched_off"]
        self.replayed = data["replayed"]
        self.owner_changes, self.rule_changes = data["owner_changes"], data["rule_changes"]
        self.outcome_changes, self.unroutable = data["outcome_changes"], data["unroutable"]
        self.changed_count = data["changed"]
        self.changes = [ChangedLead(row) for row in data["changes"]]
        # Leads the choice matched beyond the cap, left out (the newest were replayed).
        self.left_out = data.get("left_out", 0)

    @cached_property
    def by_outcome(self) -> list:
        order = list(Outcome.values)
        rows = sorted(self.data["by_outcome"], key=lambda row: order.index(row[0]) if row[0] else len(order))
        return [Tally(_outcome_label(outcome), now, simulated) for outcome, now, simulated in rows]

    @cached_property
    def by_rep(self) -> list:
        names = self.data["rep_names"]
        rows = sorted(self.data["by_rep"],
                      key=lambda row: (row[0] is None, names.get(str(row[0]), "").casefold(), row[0] or 0))
        none = _("no rep (pool, nurture or unroutable)")
        return [Tally(names[str(pk)] if pk is not None else none, now, simulated) for pk, now, simulated in rows]

    @cached_property
    def by_rule(self) -> list:
        rules = self.data["rules"]
        rows = sorted(self.data["by_rule"],
                      key=lambda row: (row[0] is None, rules[str(row[0])][1] if row[0] is not None else 0, row[0] or 0))
        none = _("no rule (unroutable or never routed)")
        return [Tally(rules[str(pk)][0] if pk is not None else none, now, simulated) for pk, now, simulated in rows]


@dataclass
class Simulation:
    """A replay done in the request (the Leads action): every simulated lead, and the same results a run keeps."""

    at: dt.datetime
    leads: list  # SimulatedLead, oldest first (the order they were replayed in)
    switched_on: list
    switched_off: list
    seconds: float

    @cached_property
    def result(self) -> SimulationResult:
        totals = ReplayTotals(at=self.at, switched_on=[rule.name for rule in self.switched_on],
                              switched_off=[rule.name for rule in self.switched_off], seconds=self.seconds,
                              changes_kept=len(self.leads))
        for lead in self.leads:
            totals.add(lead)
        return SimulationResult(totals.as_data())

    @cached_property
    def changed(self) -> list:
        return [lead for lead in self.leads if lead.changes]

    # The counts and tallies are the result's.
    owner_changes = property(lambda self: self.result.owner_changes)
    rule_changes = property(lambda self: self.result.rule_changes)
    outcome_changes = property(lambda self: self.result.outcome_changes)
    unroutable = property(lambda self: self.result.unroutable)
    by_outcome = property(lambda self: self.result.by_outcome)
    by_rep = property(lambda self: self.result.by_rep)
    by_rule = property(lambda self: self.result.by_rule)


def _pk(obj):
    return obj.pk if obj is not None else None


# --- Which leads -------------------------------------------------------------------------------


@dataclass
class LeadChoice:
    leads: QuerySet  # newest first, at most `limit`
    left_out: int = 0  # matching leads beyond the cap

    def ids_oldest_first(self) -> list:
        return list(self.leads.values_list("pk", flat=True))[::-1]


def simulation_leads(*, leads: QuerySet, days: int | None = None, last: int | None = None, source: str = "",
                     country: str = "", now: dt.datetime, limit: int) -> LeadChoice:
    """The leads to replay: created in the last `days` days, or the `last` most recent; the newest if there are too many."""
    if source.strip():
        leads = leads.filter(source__iexact=source.strip())
    if country:
        leads = leads.filter(country=country)
    newest = leads.order_by("-created_at", "-pk")
    if days is None:
        return LeadChoice(newest[: min(last, limit)])
    newest = newest.filter(created_at__gte=now - dt.timedelta(days=days))
    return LeadChoice(newest[:limit], left_out=max(0, newest.count() - limit))


# --- The simulation ----------------------------------------------------------------------------


def routing_simulate(*, leads: QuerySet, switch_on=(), switch_off=(), at: dt.datetime) -> Simulation:
    """Routes `leads` (at most MAX_SIMULATED_LEADS, oldest first) through the active rules plus `switch_on` minus
    `switch_off`, at `at`, in the request.

    Writes nothing and locks nothing live routing needs; see the module docstring.
    """
    switch_on, switch_off = _switches(switch_on, switch_off)
    lead_ids = list(leads.values_list("pk", flat=True)[: MAX_SIMULATED_LEADS + 1])
    if len(lead_ids) > MAX_SIMULATED_LEADS:
        raise ValidationError(_("At most %(max)s leads can be simulated at once; choose fewer.")
                              % {"max": number_format(MAX_SIMULATED_LEADS, force_grouping=True)})
    started = time.perf_counter()
    oldest_first = list(Lead.objects.filter(pk__in=lead_ids).order_by("created_at", "pk").values_list("pk", flat=True))
    replayed = [lead for batch in _replayed_batches(oldest_first, switch_on=switch_on, switch_off=switch_off, at=at)
                for lead in batch]
    return Simulation(at=at, leads=replayed, switched_on=switch_on, switched_off=switch_off,
                      seconds=time.perf_counter() - started)


def routing_replay(*, lead_ids: list, switch_on=(), switch_off=(), at: dt.datetime, on_progress=None,
                   changes_kept: int = CHANGES_KEPT) -> ReplayTotals:
    """Routes `lead_ids` (oldest first) like `routing_simulate`, keeping only counts and the first changed leads.

    `on_progress(done)` is called after each batch, outside the batch's read-only transaction (it may write).
    """
    switch_on, switch_off = _switches(switch_on, switch_off)
    started = time.perf_counter()
    totals = ReplayTotals(at=at, switched_on=[rule.name for rule in switch_on],
                          switched_off=[rule.name for rule in switch_off], changes_kept=changes_kept)
    for batch in _replayed_batches(lead_ids, switch_on=switch_on, switch_off=switch_off, at=at):
        for lead in batch:
            totals.add(lead)
        if on_progress is not None:
            on_progress(totals.replayed)
    totals.seconds = time.perf_counter() - started
    return totals


def _switches(switch_on, switch_off) -> tuple:
    switch_on, switch_off = list(switch_on), list(switch_off)
    both = {rule.pk for rule in switch_on} & {rule.pk for rule in switch_off}
    if both:
        names = ", ".join(rule.name for rule in switch_on if rule.pk in both)
        raise ValidationError(_("A rule cannot be switched on and off at once: %(names)s.") % {"names": names})
    return switch_on, switch_off


@contextmanager
def _read_only():
    """A transaction that is always rolled back, in which PostgreSQL refuses every write and row lock: the
    guarantee is not ours alone."""
    using = router.db_for_read(Lead)
    with transaction.atomic(using=using):
        connection = connections[using]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION READ ONLY")
        yield
        transaction.set_rollback(True, using=using)


def _replayed_batches(lead_ids, *, switch_on, switch_off, at) -> Iterator[list]:
    """Replays `lead_ids` (oldest first) through one SimulationBatch, REPLAY_BATCH leads per read-only transaction;
    yields each batch's SimulatedLeads once its transaction is over."""
    batch_size = REPLAY_BATCH
    with _read_only():
        ruleset = _draft_ruleset(switch_on, switch_off)
        batch = SimulationBatch(now=at, worker="simulation", **_replayed_loads(lead_ids, at))
        # Who and where the leads are now, read once for the whole replay (a few hundred rows), not with every lead.
        owners, pools = Rep.objects.select_related("user").in_bulk(), Pool.objects.in_bulk()
    now_rules = {}
    for start in range(0, len(lead_ids), batch_size):
        with _read_only():
            leads = _leads_as_they_stand(lead_ids[start:start + batch_size])
            latest = _latest_decisions(leads)
            now_rules.update(RoutingRule.objects.in_bulk({rule_id for rule_id, _outcome in latest.values()}
                                                         - now_rules.keys() - {None}))
            batch.prefetch_accounts(leads)
            replayed = []
            for lead in leads:
                now_rule_id, now_outcome = latest.get(lead.pk, (None, None))
                replayed.append(_simulate_one(
                    lead, ruleset, batch, now_rule=now_rules.get(now_rule_id), now_outcome=now_outcome,
                    now_owner=owners.get(lead.owner_id), now_pool=pools.get(lead.pool_id),
                ))
        yield replayed


# Lead columns neither the rules nor the results read, left in the table: parsing their six timestamps took a
# good part of the time spent reading 1,000 leads. The rules' fields are never in this list.
NOT_REPLAYED = ("created_at", "updated_at", "assigned_at", "first_touch_at", "closed_at", "routing_requested_at",
                "sla_due_at", "routing_attempts", "reassignment_count", "account_match_method", "account_match_score")


def _leads_as_they_stand(lead_ids) -> list:
    """The leads, oldest first, with their account (the rules' facts); their owners and pools are read apart."""
    return list(
        Lead.objects.filter(pk__in=_id_array(lead_ids)).select_related("account__parent", "account__owner")
        .defer(*NOT_REPLAYED).order_by("created_at", "pk")
    )


def _latest_decisions(leads) -> dict:
    """lead.pk -> (rule id, outcome) of the lead's latest routing decision, for a whole batch in one query;
    a lead never routed is missing."""
    rows = (RoutingDecision.objects.filter(lead_id__in=_id_array(lead.pk for lead in leads))
            .order_by("lead_id", "-created_at", "-pk").values_list("lead_id", "rule_id", "outcome"))
    if _on_postgresql():
        rows = rows.distinct("lead_id")  # only the latest row of each lead leaves the database (DISTINCT ON)
    latest = {}
    for lead_id, rule_id, outcome in rows:
        latest.setdefault(lead_id, (rule_id, outcome))
    return latest


def _draft_ruleset(switch_on, switch_off) -> RuleSet:
    """The active rules with the chosen ones switched on and off, compiled apart from the live cache."""
    where = (Q(is_active=True) | Q(pk__in=[rule.pk for rule in switch_on])) & ~Q(pk__in=[rule.pk for rule in switch_off])
    ruleset = RuleSet.load(where=where)
    # Live routing skips such a condition (it never matches); a replay would hide the mistake in its explanations.
    refused = ruleset.refused_conditions()
    if refused:
        rule, condition = refused[0]
        raise ValidationError(
            _("Rule '%(rule)s' has a condition that cannot be used (%(condition)s): %(error)s Fix it in the rule "
              "first.") % {"rule": rule.name, "condition": condition.describe(), "error": condition.refused}
        )
    return ruleset


def _replayed_loads(lead_ids, at) -> dict:
    """What the replayed leads add to their current owners' loads, so the simulation counts each lead once."""
    open_, today, hour = Counter(), Counter(), Counter()
    for start in range(0, len(lead_ids), REPLAY_BATCH):
        loads = replayed_loads(_id_array(lead_ids[start:start + REPLAY_BATCH]), at=at)
        open_.update(loads.open)
        today.update(loads.new[TODAY.name])
        hour.update(loads.new[LAST_HOUR.name])
    return {"replayed_open": dict(open_), "replayed_today": dict(today), "replayed_hour": dict(hour)}


def _id_array(ids):
    """`ids` for `pk__in`, on PostgreSQL as one array parameter: sent as a thousand parameters, they cost the
    client more than the query takes to run (psycopg caches the parsing of short statements only). Elsewhere
    (the demo's SQLite) the list itself."""
    ids = list(ids)
    return RawSQL("SELECT unnest(%s::bigint[])", (ids,)) if _on_postgresql() else ids


def _on_postgresql() -> bool:
    return connections[router.db_for_read(Lead)].vendor == "postgresql"


def _simulate_one(lead, ruleset, batch, *, now_rule, now_outcome, now_owner, now_pool) -> SimulatedLead:
    try:
        decision = decide(lead, ruleset=ruleset, now=batch.now, batch=batch)
    except DatabaseError:
        raise  # the read-only transaction is aborted: nothing more can be read
    except Exception as error:  # noqa: BLE001 — as in a live run, a lead that makes the engine fail is unroutable
        decision = failed_decision(error)
    return SimulatedLead(
        lead=lead, now_rule=now_rule, now_outcome=now_outcome, now_owner=now_owner, now_pool=now_pool,
        outcome=decision.outcome, rule=decision.rule, rep=decision.rep, pool=decision.pool,
        trace={**decision.trace, "outcome": outcome_cause(decision)},
    )
