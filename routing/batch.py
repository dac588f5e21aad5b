"""One routing transaction: what it has read about reps, the fairness state it moved, and the rows it will write.

A worker routes many waiting leads in one transaction. Reading each rep's calendar,
time off and load again for every lead, and writing five rows per lead one statement
at a time, would cost far more than the decision itself. So a `RoutingBatch` reads
rep facts once, keeps the rotation state and the loads up to date with its own picks,
and holds every lead's outcome until the batch ends, when `routing.recording` writes all of
the batch's assignments, audit rows, timeline events and moved fairness state together.
The batch itself writes nothing: the engine, which works through it, only reads and locks.

What it remembers stays true until the transaction commits because of the locks the
engine takes through it: the row of every rule it picked through (no other worker can
move that rule's rotation) and the row of every capped rep it gave a lead to (no other
worker can fill that rep). Availability is read at the batch's instant, like a single
decision reads it at its own.

A single decision (a reassignment, a manager's "route again") is a batch of one lead.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db import connections, router
from django.db.models import OuterRef, Subquery

from leads.matching import account_by_domain, account_domains, accounts_look_up, first_known_account
from reps.availability import unavailability
from reps.models import Rep
from routing import strategies
from routing.models import RepLoad, RoutingRule


# A rule's rotation states, as `strategies.State` holds them.
ROTATION_STATES_SQL = (
    "SELECT id, rep_id, last_assigned_at, last_assigned_seq, assigned_count, virtual_pass, performance_credit"
    " FROM routing_rotationstate WHERE rule_id = %s"
)


@dataclass
class TargetReps:
    """A rule target's reps as read from the database, shared by the batch's leads."""

    reps: list
    note: dict | None  # see `routing.candidates.Candidates.note`
    queryset: object = None


@dataclass
class RoutingBatch:
    now: dt.datetime
    worker: str = ""
    # Rep facts, read once per batch.
    target_reps_cache: dict = field(default_factory=dict)  # target key -> TargetReps
    rule_targets: dict = field(default_factory=dict)  # rule.pk -> TargetReps, for targets that do not follow the lead
    unavailable: dict = field(default_factory=dict)  # rep.pk -> Unavailable | None at `now`
    skill_requirements: dict = field(default_factory=dict)  # rule.pk -> [RuleSkillRequirement]
    skill_problems: dict = field(default_factory=dict)  # rule.pk -> {rep.pk: (code, params) | None}
    accounts: dict = field(default_factory=dict)  # domain -> Account | None
    lead_accounts: dict = field(default_factory=dict)  # lead.pk -> its account found by domain (`prefetch_accounts`)
    rep_names: dict = field(default_factory=dict)  # rep.pk -> name, as every trace of the batch lists it
    # Known outcomes per (rule, segment) for performance based rules; the batch's own picks are not known yet.
    segment_records: dict = field(default_factory=dict)
    # Loads: counted in the database (`*_base`) plus this batch's own picks, not yet written.
    open_base: dict = field(default_factory=dict)
    today_base: dict = field(default_factory=dict)
    hour_base: dict = field(default_factory=dict)
    picked: dict = field(default_factory=dict)  # rep.pk -> leads given in this batch
    # Locks taken and the fairness state moved under them.
    locked_rules: set = field(default_factory=set)
    locked_reps: set = field(default_factory=set)
    rotation: dict = field(default_factory=dict)  # rule.pk -> {rep.pk: strategies.State}
    moved_states: dict = field(default_factory=dict)  # state.pk -> strategies.State
    moved_rules: dict = field(default_factory=dict)  # rule.pk -> rotation_seq
    joined: dict = field(default_factory=dict)  # negative state key -> rule.pk, for states not yet rows
    # Outcomes recorded (`routing.recording.decision_record`), written together at the end of the batch.
    pending: list = field(default_factory=list)

    # --- Reads, once per batch -------------------------------------------------------------

    def target_reps(self, key, build) -> TargetReps:
        if key not in self.target_reps_cache:
            self.target_reps_cache[key] = build()
        return self.target_reps_cache[key]

    def unavailability(self, reps) -> dict:
        missing = [rep for rep in reps if rep.id not in self.unavailable]
        if missing:
            self.unavailable.update(unavailability(missing, self.now))
        return self.unavailable

    def account_for(self, lead):
        """The account of a lead saved without one (leads.matching), its domains looked up once per batch."""
        if lead.pk in self.lead_accounts:
            return self.lead_accounts[lead.pk]
        return account_by_domain(domain=lead.domain, email=lead.email, known=self.accounts)

    def prefetch_accounts(self, leads):
        """Looks up, in one query, the domains of every lead without an account, and finds each one's account."""
        domains = [(lead.pk, account_domains(domain=lead.domain, email=lead.email))
                   for lead in leads if not lead.account_id]
        accounts_look_up({name for _pk, names in domains for name in names} - self.accounts.keys(),
                         known=self.accounts)
        # As `account_by_domain` finds it, without working out the lead's domains a second time.
        self.lead_accounts.update((pk, first_known_account(names, self.accounts))
                                  for pk, names in domains if pk is not None)

    def rep_name(self, rep) -> str:
        """The rep's name, worked out once per batch rather than for every trace that lists the rep."""
        name = self.rep_names.get(rep.id)
        if name is None:
            name = self.rep_names[rep.id] = rep.name
        return name

    def open_count(self, rep_id) -> int:
        return self.open_base.get(rep_id, 0) + self.picked.get(rep_id, 0)

    def open_counts(self, reps) -> dict:
        """rep.pk -> `open_count`, for every rep of a candidate set at once (this runs for every lead)."""
        base, picked = self.open_base, self.picked
        return {rep.id: base.get(rep.id, 0) + picked.get(rep.id, 0) for rep in reps}

    def today_count(self, rep_id) -> int:
        return self.today_base.get(rep_id, 0) + self.picked.get(rep_id, 0)

    def hour_count(self, rep_id) -> int:
        return self.hour_base.get(rep_id, 0) + self.picked.get(rep_id, 0)

    # --- Locks ------------------------------------------------------------------------------

    def lock_rule(self, rule) -> bool:
        """Locks the rule's row once per batch and reads its sequence, then its rotation states; True the first time.

        Two statements, not a join: a statement that waited for the lock would see the states as they were
        before the other worker's batch committed (READ COMMITTED refreshes only the locked row). Written out
        on PostgreSQL: with 20 rules in a batch, Django spent more time compiling these two queries than
        PostgreSQL running them.
        """
        if rule.pk in self.locked_rules:
            return False
        self.locked_rules.add(rule.pk)
        connection = connections[router.db_for_write(RoutingRule)]
        if connection.vendor != "postgresql":  # SQLite locks the whole database; `strategies` reads the states
            rule.rotation_seq = RoutingRule.objects.only("pk", "rotation_seq").get(pk=rule.pk).rotation_seq
            return True
        with connection.cursor() as cursor:
            cursor.execute("SELECT rotation_seq FROM routing_routingrule WHERE id = %s FOR UPDATE", [rule.pk])
            rule.rotation_seq = cursor.fetchone()[0]
            if rule.pk not in self.rotation:
                cursor.execute(ROTATION_STATES_SQL, [rule.pk])
                self.rotation[rule.pk] = {row[1]: strategies.State(*row) for row in cursor.fetchall()}
        return True

    def lock_rep(self, rep) -> int | None:
        """Locks a capped rep's row once per batch and reads their open-lead counter under it; None after the first time.

        The counter (`routing.models.RepLoad`) is read in the locking statement: under the lock no other
        worker can give the rep a lead, so the count stays true for the rest of the batch.
        """
        if rep.pk in self.locked_reps:
            return None
        counter = RepLoad.objects.filter(rep_id=OuterRef("pk")).values("open_leads")
        locked = Rep.objects.select_for_update().filter(pk=rep.pk).values_list(Subquery(counter)).first()
        self.locked_reps.add(rep.pk)
        return (locked[0] if locked else None) or 0

    def join_rotation(self, rule, reps, *, start_pass) -> dict:
        """States for reps new to a rule's rotation, all at `start_pass`; their rows are written with the batch.

        Under the rule's lock no other worker can add them meanwhile. Negative keys are never a row's.
        """
        states = {}
        for rep in reps:
            state = strategies.State(-(len(self.joined) + 1), rep.pk, None, 0, 0, start_pass)
            self.joined[state.pk] = rule.pk
            self.state_moved(state)
            states[rep.pk] = state
        return states

    def rule_picked(self, rule, rep, state):
        """Remembers a pick's moves: the rep's load, the rep's rotation state, the rule's sequence."""
        self.picked[rep.id] = self.picked.get(rep.id, 0) + 1
        self.state_moved(state)
        self.moved_rules[rule.pk] = rule.rotation_seq

    def state_moved(self, state):
        """A rotation state to write with the batch (a pick can move other reps' states than the chosen one's)."""
        self.moved_states[state.pk] = state
