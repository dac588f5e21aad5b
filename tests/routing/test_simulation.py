"""Simulation: past leads replayed through draft rules, exactly as the engine would route them, changing nothing."""

import datetime as dt
import threading

import psycopg
import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads.models import Lead, LeadEvent
from routing import simulation as simulation_module
from routing.models import Assignment, RotationState, RoutingDecision, RoutingRule
from routing.services import route_pending_leads
from routing.simulation import SimulationResult, routing_replay, routing_simulate, simulation_leads
from tests.factories import (
    LeadFactory,
    PoolFactory,
    RoutingDecisionFactory,
    RoutingRuleFactory,
    RuleConditionFactory,
    TeamFactory,
    TimeOffFactory,
    rep_named,
)

pytestmark = pytest.mark.django_db
Outcome = RoutingDecision.Outcome
NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


def route_all():
    return route_pending_leads(limit=100_000, worker="test")


def team_of(*names, **rep_kwargs):
    team = TeamFactory()
    return team, [rep_named(name, teams=[team], **rep_kwargs) for name in names]


def database_state():
    """Everything a simulation could be tempted to write, as plain values."""
    return {
        "assignments": list(Assignment.objects.order_by("pk").values_list("pk", "lead_id", "rep_id", "is_current")),
        "decisions": RoutingDecision.objects.count(),
        "events": LeadEvent.objects.count(),
        "rotation": list(RotationState.objects.order_by("pk").values_list(
            "pk", "rep_id", "last_assigned_seq", "assigned_count", "virtual_pass", "performance_credit")),
        "rule_sequences": list(RoutingRule.objects.order_by("pk").values_list("pk", "rotation_seq", "is_active")),
        "leads": list(Lead.objects.order_by("pk").values_list("pk", "owner_id", "status", "pool_id",
                                                              "routing_requested_at", "updated_at")),
    }


def simulated_owners(simulation):
    return [lead.rep.name if lead.rep else None for lead in simulation.leads]


def tallies(rows):
    return {row.label: (row.now, row.simulated) for row in rows}


def test_switching_on_a_draft_rule_shows_which_leads_move_and_to_whom_and_changes_nothing():
    sales, _ = team_of("Anna", "Ben")
    dach, _ = team_of("Dora")
    RoutingRuleFactory(name="Everyone", target_team=sales, priority=20)
    german, french, austrian = LeadFactory(country="DE"), LeadFactory(country="FR"), LeadFactory(country="AT")
    route_all()
    draft = RoutingRuleFactory(name="DACH to Dora's team", target_team=dach, priority=10, is_active=False)
    RuleConditionFactory(rule=draft, field="country", operator="in", value="DE, AT, CH")
    before = database_state()

    simulation = routing_simulate(leads=Lead.objects.all(), switch_on=[draft], at=timezone.now())

    assert database_state() == before
    assert [lead.lead for lead in simulation.changed] == [german, austrian]
    moved = simulation.changed[0]
    assert (moved.now_rule.name, moved.rule.name) == ("Everyone", "DACH to Dora's team")
    assert (moved.now_holder, moved.holder) == ("Anna", "Dora")
    assert "Rule 1 'DACH to Dora's team' matched: country is one of" in moved.explanation
    assert "Chosen: Dora by rule 'DACH to Dora's team'." in moved.explanation
    assert not [lead for lead in simulation.leads if lead.lead == french][0].changes
    assert (simulation.owner_changes, simulation.rule_changes, simulation.outcome_changes) == (2, 2, 0)
    assert tallies(simulation.by_rep) == {"Anna": (2, 0), "Ben": (1, 1), "Dora": (0, 2)}
    assert tallies(simulation.by_rule) == {"DACH to Dora's team": (0, 2), "Everyone": (3, 1)}
    assert not draft.__class__.objects.get(pk=draft.pk).is_active


def test_round_robin_in_a_simulation_rotates_like_the_real_run_that_follows():
    team, _ = team_of("Anna", "Ben", "Carla")
    RoutingRuleFactory(name="Round robin", target_team=team)
    LeadFactory.create_batch(2)
    route_all()  # Anna and Ben had theirs: the rotation goes on with Carla
    waiting = LeadFactory.create_batch(5)

    simulation = routing_simulate(leads=Lead.objects.filter(pk__in=[lead.pk for lead in waiting]), at=timezone.now())
    route_all()

    assert simulated_owners(simulation) == ["Carla", "Anna", "Ben", "Carla", "Anna"]
    real = dict(Lead.objects.filter(pk__in=[lead.pk for lead in waiting]).values_list("pk", "owner__user__first_name"))
    assert simulated_owners(simulation) == [real[lead.pk] for lead in waiting]


def test_performance_based_in_a_simulation_shares_out_like_the_real_run_that_follows():
    team, (anna, ben, _carla) = team_of("Anna", "Ben", "Carla")
    for rep, converted in ((anna, 8), (ben, 2)):
        LeadFactory.create_batch(converted, owner=rep, routing_requested_at=None,
                                 assigned_at=NOW - dt.timedelta(days=3), status=Lead.Status.CONVERTED)
        LeadFactory.create_batch(20 - converted, owner=rep, routing_requested_at=None,
                                 assigned_at=NOW - dt.timedelta(days=3), status=Lead.Status.LOST)
    RoutingRuleFactory(name="Performance", target_team=team, strategy=RoutingRule.Strategy.PERFORMANCE)
    LeadFactory.create_batch(5)
    route_all()  # the credit moved: the simulation must go on from where it stands
    waiting = LeadFactory.create_batch(12)
    before = database_state()

    simulation = routing_simulate(leads=Lead.objects.filter(pk__in=[lead.pk for lead in waiting]), at=timezone.now())
    assert database_state() == before
    route_all()

    real = dict(Lead.objects.filter(pk__in=[lead.pk for lead in waiting]).values_list("pk", "owner__user__first_name"))
    assert simulated_owners(simulation) == [real[lead.pk] for lead in waiting]
    assert len(set(simulated_owners(simulation))) == 3


def test_a_draft_rule_rotates_its_reps_without_creating_rotation_rows():
    team, _ = team_of("Anna", "Ben")
    draft = RoutingRuleFactory(name="Draft", target_team=team, is_active=False)
    LeadFactory.create_batch(4)

    simulation = routing_simulate(leads=Lead.objects.all(), switch_on=[draft], at=timezone.now())

    assert simulated_owners(simulation) == ["Anna", "Ben", "Anna", "Ben"]
    assert not RotationState.objects.exists()


def test_a_rep_on_leave_now_is_excluded_with_the_reason():
    team, (anna, _ben) = team_of("Anna", "Ben")
    RoutingRuleFactory(name="Team", target_team=team)
    lead = LeadFactory()
    route_all()
    assert Lead.objects.get(pk=lead.pk).owner == anna
    TimeOffFactory(rep=anna, start=NOW - dt.timedelta(days=1), end=NOW + dt.timedelta(days=6), reason="Vacation")

    simulation = routing_simulate(leads=Lead.objects.all(), at=timezone.now())

    assert simulated_owners(simulation) == ["Ben"]
    assert "Anna: on leave until" in simulation.leads[0].explanation
    assert "(Vacation)" in simulation.leads[0].explanation
    assert simulation.owner_changes == 1


def test_switching_off_the_only_matching_rule_makes_leads_unroutable():
    team, _ = team_of("Anna")
    germany = RoutingRuleFactory(name="Germany", target_team=team)
    RuleConditionFactory(rule=germany, field="country", value="DE")
    LeadFactory.create_batch(3, country="DE")
    route_all()

    simulation = routing_simulate(leads=Lead.objects.all(), switch_off=[germany], at=timezone.now())

    assert simulation.unroutable == 3
    assert tallies(simulation.by_outcome) == {"Assigned": (3, 0), "Unroutable": (0, 3)}
    assert tallies(simulation.by_rule) == {"Germany": (3, 0), "no rule (unroutable or never routed)": (0, 3)}
    assert "No active rule matched or could place this lead." in simulation.leads[0].explanation


def test_each_replayed_lead_counts_once_against_its_owners_cap():
    team, _ = team_of("Anna", max_open_leads=2)
    RoutingRuleFactory(name="Team", target_team=team, when_none_eligible=RoutingRule.WhenNoneEligible.QUEUE,
                       pool=PoolFactory(name="Overflow"))
    LeadFactory.create_batch(3)
    route_all()  # Anna holds two, the third waits in the pool

    simulation = routing_simulate(leads=Lead.objects.all(), at=timezone.now())

    assert [lead.holder for lead in simulation.leads] == ["Anna", "Anna", "pool Overflow"]
    assert "at open-lead cap 2/2" in simulation.leads[2].explanation
    assert not simulation.changed


def test_each_replayed_lead_counts_once_against_its_owners_hourly_cap():
    team, _ = team_of("Anna", max_new_leads_per_hour=2)
    RoutingRuleFactory(name="Team", target_team=team, when_none_eligible=RoutingRule.WhenNoneEligible.QUEUE,
                       pool=PoolFactory(name="Overflow"))
    LeadFactory.create_batch(3)
    route_all()  # Anna got two this hour, the third waits in the pool

    simulation = routing_simulate(leads=Lead.objects.all(), at=timezone.now())

    assert [lead.holder for lead in simulation.leads] == ["Anna", "Anna", "pool Overflow"]
    assert "at hourly cap 2/2" in simulation.leads[2].explanation


def test_leads_not_replayed_still_count_in_the_loads():
    team, _ = team_of("Anna", max_open_leads=2)
    RoutingRuleFactory(name="Team", target_team=team)
    earlier = LeadFactory.create_batch(2)
    route_all()
    new = LeadFactory()

    simulation = routing_simulate(leads=Lead.objects.filter(pk=new.pk), at=timezone.now())

    assert simulation.leads[0].outcome == Outcome.UNROUTABLE
    assert "Anna: at open-lead cap 2/2." in simulation.leads[0].explanation
    assert {lead.owner.name for lead in Lead.objects.filter(pk__in=[e.pk for e in earlier])} == {"Anna"}


def test_a_lead_that_makes_the_engine_fail_is_unroutable_with_the_error_and_the_others_go_on(monkeypatch):
    team, _ = team_of("Anna")
    RoutingRuleFactory(name="Team", target_team=team)
    poison, fine = LeadFactory(company="Poison Ltd"), LeadFactory(company="Fine Ltd")
    real_decide = simulation_module.decide

    def failing_for_poison(lead, **kwargs):
        if lead.pk == poison.pk:
            raise ValueError("broken attributes")
        return real_decide(lead, **kwargs)

    monkeypatch.setattr(simulation_module, "decide", failing_for_poison)
    simulation = routing_simulate(leads=Lead.objects.all(), at=timezone.now())

    assert [(lead.lead, lead.outcome) for lead in simulation.leads] == [(poison, Outcome.UNROUTABLE),
                                                                         (fine, Outcome.ASSIGNED)]
    assert "Error: ValueError: broken attributes" in simulation.leads[0].explanation


def test_each_lead_is_compared_with_its_latest_routing_decision(monkeypatch):
    monkeypatch.setattr(simulation_module, "REPLAY_BATCH", 2)  # the decisions of every batch are read apart
    team, _ = team_of("Anna")
    RoutingRuleFactory(name="Everyone", target_team=team)
    old = RoutingRuleFactory(name="Old rule", target_team=team, is_active=False)
    pooled_again, kept, routed_once = LeadFactory.create_batch(3)
    route_all()
    never_routed = LeadFactory()
    # Decided at the same instant as the first: the later one (by id) is the latest.
    RoutingDecisionFactory(lead=pooled_again, rule=old, outcome=Outcome.POOLED)
    # Written after the first but dated before it: the date decides, not the id.
    earlier = RoutingDecisionFactory(lead=kept, rule=None, outcome=Outcome.UNROUTABLE)
    RoutingDecision.objects.filter(pk=earlier.pk).update(created_at=NOW - dt.timedelta(days=1))

    simulation = routing_simulate(leads=Lead.objects.all(), at=timezone.now())

    assert [(lead.lead, lead.now_rule.name if lead.now_rule else None, lead.now_outcome)
            for lead in simulation.leads] == [
        (pooled_again, "Old rule", Outcome.POOLED), (kept, "Everyone", Outcome.ASSIGNED),
        (routed_once, "Everyone", Outcome.ASSIGNED), (never_routed, None, None),
    ]
    assert tallies(simulation.by_outcome) == {"Assigned": (2, 4), "Waiting in pool": (1, 0), "never routed": (1, 0)}
    assert tallies(simulation.by_rule) == {"Everyone": (2, 4), "Old rule": (1, 0),
                                           "no rule (unroutable or never routed)": (1, 0)}
    assert (simulation.rule_changes, simulation.outcome_changes, simulation.owner_changes) == (2, 2, 1)


def test_a_rule_cannot_be_switched_on_and_off_at_once():
    draft = RoutingRuleFactory(name="Draft", is_active=False)
    with pytest.raises(ValidationError, match="switched on and off at once: Draft"):
        routing_simulate(leads=Lead.objects.all(), switch_on=[draft], switch_off=[draft], at=timezone.now())


def test_more_leads_than_the_cap_are_refused(monkeypatch):
    monkeypatch.setattr(simulation_module, "MAX_SIMULATED_LEADS", 2)
    LeadFactory.create_batch(3)
    with pytest.raises(ValidationError, match="At most 2 leads can be simulated at once"):
        routing_simulate(leads=Lead.objects.all(), at=timezone.now())


def test_leads_of_the_last_days_are_chosen_newest_first_and_capped():
    with time_machine.travel(NOW - dt.timedelta(days=40), tick=False):
        LeadFactory(source="webinar")
    recent = [LeadFactory(source="webinar") for _ in range(3)]
    LeadFactory(source="ads")

    choice = simulation_leads(leads=Lead.objects.all(), days=30, source="Webinar", now=timezone.now(), limit=2)

    assert set(choice.leads) == set(recent[1:])
    assert choice.left_out == 1
    assert choice.ids_oldest_first() == [recent[1].pk, recent[2].pk]


@pytest.mark.parametrize("strategy", RoutingRule.Strategy.values)
def test_simulation_reads_rep_facts_once_however_many_leads_it_replays(strategy):
    team, _ = team_of(*[f"Rep{n}" for n in range(10)], max_open_leads=50, max_new_leads_per_day=50)
    RoutingRuleFactory(name="Team", target_team=team, strategy=strategy)
    few, many = LeadFactory.create_batch(5), LeadFactory.create_batch(40)

    def queries(leads):
        with CaptureQueriesContext(connection) as captured:
            routing_simulate(leads=Lead.objects.filter(pk__in=[lead.pk for lead in leads]), at=timezone.now())
        return len(captured)

    assert queries(many) == queries(few)


def test_a_long_replay_costs_the_same_queries_per_batch_and_none_per_lead(monkeypatch):
    monkeypatch.setattr(simulation_module, "REPLAY_BATCH", 5)
    team, _ = team_of(*[f"Rep{n}" for n in range(10)], max_open_leads=50, max_new_leads_per_day=50)
    RoutingRuleFactory(name="Team", target_team=team)
    leads = LeadFactory.create_batch(20)
    route_all()

    def queries(count):
        with CaptureQueriesContext(connection) as captured:
            totals = routing_replay(lead_ids=[lead.pk for lead in leads[:count]], at=timezone.now())
        assert totals.replayed == count
        return len(captured)

    one_batch, two_batches, four_batches = queries(5), queries(10), queries(20)
    assert four_batches - two_batches == 2 * (two_batches - one_batch)


def test_a_replay_keeps_the_counts_of_every_lead_and_the_first_changed_leads_in_full():
    sales, _ = team_of("Anna", "Ben")
    dach, _ = team_of("Dora")
    RoutingRuleFactory(name="Everyone", target_team=sales, priority=20)
    leads = [LeadFactory(country="DE") for _ in range(3)] + [LeadFactory(country="FR")]
    route_all()
    draft = RoutingRuleFactory(name="DACH", target_team=dach, priority=10, is_active=False)
    RuleConditionFactory(rule=draft, field="country", value="DE")
    before = database_state()
    progress = []

    totals = routing_replay(lead_ids=[lead.pk for lead in leads], switch_on=[draft], at=timezone.now(),
                            on_progress=progress.append, changes_kept=2)

    assert progress == [4]
    result = SimulationResult(totals.as_data())
    assert (result.replayed, result.rule_changes, result.changed_count) == (4, 3, 4)
    assert [change.lead_id for change in result.changes] == [leads[0].pk, leads[1].pk]
    assert result.changes[0].rule == "DACH" and result.changes[0].holder == "Dora"
    assert "Dora" in result.changes[0].explanation
    assert tallies(result.by_rule) == {"DACH": (0, 3), "Everyone": (4, 1)}
    assert database_state() == before


def test_a_write_slipping_into_a_simulation_is_refused_by_the_database(monkeypatch):
    team, _ = team_of("Anna")
    draft = RoutingRuleFactory(name="Draft", target_team=team, is_active=False)
    LeadFactory()
    def join_with_rows(batch, rule, reps, *, start_pass):  # as if joining a rotation wrote its rows at once
        RotationState.objects.bulk_create([RotationState(rule=rule, rep=rep, virtual_pass=start_pass) for rep in reps])
        return {}

    monkeypatch.setattr(simulation_module.SimulationBatch, "join_rotation", join_with_rows)

    with pytest.raises(Exception, match="read-only transaction"):
        routing_simulate(leads=Lead.objects.all(), switch_on=[draft], at=timezone.now())
    assert not RotationState.objects.exists()


# --- Live routing is never blocked ----------------------------------------------------------------


def _lock_probe(table, pk):
    """Tries, from a second connection, to lock one row the way a live worker would, without waiting."""
    settings = connection.settings_dict
    with psycopg.connect(dbname=settings["NAME"], host=settings["HOST"] or None, port=settings["PORT"] or None,
                         user=settings["USER"], password=settings["PASSWORD"] or None) as other:
        try:
            other.execute(f"SELECT id FROM {table} WHERE id = %s FOR UPDATE NOWAIT", [pk])
            return "free"
        except psycopg.errors.LockNotAvailable:
            return "locked"


def _probing_decide(real_decide, rule, rep, probes):
    """`decide`, then a second connection's attempt to lock the rule's and the rep's rows, while the run goes on."""
    def decide(*args, **kwargs):
        decision = real_decide(*args, **kwargs)
        # A thread: the probe must not run on the routing transaction's own connection.
        thread = threading.Thread(target=lambda: probes.append(
            (_lock_probe("routing_routingrule", rule.pk), _lock_probe("reps_rep", rep.pk))))
        thread.start()
        thread.join()
        return decision
    return decide


@pytest.mark.django_db(transaction=True)
def test_a_running_simulation_locks_neither_the_rule_nor_the_capped_rep(monkeypatch):
    team, (anna,) = team_of("Anna", max_open_leads=10)
    rule = RoutingRuleFactory(name="Team", target_team=team)
    LeadFactory.create_batch(2)
    probes = []
    monkeypatch.setattr(simulation_module, "decide", _probing_decide(simulation_module.decide, rule, anna, probes))

    with transaction.atomic():  # a manager's request may hold a transaction open around the simulation
        simulation = routing_simulate(leads=Lead.objects.all(), at=timezone.now())

    assert simulated_owners(simulation) == ["Anna", "Anna"]
    assert probes == [("free", "free"), ("free", "free")]


@pytest.mark.django_db(transaction=True)
def test_the_lock_probe_sees_the_locks_of_a_real_run(monkeypatch):
    """The check above could not pass by accident: during a real run the same probe finds both rows locked."""
    from routing import engine

    team, (anna,) = team_of("Anna", max_open_leads=10)
    rule = RoutingRuleFactory(name="Team", target_team=team)
    LeadFactory()
    probes = []
    monkeypatch.setattr("routing.services.decide", _probing_decide(engine.decide, rule, anna, probes))

    route_all()

    assert probes == [("locked", "locked")]
