"""Simulation: replay leads through a draft rule set and see what would change, writing and locking nothing.

A manager switches inactive rules on and active rules off; the chosen leads are routed again,
oldest first, by the engine itself: the same rule order, conditions, candidates, eligibility at
one instant, and strategies whose rotation moves from lead to lead as in a real run. The batch
it routes with reads like a worker's but takes no row lock and creates no row, so a simulation
of 2,000 leads never makes a live worker wait. It runs in a read-only transaction that is always
rolled back: PostgreSQL itself refuses any write or row lock that might slip in.

Each replayed lead counts once, where the simulation puts it: its current owner's open-lead and
daily counts leave it out, as if the leads were arriving now, so caps and "least loaded" see the
load the simulation builds rather than the replayed leads twice.
"""

import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

from django.core.exceptions import ValidationError
from django.db import DatabaseError, connections, router, transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from leads.models import Lead
from reps.models import Rep
from routing.batch import RoutingBatch
from routing.capacity import LAST_HOUR, TODAY, replayed_loads
from routing.engine import Outcome, decide, outcome_cause
from routing.explain import explain
from routing.models import RoutingDecision, RoutingRule
from routing.ruleset import RuleSet
from routing.services import failed_decision

MAX_SIMULATED_LEADS = 2000  # one page's worth: 2,000 leads replay in about 1.2 s on a 50-rep team


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
    def now_owner(self) -> Rep | None:
        return self.lead.owner

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
        return _holder(self.lead.owner, self.lead.pool)

    @property
    def holder(self) -> str:
        return _holder(self.rep, self.pool)

    def get_outcome_display(self) -> str:
        return Outcome(self.outcome).label

    def get_now_outcome_display(self) -> str:
        return Outcome(self.now_outcome).label if self.now_outcome else _("never routed")


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
class Simulation:
    at: dt.datetime
    leads: list  # SimulatedLead, oldest first (the order they were replayed in)
    switched_on: list
    switched_off: list
    seconds: float

    @cached_property
    def changed(self) -> list:
        return [lead for lead in self.leads if lead.changes]

    @cached_property
    def owner_changes(self) -> int:
        return sum(lead.changes_owner for lead in self.leads)

    @cached_property
    def rule_changes(self) -> int:
        return sum(lead.changes_rule for lead in self.leads)

    @cached_property
    def outcome_changes(self) -> int:
        return sum(lead.changes_outcome for lead in self.leads)

    @cached_property
    def unroutable(self) -> int:
        return sum(lead.outcome == Outcome.UNROUTABLE for lead in self.leads)

    @cached_property
    def by_outcome(self) -> list:
        order = list(Outcome.values)
        return _tallies(
            [(lead.now_outcome, lead.outcome) for lead in self.leads],
            label=lambda outcome: Outcome(outcome).label if outcome else _("never routed"),
            order=lambda outcome: order.index(outcome) if outcome else len(order),
        )

    @cached_property
    def by_rep(self) -> list:
        return _tallies(
            [(lead.now_owner, lead.rep) for lead in self.leads],
            label=lambda rep: rep.name if rep else _("no rep (pool, nurture or unroutable)"),
            order=lambda rep: (rep is None, rep.name.casefold() if rep else "", _pk(rep)),
        )

    @cached_property
    def by_rule(self) -> list:
        return _tallies(
            [(lead.now_rule, lead.rule) for lead in self.leads],
            label=lambda rule: rule.name if rule else _("no rule (unroutable or never routed)"),
            order=lambda rule: (rule is None, rule.priority if rule else 0, _pk(rule)),
        )


def _holder(rep, pool) -> str:
    if rep is not None:
        return rep.name
    return _("pool %(pool)s") % {"pool": pool} if pool is not None else _("no owner")


def _pk(obj):
    return obj.pk if obj is not None else None


def _tallies(pairs, *, label, order) -> list:
    """One row per key seen now or in the simulation, with both counts."""
    now = Counter(before for before, _after in pairs)
    simulated = Counter(after for _before, after in pairs)
    keys = sorted(now.keys() | simulated.keys(), key=order)
    return [Tally(label(key), now[key], simulated[key]) for key in keys]


# --- Which leads -------------------------------------------------------------------------------


@dataclass
class LeadChoice:
    leads: QuerySet  # newest first, at most MAX_SIMULATED_LEADS
    left_out: int = 0  # matching leads beyond the cap


def simulation_leads(*, leads: QuerySet, days: int | None = None, last: int | None = None, source: str = "",
                     country: str = "", now: dt.datetime) -> LeadChoice:
    """The leads to replay: created in the last `days` days, or the `last` most recent; the newest if there are too many."""
    if source.strip():
        leads = leads.filter(source__iexact=source.strip())
    if country:
        leads = leads.filter(country=country)
    newest = leads.order_by("-created_at", "-pk")
    if days is None:
        return LeadChoice(newest[: min(last, MAX_SIMULATED_LEADS)])
    newest = newest.filter(created_at__gte=now - dt.timedelta(days=days))
    return LeadChoice(newest[:MAX_SIMULATED_LEADS], left_out=max(0, newest.count() - MAX_SIMULATED_LEADS))


# --- The simulation ----------------------------------------------------------------------------


def routing_simulate(*, leads: QuerySet, switch_on=(), switch_off=(), at: dt.datetime) -> Simulation:
    """Routes `leads` (oldest first) through the active rules plus `switch_on` minus `switch_off`, at `at`.

    Writes nothing and locks nothing live routing needs; see the module docstring.
    """
    switch_on, switch_off = list(switch_on), list(switch_off)
    both = {rule.pk for rule in switch_on} & {rule.pk for rule in switch_off}
    if both:
        names = ", ".join(rule.name for rule in switch_on if rule.pk in both)
        raise ValidationError(_("A rule cannot be switched on and off at once: %(names)s.") % {"names": names})
    lead_ids = list(leads.values_list("pk", flat=True)[: MAX_SIMULATED_LEADS + 1])
    if len(lead_ids) > MAX_SIMULATED_LEADS:
        raise ValidationError(
            _("At most %(max)s leads can be simulated at once; choose fewer.") % {"max": f"{MAX_SIMULATED_LEADS:,}"}
        )
    started = time.perf_counter()
    using = router.db_for_read(Lead)
    with transaction.atomic(using=using):
        _refuse_writes(connections[using])
        replayed = _replay(lead_ids, switch_on=switch_on, switch_off=switch_off, at=at)
        transaction.set_rollback(True, using=using)
    return Simulation(at=at, leads=replayed, switched_on=switch_on, switched_off=switch_off,
                      seconds=time.perf_counter() - started)


def _refuse_writes(connection):
    """From here to the rollback PostgreSQL refuses every write and row lock: the guarantee is not ours alone."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION READ ONLY")


def _replay(lead_ids, *, switch_on, switch_off, at) -> list:
    leads = _leads_as_they_stand(lead_ids)
    ruleset = _draft_ruleset(switch_on, switch_off)
    batch = SimulationBatch(now=at, worker="simulation", **_replayed_loads(leads, at))
    batch.prefetch_accounts(leads)
    now_rules = RoutingRule.objects.in_bulk({lead.latest_rule_id for lead in leads} - {None})
    return [_simulate_one(lead, ruleset, batch, now_rule=now_rules.get(lead.latest_rule_id)) for lead in leads]


def _leads_as_they_stand(lead_ids) -> list:
    """The leads, oldest first, with their owner and the rule and outcome of their latest routing decision."""
    latest = RoutingDecision.objects.filter(lead=OuterRef("pk")).order_by("-created_at", "-pk")
    return list(
        Lead.objects.filter(pk__in=lead_ids)
        .select_related("owner__user", "pool", "account__parent", "account__owner")
        .annotate(latest_rule_id=Subquery(latest.values("rule_id")[:1]),
                  latest_outcome=Subquery(latest.values("outcome")[:1]))
        .order_by("created_at", "pk")
    )


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


def _replayed_loads(leads, at) -> dict:
    """What the replayed leads add to their current owners' loads, so the simulation counts each lead once."""
    loads = replayed_loads(leads, at=at)
    return {"replayed_open": loads.open, "replayed_today": loads.new[TODAY.name],
            "replayed_hour": loads.new[LAST_HOUR.name]}


def _simulate_one(lead, ruleset, batch, *, now_rule) -> SimulatedLead:
    try:
        decision = decide(lead, ruleset=ruleset, now=batch.now, batch=batch)
    except DatabaseError:
        raise  # the read-only transaction is aborted: nothing more can be read
    except Exception as error:  # noqa: BLE001 — as in a live run, a lead that makes the engine fail is unroutable
        decision = failed_decision(error)
    return SimulatedLead(
        lead=lead, now_rule=now_rule, now_outcome=lead.latest_outcome, outcome=decision.outcome, rule=decision.rule,
        rep=decision.rep, pool=decision.pool, trace={**decision.trace, "outcome": outcome_cause(decision)},
    )
