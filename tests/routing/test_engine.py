import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from leads.models import Lead
from leads.services import lead_submit
from reps.models import Rep
from routing.models import Assignment, RoutingDecision, RoutingRule
from routing.services import route_pending_leads
from tests.factories import (
    AccountDomainFactory,
    AccountFactory,
    AssignmentFactory,
    LeadFactory,
    PoolFactory,
    RepFactory,
    RepSkillFactory,
    RoutingRuleFactory,
    RuleConditionFactory,
    RuleSkillRequirementFactory,
    SkillFactory,
    TeamFactory,
    TerritoryFactory,
    TimeOffFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
Target, Strategy = RoutingRule.TargetType, RoutingRule.Strategy


def route_all():
    return route_pending_leads(limit=100_000, worker="test")


def rep_named(name, **kwargs):
    return RepFactory(user=UserFactory(username=name.lower(), first_name=name, last_name=""), **kwargs)


def team_of(*names, team_name="Sales", **rep_kwargs):
    team = TeamFactory(name=team_name)
    return team, [rep_named(name, teams=[team], **rep_kwargs) for name in names]


def owners(leads):
    return [Lead.objects.get(pk=lead.pk).owner for lead in leads]


def test_first_matching_active_rule_wins():
    _, (anna,) = team_of("Anna", team_name="DACH")
    _, (bob,) = team_of("Bob", team_name="Everyone")
    inactive = RoutingRuleFactory(priority=1, name="Switched off", is_active=False, target_type=Target.REP,
                                  target_rep=bob)
    RuleConditionFactory(rule=inactive, field="country", operator="equals", value="DE")
    dach = RoutingRuleFactory(priority=2, name="DACH", target_team=anna.teams.get())
    RuleConditionFactory(rule=dach, field="country", operator="in", value="DE, AT, CH")
    RoutingRuleFactory(priority=3, name="Default", target_team=bob.teams.get())
    german, french = LeadFactory(country="DE"), LeadFactory(country="FR")

    route_all()

    assert owners([german, french]) == [anna, bob]
    decision = RoutingDecision.objects.get(lead=german)
    assert decision.rule.name == "DACH"
    assert "Rule 1 'DACH' matched: country is one of DE, AT, CH (lead: DE)" in decision.explained


def test_round_robin_rotates_evenly_by_least_recently_assigned():
    team, reps = team_of("Anna", "Ben", "Carla")
    RoutingRuleFactory(target_team=team, strategy=Strategy.ROUND_ROBIN)
    leads = [LeadFactory() for _ in range(9)]
    route_all()
    assert Counter(owners(leads)) == {rep: 3 for rep in reps}
    assert owners(leads)[:3] == owners(leads)[3:6]  # a stable rotation, no rep twice in a row

    newcomer = rep_named("Dora", teams=[team])
    late = LeadFactory()
    route_all()
    assert owners([late]) == [newcomer]  # joins the rotation at once, without being flooded afterwards
    more = [LeadFactory() for _ in range(4)]
    route_all()
    assert Counter(owners(more)) == {rep: 1 for rep in [*reps, newcomer]}


def test_round_robin_state_is_independent_per_rule():
    team, (anna, ben) = team_of("Anna", "Ben")
    first = RoutingRuleFactory(priority=1, target_team=team)
    RuleConditionFactory(rule=first, field="source", operator="equals", value="web")
    RoutingRuleFactory(priority=2, target_team=team)
    leads = [LeadFactory(source="web"), LeadFactory(source="ads"), LeadFactory(source="web"), LeadFactory(source="ads")]
    route_all()
    assert owners(leads) == [anna, anna, ben, ben]


def test_weighted_round_robin_gives_exact_shares_per_cycle():
    team = TeamFactory(name="Weighted")
    light = rep_named("Light", teams=[team], weight=Decimal("1"))
    heavy = rep_named("Heavy", teams=[team], weight=Decimal("3"))
    RoutingRuleFactory(target_team=team, strategy=Strategy.WEIGHTED)
    leads = [LeadFactory() for _ in range(40)]
    route_all()
    assigned = owners(leads)
    for cycle in range(10):
        assert Counter(assigned[cycle * 4:(cycle + 1) * 4]) == {light: 1, heavy: 3}


def test_least_loaded_prefers_the_rep_with_fewest_open_leads():
    team, (anna, ben) = team_of("Anna", "Ben")
    for _ in range(3):
        LeadFactory(owner=anna, status=Lead.Status.ASSIGNED, routing_requested_at=None)
    LeadFactory(owner=ben, status=Lead.Status.CONVERTED, routing_requested_at=None)  # closed: not load
    RoutingRuleFactory(target_team=team, strategy=Strategy.LEAST_LOADED)
    leads = [LeadFactory() for _ in range(4)]
    route_all()
    assert owners(leads) == [ben, ben, ben, anna]  # ben catches up to 3 open, then the tie goes to anna


def test_performance_based_favours_the_best_converter_of_the_leads_segment():
    team, (star, average) = team_of("Star", "Average")
    now = timezone.now()
    # Star converts software leads, Average healthcare leads (9 of 10 against 1 of 10).
    for industry, best in (("Software", star), ("Healthcare", average)):
        for rep in (star, average):
            for index in range(10):
                LeadFactory(owner=rep, industry=industry, employee_count=300, assigned_at=now - dt.timedelta(days=3),
                            status=Lead.Status.CONVERTED if index < (9 if rep == best else 1) else Lead.Status.LOST,
                            routing_requested_at=None)
    RoutingRuleFactory(target_team=team, strategy=Strategy.PERFORMANCE)
    leads = [LeadFactory(industry=industry, employee_count=400) for industry in ("Healthcare", "Software", "Software")]
    route_all()
    assert owners(leads) == [average, star, star]
    explanation = RoutingDecision.objects.get(lead=leads[0]).explained
    chosen = "Average: chosen (conversion 77% in segment (9/10 known outcomes, smoothed), new rep, share 77%"
    assert chosen in explanation


def test_unavailable_and_full_reps_are_skipped_with_reasons():
    team, (away, on_leave, inactive, full, daily, carla) = team_of(
        "Away", "Leave", "Inactive", "Full", "Daily", "Carla"
    )
    away.status, away.away_until = Rep.Status.AWAY, timezone.now() + dt.timedelta(hours=2)
    away.save()
    TimeOffFactory(rep=on_leave, reason="Vacation")
    inactive.is_active = False
    inactive.save()
    full.max_open_leads = 1
    full.save()
    LeadFactory(owner=full, status=Lead.Status.ASSIGNED, routing_requested_at=None)
    daily.max_new_leads_per_day = 1
    daily.save()
    AssignmentFactory(rep=daily, lead=LeadFactory(owner=daily, status=Lead.Status.CONVERTED, routing_requested_at=None))
    RoutingRuleFactory(name="Team", target_team=team)
    lead = LeadFactory()

    route_all()

    assert owners([lead]) == [carla]
    decision = RoutingDecision.objects.get(lead=lead)
    excluded = {c["name"]: c.get("excluded") for c in decision.trace["rules"][0]["candidates"]}
    assert excluded == {"Away": "away", "Leave": "on_leave", "Inactive": "inactive", "Full": "open_cap",
                        "Daily": "daily_cap", "Carla": None}
    assert "Full: at open-lead cap 1/1." in decision.explained
    assert "Daily: at daily cap 1/1." in decision.explained
    assert "Chosen: Carla" in decision.explained


def test_required_skills_exclude_reps_below_the_minimum_level():
    german = SkillFactory(name="German", kind="language")
    team, (novice, fluent) = team_of("Novice", "Fluent")
    RepSkillFactory(rep=novice, skill=german, level=2)
    RepSkillFactory(rep=fluent, skill=german, level=5)
    rule = RoutingRuleFactory(target_team=team)
    RuleSkillRequirementFactory(rule=rule, skill=german, min_level=4)
    leads = [LeadFactory(), LeadFactory()]
    route_all()
    assert owners(leads) == [fluent, fluent]
    assert "missing skill German ≥ 4 (has 2)" in RoutingDecision.objects.filter(lead=leads[0]).get().explained


def test_skills_target_picks_among_reps_with_the_skill():
    health = SkillFactory(name="Healthcare", kind="industry")
    specialist = rep_named("Specialist")
    RepSkillFactory(rep=specialist, skill=health, level=4)
    rep_named("Generalist")
    rule = RoutingRuleFactory(target_type=Target.SKILLS)
    RuleSkillRequirementFactory(rule=rule, skill=health, min_level=3)
    lead = LeadFactory(industry="Healthcare")
    route_all()
    assert owners([lead]) == [specialist]


def test_nobody_eligible_falls_through_or_waits_in_pool_as_configured():
    team, (anna,) = team_of("Anna")
    TimeOffFactory(rep=anna)
    _, (backup,) = team_of("Backup", team_name="Backup")
    falls = RoutingRuleFactory(priority=1, name="Falls through", target_team=team)
    RuleConditionFactory(rule=falls, field="source", operator="equals", value="web")
    pool = PoolFactory(name="Overflow")
    queues = RoutingRuleFactory(priority=2, name="Queues", target_team=team,
                                when_none_eligible=RoutingRule.WhenNoneEligible.QUEUE, pool=pool)
    RuleConditionFactory(rule=queues, field="source", operator="in", value="web, ads")
    RoutingRuleFactory(priority=3, name="Default", target_team=backup.teams.get())
    web, ads = LeadFactory(source="web"), LeadFactory(source="ads")

    route_all()

    web.refresh_from_db()
    ads.refresh_from_db()
    # "web" falls through rule 1, then rule 2 (which also matches) parks it in the pool.
    assert (web.owner, web.pool, web.status) == (None, pool, Lead.Status.NEW)
    assert (ads.owner, ads.pool) == (None, pool)
    assert "nobody eligible: trying the next rule" in RoutingDecision.objects.get(lead=web).explained


def test_pool_and_nurture_targets_assign_no_rep():
    pool = PoolFactory(name="Claimable")
    pooled_rule = RoutingRuleFactory(priority=1, target_type=Target.POOL, pool=pool)
    RuleConditionFactory(rule=pooled_rule, field="source", operator="equals", value="event")
    nurture_rule = RoutingRuleFactory(priority=2, target_type=Target.NURTURE)
    RuleConditionFactory(rule=nurture_rule, field="deal_value", operator="lt", value="1000")
    pooled, nurtured = LeadFactory(source="event"), LeadFactory(deal_value=Decimal("500.00"))
    route_all()
    assert "deal_value < 1000 (lead: 500)" in RoutingDecision.objects.get(lead=nurtured).explained
    pooled.refresh_from_db()
    nurtured.refresh_from_db()
    assert (pooled.pool, pooled.owner, pooled.status) == (pool, None, Lead.Status.NEW)
    assert (nurtured.owner, nurtured.status) == (None, Lead.Status.NURTURE)
    assert Assignment.objects.count() == 0


def test_account_owner_target_uses_the_parent_companys_owner_when_needed():
    manager = rep_named("Manager", seniority=Rep.Seniority.ACCOUNT_MANAGER)
    parent = AccountFactory(name="Acme Holding", owner=manager, is_customer=True)
    subsidiary = AccountFactory(name="Acme GmbH", parent=parent)
    AccountDomainFactory(account=subsidiary, domain="acme.de")
    rule = RoutingRuleFactory(target_type=Target.ACCOUNT_OWNER)
    RuleConditionFactory(rule=rule, field="account.parent", operator="equals", value="Acme Holding")
    lead = LeadFactory(email="jane@acme.de")
    route_all()
    assert owners([lead]) == [manager]
    assert "owner of parent account Acme Holding" in RoutingDecision.objects.get(lead=lead).explained


def test_territory_target_routes_to_reps_covering_the_most_specific_territory():
    dach_rep, bavaria_rep = rep_named("Dach"), rep_named("Bavaria")
    emea = TerritoryFactory(name="EMEA")
    dach = TerritoryFactory(name="DACH", parent=emea, countries=["DE", "AT", "CH"], reps=[dach_rep])
    TerritoryFactory(name="Bavaria", parent=dach, countries=["DE"], postal_codes="80-87", reps=[bavaria_rep])
    rule = RoutingRuleFactory(target_type=Target.TERRITORY)
    RuleConditionFactory(rule=rule, field="territory", operator="in_territory", value="EMEA")
    munich, vienna = LeadFactory(country="DE", postal_code="80331"), LeadFactory(country="AT", postal_code="1010")
    route_all()
    assert owners([munich, vienna]) == [bavaria_rep, dach_rep]


def test_seeds_decision_chain():
    """Existing customer -> account manager; score >= 80 -> senior; specialist industry -> specialist;
    territory -> territory rep; else the round-robin pool."""
    account_manager = rep_named("AM", seniority=Rep.Seniority.ACCOUNT_MANAGER)
    senior_team, (senior,) = team_of("Senior", team_name="Seniors", seniority=Rep.Seniority.SENIOR)
    specialist = rep_named("Specialist")
    finance = SkillFactory(name="Finance", kind="industry")
    RepSkillFactory(rep=specialist, skill=finance, level=5)
    territory_rep = rep_named("Nordics")
    TerritoryFactory(name="Nordics", countries=["SE", "NO", "DK", "FI"], reps=[territory_rep])
    everyone, pool_reps = team_of("Pool1", "Pool2", team_name="Round robin pool")
    customer = AccountFactory(name="Big Customer", owner=account_manager, is_customer=True)
    AccountDomainFactory(account=customer, domain="bigcustomer.com")

    rules = [
        ("Existing customer", Target.ACCOUNT_OWNER, {}, ("account.is_customer", "equals", "true")),
        ("Hot lead", Target.TEAM, {"target_team": senior_team}, ("score", "gte", "80")),
        ("Specialist industries", Target.SKILLS, {}, ("industry", "in", "Finance, Banking")),
        ("Territory", Target.TERRITORY, {}, ("territory", "is_not_empty", "")),
        ("Round-robin pool", Target.TEAM, {"target_team": everyone}, None),
    ]
    for priority, (name, target, extra, condition) in enumerate(rules, start=1):
        rule = RoutingRuleFactory(priority=priority, name=name, target_type=target, **extra)
        if condition:
            RuleConditionFactory(rule=rule, field=condition[0], operator=condition[1], value=condition[2])
        if target == Target.SKILLS:
            RuleSkillRequirementFactory(rule=rule, skill=finance, min_level=3)

    leads = [
        LeadFactory(email="cio@bigcustomer.com", score=95),
        LeadFactory(score=85, country="US"),
        LeadFactory(score=20, industry="Finance", country="SE"),
        LeadFactory(score=20, industry="Retail", country="SE"),
        LeadFactory(score=20, industry="Retail", country="BR"),
        LeadFactory(score=20, industry="Retail", country="BR"),
    ]
    route_all()
    assert owners(leads) == [account_manager, senior, specialist, territory_rep, *pool_reps]


def test_lead_matching_no_rule_is_unroutable_with_a_trace():
    rule = RoutingRuleFactory(name="Only DE")
    RuleConditionFactory(rule=rule, field="country", operator="equals", value="DE")
    lead = LeadFactory(country="FR")
    route_all()
    lead.refresh_from_db()
    assert lead.status == Lead.Status.UNROUTABLE and lead.routing_requested_at is None
    assert "No active rule matched" in RoutingDecision.objects.get(lead=lead).explained


def test_a_lead_that_makes_the_engine_raise_is_unroutable_and_others_go_on(monkeypatch):
    # No real lead makes the engine raise (bad data only fails conditions), so one failure is injected.
    import routing.engine

    team, (anna,) = team_of("Anna")
    RoutingRuleFactory(target_team=team)
    poison, healthy = LeadFactory(company="Poison"), LeadFactory(company="Healthy")
    real_facts = routing.engine.lead_facts

    def failing_facts(lead, index, **kwargs):
        if lead.company == "Poison":
            raise ValueError("attribute 'budget' is not a number")
        return real_facts(lead, index, **kwargs)

    monkeypatch.setattr(routing.engine, "lead_facts", failing_facts)
    assert route_all() == 2
    poison.refresh_from_db()
    assert poison.status == Lead.Status.UNROUTABLE and poison.owner is None
    assert "ValueError: attribute 'budget' is not a number" in RoutingDecision.objects.get(lead=poison).explained
    assert owners([healthy]) == [anna]


def test_routing_twice_changes_nothing_the_second_time():
    team, _ = team_of("Anna", "Ben")
    RoutingRuleFactory(target_team=team)
    lead = LeadFactory()
    assert route_all() == 1
    assert route_all() == 0
    assert Assignment.objects.filter(lead=lead).count() == 1
    assert RoutingDecision.objects.filter(lead=lead).count() == 1


def test_database_refuses_a_second_current_owner():
    lead = LeadFactory(routing_requested_at=None)
    AssignmentFactory(lead=lead)
    with pytest.raises(IntegrityError), transaction.atomic():
        AssignmentFactory(lead=lead)


def test_rule_changes_apply_to_the_next_lead():
    _, (anna,) = team_of("Anna", team_name="A")
    _, (ben,) = team_of("Ben", team_name="B")
    rule = RoutingRuleFactory(target_team=anna.teams.get())
    first = LeadFactory()
    route_all()
    rule.target_team = ben.teams.get()
    rule.save()
    second = LeadFactory()
    route_all()
    assert owners([first, second]) == [anna, ben]


def test_rule_index_skips_rules_that_cannot_match_and_keeps_priority_order():
    _, (anna,) = team_of("Anna", team_name="A")
    _, (ben,) = team_of("Ben", team_name="B")
    for index in range(200):
        rule = RoutingRuleFactory(priority=index + 1, name=f"Country {index}", target_team=anna.teams.get())
        RuleConditionFactory(rule=rule, field="postal_code", operator="equals", value=f"{index:05d}")
    catch_all = RoutingRuleFactory(priority=500, name="Catch all", target_team=ben.teams.get())
    lead_a, lead_b = LeadFactory(postal_code="00150"), LeadFactory(postal_code="99999")
    route_all()
    assert owners([lead_a, lead_b]) == [anna, ben]
    decision = RoutingDecision.objects.get(lead=lead_b)
    assert [r["name"] for r in decision.trace["rules"]] == [catch_all.name]
    assert "200 of 201 rules skipped" in decision.explained


def test_leads_created_by_bulk_create_are_queued_too():
    team, (anna,) = team_of("Anna")
    RoutingRuleFactory(target_team=team)
    Lead.objects.bulk_create([Lead(email=f"bulk{i}@example.com") for i in range(3)])
    assert route_all() == 3
    assert set(Lead.objects.values_list("owner", flat=True)) == {anna.pk}


@time_machine.travel(dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone.utc), tick=False)
def test_daily_cap_counts_the_reps_own_day():
    team = TeamFactory(name="Tokyo")
    tokyo = rep_named("Tokyo", teams=[team], time_zone="Asia/Tokyo", max_new_leads_per_day=1)
    backup = rep_named("Backup", teams=[team])
    RoutingRuleFactory(target_team=team, strategy=Strategy.LEAST_LOADED)
    # 20:00 in Tokyo yesterday evening (UTC 11:00 the day before): still "yesterday" in Tokyo.
    earlier = AssignmentFactory(rep=tokyo, lead=LeadFactory(routing_requested_at=None, status=Lead.Status.LOST))
    Assignment.objects.filter(pk=earlier.pk).update(created_at=dt.datetime(2026, 11, 22, 11, 0, tzinfo=dt.timezone.utc))
    leads = [LeadFactory(), LeadFactory()]
    route_all()
    assert owners(leads) == [tokyo, backup]  # today's first lead for Tokyo, then Tokyo is at the daily cap


def test_an_hourly_cap_spreads_a_burst_and_frees_after_sixty_minutes():
    team = TeamFactory(name="Inbound")
    anna = rep_named("Anna", teams=[team], max_new_leads_per_hour=2)
    ben = rep_named("Ben", teams=[team])
    RoutingRuleFactory(target_team=team)
    start = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)
    with time_machine.travel(start, tick=False):
        burst = LeadFactory.create_batch(6)
        route_all()
    assert owners(burst) == [anna, ben, anna, ben, ben, ben]
    assert "Anna: at hourly cap 2/2 (leads in the last 60 minutes)." in RoutingDecision.objects.get(
        lead=burst[-1]).explained
    with time_machine.travel(start + dt.timedelta(minutes=59), tick=False):
        still_full = LeadFactory()
        route_all()
    with time_machine.travel(start + dt.timedelta(minutes=61), tick=False):
        later = LeadFactory()
        route_all()
    assert owners([still_full, later]) == [ben, anna]


def test_a_job_timeout_leaves_the_lead_waiting_for_the_next_drain(monkeypatch):
    # The timeout is raised by RQ's alarm inside whatever the job was doing; it is injected here.
    import routing.engine
    from rq.timeouts import JobTimeoutException

    team, (anna,) = team_of("Anna")
    RoutingRuleFactory(target_team=team)
    lead = LeadFactory()

    def timing_out(lead, index, **kwargs):
        raise JobTimeoutException("Task exceeded maximum timeout value")

    with monkeypatch.context() as patch:
        patch.setattr(routing.engine, "lead_facts", timing_out)
        with pytest.raises(JobTimeoutException):
            route_all()
    lead.refresh_from_db()
    assert lead.status == Lead.Status.NEW and lead.routing_requested_at is not None
    assert route_all() == 1
    assert owners([lead]) == [anna]
    assert Assignment.objects.filter(lead=lead).count() == 1


def test_large_candidate_sets_are_summarised_in_the_trace(monkeypatch):
    import routing.engine

    monkeypatch.setattr(routing.engine, "MAX_EXCLUDED_LISTED", 2)
    monkeypatch.setattr(routing.engine, "RUNNERS_UP_LISTED", 1)
    team, reps = team_of("A1", "A2", "A3", "E1", "E2", "E3", "E4")
    for rep in reps[:3]:
        rep.is_active = False
        rep.save()
    RoutingRuleFactory(target_team=team)
    lead = LeadFactory()
    route_all()
    decision = RoutingDecision.objects.get(lead=lead)
    rule = decision.trace["rules"][0]
    assert [c["name"] for c in rule["candidates"]][:2] == ["A1", "A2"]
    assert len(rule["candidates"]) == 4  # two excluded, the chosen rep, one runner-up
    assert rule["more_excluded"] == {"inactive": 1} and rule["more_eligible"] == 2
    assert "… and 1 more excluded: inactive." in decision.explained
    assert "… and 2 more eligible reps ranked lower." in decision.explained


def test_a_saved_regex_that_re2_refuses_never_matches_and_routing_goes_on():
    # Saved before regex conditions ran on RE2, which has no backreferences: the condition never matches and the
    # explanation says why, instead of every lead failing to route.
    _, (anna,) = team_of("Anna", team_name="Doubled letters")
    _, (ben,) = team_of("Ben", team_name="Everyone")
    legacy = RoutingRuleFactory(priority=1, name="Doubled letters", target_team=anna.teams.get())
    RuleConditionFactory(rule=legacy, field="company", operator="regex", value=r"(a)\1")
    RoutingRuleFactory(priority=2, name="Everyone", target_team=ben.teams.get())
    lead = LeadFactory(company="Aardvark Ltd")

    route_all()

    assert owners([lead]) == [ben]
    explanation = RoutingDecision.objects.get(lead=lead).explained
    assert ("Rule 1 'Doubled letters' did not match: company matches regex (a)\\1 (lead: Aardvark Ltd; never matches: "
            "This regular expression cannot be used (invalid escape sequence: \\1)") in explanation
    with translation.override("de"):  # the trace holds the condition, not the reason's English sentence
        assert "Dieser reguläre Ausdruck kann nicht verwendet werden" in RoutingDecision.objects.get(lead=lead).explained


@pytest.mark.parametrize(
    ("field", "operator", "value", "lead_values", "matches"),
    [
        ("employee_count", "equals", "250", {"employee_count": 250}, True),
        ("employee_count", "equals", "250", {"employee_count": 251}, False),
        ("employee_count", "equals", "250", {"employee_count": None}, False),
        ("deal_value", "equals", "1000", {"deal_value": Decimal("1000.00")}, True),
        ("score", "in", "10, 20, 30", {"score": 20}, True),
        ("score", "in", "10, 20, 30", {"score": 25}, False),
        ("score", "in", "10, 20, 30", {"score": None}, False),
        ("score", "not_in", "10, 20, 30", {"score": 25}, True),
        ("score", "not_in", "10, 20, 30", {"score": 20}, False),
        ("score", "not_in", "10, 20, 30", {"score": None}, True),
        ("score", "lte", "50", {"score": 50}, True),
        ("score", "lte", "50", {"score": 51}, False),
        ("score", "lte", "50", {"score": None}, False),
        ("deal_value", "lte", "999.99", {"deal_value": Decimal("999.99")}, True),
        ("deal_value", "lte", "999.99", {"deal_value": Decimal("1000.00")}, False),
        # Territory equals / is one of: the lead's own territory, not its parents (that is "is in territory").
        ("territory", "equals", "DACH", {"country": "AT"}, True),
        ("territory", "equals", "DACH", {"country": "SE"}, False),
        ("territory", "equals", "DACH", {"country": "DE", "postal_code": "80331"}, False),  # Bavaria, below DACH
        ("territory", "equals", "dach", {"country": "CH"}, True),
        ("territory", "in", "Nordics, Bavaria", {"country": "SE"}, True),
        ("territory", "in", "Nordics, Bavaria", {"country": "DE", "postal_code": "80331"}, True),
        ("territory", "in", "Nordics, Bavaria", {"country": "AT"}, False),
        ("territory", "in", "Nordics, Bavaria", {"country": "FR"}, False),  # in no territory
    ],
)
def test_numeric_and_territory_conditions_decide_which_rule_routes_the_lead(field, operator, value, lead_values,
                                                                              matches):
    dach = TerritoryFactory(name="DACH", countries=["DE", "AT", "CH"])
    TerritoryFactory(name="Bavaria", parent=dach, countries=["DE"], postal_codes="80-87")
    TerritoryFactory(name="Nordics", countries=["SE", "NO", "DK", "FI"])
    _, (anna,) = team_of("Anna", team_name="Under test")
    _, (ben,) = team_of("Ben", team_name="Everyone")
    rule = RoutingRuleFactory(priority=1, name="Under test", target_team=anna.teams.get())
    RuleConditionFactory(rule=rule, field=field, operator=operator, value=value)
    RoutingRuleFactory(priority=2, name="Everyone", target_team=ben.teams.get())
    lead = LeadFactory(**lead_values)

    route_all()

    assert owners([lead]) == [anna if matches else ben]
    assert RoutingDecision.objects.get(lead=lead).trace["rules"][0]["matched"] is matches


def account_owner_rule_then_everyone():
    """Rule 1 gives a lead to its account's owner, rule 2 to Ben's team; returns Ben."""
    _, (ben,) = team_of("Ben", team_name="Everyone")
    RoutingRuleFactory(priority=1, name="Account owners", target_type=Target.ACCOUNT_OWNER)
    RoutingRuleFactory(priority=2, name="Everyone", target_team=ben.teams.get())
    return ben


def test_a_free_mail_lead_never_goes_to_an_account_that_lists_the_free_mail_domain():
    ben = account_owner_rule_then_everyone()
    owner = rep_named("Owner")
    legacy = AccountFactory(name="Gmail lister", owner=owner)
    AccountDomainFactory(account=legacy, domain="gmail.com")  # saved before the admin refused free-mail domains
    from_form = lead_submit(raw={"email": "jane@gmail.com", "company": "Initech"}, channel="form").lead
    from_orm = LeadFactory(email="joe@gmail.com", domain="gmail.com")

    route_all()

    assert owners([from_form, from_orm]) == [ben, ben]
    assert RoutingDecision.objects.get(lead=from_orm).trace["account"] is None


def test_routing_finds_the_account_of_a_subdomain_email_as_intake_does():
    account_owner_rule_then_everyone()
    owner = rep_named("Owner")
    AccountDomainFactory(account=AccountFactory(name="Acme", owner=owner), domain="acme.de")
    lead = LeadFactory(email="jane@sales.acme.de")  # not through intake: routing looks its account up

    route_all()

    assert owners([lead]) == [owner]
    assert RoutingDecision.objects.get(lead=lead).trace["account"] == "Acme"
