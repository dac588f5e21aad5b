"""A/B experiments on routing: the split, who places each group, the audit, starting, stopping, the winner, statistics."""

from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from leads.models import Lead
from routing.experiment_split import experiment_group_for
from routing.experiments import (
    GroupFigures,
    experiment_make_variant_default,
    experiment_start,
    experiment_stop,
    leads_per_group_needed,
    two_proportion_z_test,
    verdict,
)
from routing.models import Assignment, RoutingDecision, RoutingExperiment, RoutingRule
from routing.reassignment import lead_reassign
from routing.services import route_pending_leads
from tests.factories import (
    LeadFactory,
    PoolFactory,
    RepSkillFactory,
    RoutingExperimentFactory,
    RoutingRuleFactory,
    RuleConditionFactory,
    RuleSkillRequirementFactory,
    SkillFactory,
    TeamFactory,
    UserFactory,
    rep_named,
)
from tests.routing.support import statements_to_route

pytestmark = pytest.mark.django_db
Group, Status = RoutingExperiment.Group, RoutingExperiment.Status
Target, Strategy = RoutingRule.TargetType, RoutingRule.Strategy


def route_all():
    return route_pending_leads(limit=100_000, worker="test")


def team_of(team_name, *names):
    team = TeamFactory(name=team_name)
    return team, [rep_named(name, teams=[team]) for name in names]


@pytest.fixture
def everyone():
    return team_of("Everyone", "Anna", "Ben")[0]


@pytest.fixture
def seniors():
    return team_of("Seniors", "Sara", "Sven")[0]


@pytest.fixture
def manager():
    return UserFactory(username="maria", first_name="Maria", last_name="Manager")


def senior_experiment(control_team, variant_team, *, share=50, **variant_fields):
    """'Enterprise' (every lead, to `control_team`) against the inactive 'Senior pool' (to `variant_team`)."""
    control = RoutingRuleFactory(name="Enterprise", target_team=control_team, strategy=Strategy.ROUND_ROBIN)
    variant = RoutingRuleFactory(name="Senior pool", is_active=False, target_team=variant_team,
                                 **{"strategy": Strategy.ROUND_ROBIN, **variant_fields})
    # The variant's own conditions never decide anything: this one would match none of the leads.
    RuleConditionFactory(rule=variant, field="country", operator="equals", value="FR")
    return RoutingExperimentFactory(name="Senior reps for enterprise", control_rule=control, variant_rule=variant,
                                    test_share=share)


def started(experiment, by=None):
    experiment_start(experiment_id=experiment.pk, actor=by)
    experiment.refresh_from_db()
    return experiment


def team_names(lead_ids):
    """lead id -> the name of the (one) team of its owner."""
    return dict(Lead.objects.filter(pk__in=lead_ids).values_list("pk", "owner__teams__name"))


def groups_by_lead(experiment):
    return dict(RoutingDecision.objects.filter(experiment=experiment).values_list("lead_id", "experiment_group"))


# --- The split and who places each group --------------------------------------------------

@pytest.mark.parametrize(("share", "low", "high"), [(50, 450, 550), (10, 70, 130), (90, 870, 930)])
def test_the_split_of_a_thousand_leads_is_close_to_the_test_share(share, low, high):
    experiment = RoutingExperiment(pk=7, test_share=share)
    # Fixed ids, so the count is the same on every run: the split is a pure function of the two ids.
    for first_id in (1, 50_001):
        groups = [experiment_group_for(experiment, lead_id) for lead_id in range(first_id, first_id + 1000)]
        assert low <= groups.count(Group.TEST) <= high
        assert groups == [experiment_group_for(experiment, lead_id) for lead_id in range(first_id, first_id + 1000)]


def test_a_thousand_leads_split_about_half_and_half_and_each_group_goes_to_its_own_target(everyone, seniors):
    experiment = started(senior_experiment(everyone, seniors, share=50))
    leads = LeadFactory.create_batch(1000)

    route_all()

    groups = groups_by_lead(experiment)
    assert len(groups) == 1000
    # Lead ids differ between runs (the database sequence goes on), so the bounds are wide enough
    # never to fail by chance (6 standard deviations); the test above checks the split closely.
    assert 400 <= Counter(groups.values())[Group.TEST] <= 600
    teams = team_names([lead.pk for lead in leads])
    assert {teams[lead_id] for lead_id, group in groups.items() if group == Group.TEST} == {"Seniors"}
    assert {teams[lead_id] for lead_id, group in groups.items() if group == Group.CONTROL} == {"Everyone"}
    # The assignment rows carry the same experiment and group as the audit rows.
    assert dict(Assignment.objects.values_list("lead_id", "experiment_group")) == groups
    assert set(Assignment.objects.values_list("experiment", flat=True)) == {experiment.pk}


def test_a_lead_routed_again_stays_in_its_group(everyone, seniors, manager):
    experiment = started(senior_experiment(everyone, seniors))
    leads = LeadFactory.create_batch(40)
    route_all()
    first_groups = groups_by_lead(experiment)
    assert set(first_groups.values()) == {Group.CONTROL, Group.TEST}

    for lead in leads:
        lead_reassign(lead_id=lead.pk, to_rep=None, actor=manager, reason="Route again")

    for lead in leads:
        again = RoutingDecision.objects.filter(lead=lead).order_by("-pk").first()
        assert again.experiment_group == first_groups[lead.pk]
        assert again.assignment.kind == Assignment.Kind.REASSIGN
        expected_team = "Seniors" if first_groups[lead.pk] == Group.TEST else "Everyone"
        assert team_names([lead.pk])[lead.pk] == expected_team


def test_the_variant_keeps_its_own_rotation_so_both_groups_are_shared_fairly(everyone, seniors):
    experiment = started(senior_experiment(everyone, seniors))
    leads = LeadFactory.create_batch(200)
    route_all()
    groups = groups_by_lead(experiment)
    owners = dict(Lead.objects.filter(pk__in=[lead.pk for lead in leads]).values_list("pk", "owner__user__first_name"))
    for group, reps in ((Group.TEST, {"Sara", "Sven"}), (Group.CONTROL, {"Anna", "Ben"})):
        counts = Counter(owners[lead_id] for lead_id, g in groups.items() if g == group)
        assert set(counts) == reps
        assert max(counts.values()) - min(counts.values()) <= 1  # round robin within the group's own target


def test_starting_and_stopping_take_effect_on_the_next_leads_routed(everyone, seniors):
    experiment = senior_experiment(everyone, seniors)
    before = LeadFactory.create_batch(20)
    route_all()  # the rules are compiled and cached before the experiment starts
    started(experiment)
    during = LeadFactory.create_batch(40)
    route_all()
    experiment_stop(experiment_id=experiment.pk, actor=None)
    after = LeadFactory.create_batch(40)
    route_all()

    teams = team_names([lead.pk for lead in before + during + after])
    assert {teams[lead.pk] for lead in before} == {"Everyone"}
    assert {teams[lead.pk] for lead in during} == {"Everyone", "Seniors"}
    assert {teams[lead.pk] for lead in after} == {"Everyone"}
    assert not RoutingDecision.objects.filter(lead__in=after).exclude(experiment=None).exists()
    assert "Experiment" not in RoutingDecision.objects.filter(lead=after[0]).get().explained


def test_the_explanation_names_the_experiment_the_group_and_the_rule_that_placed_the_lead(everyone, seniors):
    experiment = started(senior_experiment(everyone, seniors))
    LeadFactory.create_batch(20)
    route_all()

    test_decision = RoutingDecision.objects.filter(experiment_group=Group.TEST).first()
    assert ("Experiment 'Senior reps for enterprise' (test group, 50%): placed by rule 'Senior pool'."
            in test_decision.explained)
    assert "Candidates: team Seniors" in test_decision.explained
    assert f"Chosen: {test_decision.chosen_rep.name} by rule 'Enterprise'." in test_decision.explained
    control_decision = RoutingDecision.objects.filter(experiment=experiment, experiment_group=Group.CONTROL).first()
    assert ("Experiment 'Senior reps for enterprise' (control group, 50%): placed by rule 'Enterprise'."
            in control_decision.explained)


def test_the_audit_gives_each_group_its_own_share(everyone, seniors):
    started(senior_experiment(everyone, seniors, share=20))
    LeadFactory.create_batch(30)
    route_all()
    assert "(test group, 20%)" in RoutingDecision.objects.filter(experiment_group=Group.TEST).first().explained
    assert "(control group, 80%)" in RoutingDecision.objects.filter(experiment_group=Group.CONTROL).first().explained


def test_when_nobody_in_the_variant_is_eligible_the_control_rules_queue_applies(everyone):
    empty = TeamFactory(name="Nobody here")
    overflow = PoolFactory(name="Overflow")
    experiment = started(senior_experiment(everyone, empty))
    RoutingRule.objects.filter(pk=experiment.control_rule_id).update(
        when_none_eligible=RoutingRule.WhenNoneEligible.QUEUE, pool=overflow)
    RoutingRuleFactory(name="Catch all", target_team=everyone)
    LeadFactory.create_batch(30)

    route_all()

    test_leads = Lead.objects.filter(decisions__experiment_group=Group.TEST)
    assert test_leads.exists()
    assert set(test_leads.values_list("pool__name", "owner")) == {("Overflow", None)}
    assert "nobody eligible: waiting in pool Overflow" in RoutingDecision.objects.filter(
        experiment_group=Group.TEST).first().explained


def test_when_nobody_in_the_variant_is_eligible_the_lead_tries_the_next_rule_and_stays_in_its_group(everyone):
    empty = TeamFactory(name="Nobody here")
    experiment = started(senior_experiment(everyone, empty))
    RoutingRuleFactory(name="Catch all", target_type=Target.REP, target_rep=rep_named("Carla"))
    LeadFactory.create_batch(30)

    route_all()

    test_decisions = RoutingDecision.objects.filter(experiment=experiment, experiment_group=Group.TEST)
    assert test_decisions.exists()
    assert {d.rule.name for d in test_decisions} == {"Catch all"}
    assert {d.chosen_rep.name for d in test_decisions} == {"Carla"}
    assert "nobody eligible: trying the next rule" in test_decisions.first().explained


def test_a_variant_sending_leads_to_a_pool_places_the_test_group_there(everyone):
    variant_pool = PoolFactory(name="Senior pool")
    experiment = started(senior_experiment(everyone, None, target_type=Target.POOL, pool=variant_pool))
    LeadFactory.create_batch(30)
    route_all()
    test_leads = Lead.objects.filter(decisions__experiment=experiment, decisions__experiment_group=Group.TEST)
    assert test_leads.exists() and set(test_leads.values_list("pool__name", flat=True)) == {"Senior pool"}


def test_an_active_variant_rule_shares_one_rotation_between_its_own_leads_and_the_test_group(everyone, seniors):
    experiment = senior_experiment(everyone, seniors)
    # Active and above the control: leads from FR go to it by its own conditions, the others meet the experiment.
    RoutingRule.objects.filter(pk=experiment.variant_rule_id).update(is_active=True, priority=1)
    started(experiment)
    leads = [LeadFactory(country="FR" if i % 3 == 0 else "DE") for i in range(60)]
    route_all()
    seniors_leads = Lead.objects.filter(pk__in=[lead.pk for lead in leads], owner__teams__name="Seniors")
    counts = Counter(seniors_leads.values_list("owner__user__first_name", flat=True))
    assert counts["Sara"] + counts["Sven"] > 20 and abs(counts["Sara"] - counts["Sven"]) <= 1


def test_a_running_experiment_costs_no_statement_per_lead(everyone, seniors, settings):
    settings.ROUTING_LEADS_PER_TRANSACTION = 50
    experiment = started(senior_experiment(everyone, seniors))
    LeadFactory.create_batch(20)
    route_all()  # rules and experiments compiled, rotation state of both rules created
    assert set(groups_by_lead(experiment).values()) == {Group.CONTROL, Group.TEST}

    assert statements_to_route(50) == statements_to_route(10)


# --- Starting, stopping, the winner -------------------------------------------------------

def test_the_database_allows_one_running_experiment_per_control_rule(everyone, seniors):
    first = started(senior_experiment(everyone, seniors))
    second = RoutingExperimentFactory(control_rule=first.control_rule, variant_rule=first.variant_rule)
    second.status = Status.RUNNING
    with pytest.raises(IntegrityError), transaction.atomic():
        second.save()


def test_a_second_experiment_on_a_rule_is_refused_naming_the_one_that_runs(everyone, seniors):
    first = started(senior_experiment(everyone, seniors))
    second = RoutingExperimentFactory(name="Weighted seniors", control_rule=first.control_rule,
                                      variant_rule=first.variant_rule)
    with pytest.raises(ValidationError) as refused:
        experiment_start(experiment_id=second.pk, actor=None)
    assert refused.value.messages == [
        "Rule 'Enterprise' already runs the experiment 'Senior reps for enterprise'. "
        "Stop it before starting 'Weighted seniors'."]
    second.refresh_from_db()
    assert second.status == Status.DRAFT


def test_an_experiment_on_an_inactive_rule_cannot_start(everyone, seniors):
    experiment = senior_experiment(everyone, seniors)
    RoutingRule.objects.filter(pk=experiment.control_rule_id).update(is_active=False)
    with pytest.raises(ValidationError) as refused:
        experiment_start(experiment_id=experiment.pk, actor=None)
    assert "Rule 'Enterprise' is inactive, so no lead would join the experiment" in " ".join(refused.value.messages)


def test_a_stopped_experiment_cannot_start_again_nor_be_stopped_twice(everyone, seniors, manager):
    experiment = started(senior_experiment(everyone, seniors), by=manager)
    assert experiment.started_by == manager and experiment.started_at is not None
    experiment_stop(experiment_id=experiment.pk, actor=manager)
    with pytest.raises(ValidationError, match=r"\(Stopped\) cannot start again: only a draft experiment can start"):
        experiment_start(experiment_id=experiment.pk, actor=manager)
    with pytest.raises(ValidationError, match=r"\(Stopped\) is not running: there is nothing to stop"):
        experiment_stop(experiment_id=experiment.pk, actor=manager)


def test_making_the_variant_the_default_gives_the_control_rule_its_target_and_ends_the_experiment(
        everyone, seniors, manager):
    experiment = started(senior_experiment(everyone, seniors, strategy=Strategy.LEAST_LOADED))
    pricing = SkillFactory(name="Pricing")
    for rep in seniors.members.all():
        RepSkillFactory(rep=rep, skill=pricing, level=4)
    RuleSkillRequirementFactory(rule=experiment.variant_rule, skill=pricing, min_level=3)

    experiment_make_variant_default(experiment_id=experiment.pk, actor=manager)

    control = RoutingRule.objects.get(pk=experiment.control_rule_id)
    assert (control.target_type, control.target_team, control.strategy) == (Target.TEAM, seniors, Strategy.LEAST_LOADED)
    assert control.is_active and control.name == "Enterprise"
    assert [(r.skill.name, r.min_level) for r in control.skill_requirements.all()] == [("Pricing", 3)]
    experiment.refresh_from_db()
    assert experiment.status == Status.WINNER_CHOSEN
    assert experiment.winner_chosen_by == manager and experiment.ended_by == manager
    assert experiment.ended_at == experiment.winner_chosen_at
    leads = LeadFactory.create_batch(10)
    route_all()
    assert set(team_names([lead.pk for lead in leads]).values()) == {"Seniors"}
    assert not RoutingDecision.objects.filter(lead__in=leads).exclude(experiment=None).exists()


def test_a_performance_variant_made_the_default_hands_on_how_it_counts_outcomes(everyone, seniors, manager):
    experiment = started(senior_experiment(everyone, seniors, strategy=Strategy.PERFORMANCE,
                                           performance_outcome_days=14, performance_new_rep_share=25))
    experiment_make_variant_default(experiment_id=experiment.pk, actor=manager)
    control = RoutingRule.objects.get(pk=experiment.control_rule_id)
    assert (control.strategy, control.performance_outcome_days, control.performance_new_rep_share) == (
        Strategy.PERFORMANCE, 14, 25)


def test_the_winner_of_a_stopped_experiment_keeps_when_it_was_stopped(everyone, seniors, manager):
    experiment = started(senior_experiment(everyone, seniors))
    experiment_stop(experiment_id=experiment.pk, actor=None)
    stopped_at = RoutingExperiment.objects.get(pk=experiment.pk).ended_at
    experiment_make_variant_default(experiment_id=experiment.pk, actor=manager)
    experiment.refresh_from_db()
    assert experiment.ended_at == stopped_at and experiment.winner_chosen_by == manager


def test_a_variant_whose_target_the_control_cannot_take_changes_nothing(everyone, manager):
    gone = TeamFactory(name="Left the company")
    experiment = started(senior_experiment(everyone, gone))
    with pytest.raises(ValidationError) as refused:
        experiment_make_variant_default(experiment_id=experiment.pk, actor=manager)
    assert "Rule 'Enterprise' cannot take the variant's target: Team Left the company has no active rep" in (
        " ".join(refused.value.messages))
    control = RoutingRule.objects.get(pk=experiment.control_rule_id)
    assert control.target_team == everyone
    assert RoutingExperiment.objects.get(pk=experiment.pk).status == Status.RUNNING


def test_a_draft_has_no_winner(everyone, seniors, manager):
    experiment = senior_experiment(everyone, seniors)
    with pytest.raises(ValidationError, match="has not started: only a running or stopped experiment can have"):
        experiment_make_variant_default(experiment_id=experiment.pk, actor=manager)


# --- Results ------------------------------------------------------------------------------

def test_the_z_test_matches_a_reference_computed_by_hand():
    # 120/1000 vs 150/1000. Pooled rate 270/2000 = 0.135; standard error sqrt(0.135 * 0.865 * (1/1000 + 1/1000))
    # = 0.0152823; z = 0.03 / 0.0152823 = 1.96305. Two-sided p = 2 * (1 - Phi(1.96305)) = 0.049640, by integrating
    # the normal density with Simpson's rule (no erf); a printed normal table gives about 0.0496 (Phi(1.96) = 0.9750).
    result = two_proportion_z_test(successes_a=120, trials_a=1000, successes_b=150, trials_b=1000)
    assert result.z == pytest.approx(1.96305, abs=1e-5)
    assert result.p_value == pytest.approx(0.049640, abs=1e-6)


def test_the_z_test_of_equal_rates_finds_no_difference():
    result = two_proportion_z_test(successes_a=30, trials_a=300, successes_b=10, trials_b=100)
    assert result.z == 0 and result.p_value == pytest.approx(1.0)


def test_the_z_test_needs_leads_and_some_variation():
    assert two_proportion_z_test(successes_a=0, trials_a=0, successes_b=3, trials_b=10) is None
    assert two_proportion_z_test(successes_a=0, trials_a=50, successes_b=0, trials_b=60) is None


def test_the_leads_needed_per_group_match_the_textbook_formula():
    # 12% vs 15%, alpha 0.05 two-sided, power 0.8: z = 1.959964 and 0.841621 (normal table);
    # n = (1.959964 * sqrt(2 * 0.135 * 0.865) + 0.841621 * sqrt(0.12 * 0.88 + 0.15 * 0.85))^2 / 0.03^2 = 2035.6.
    assert leads_per_group_needed(0.12, 0.15) == 2036
    assert leads_per_group_needed(0.2, 0.2) is None


def figures(group, leads, converted):
    return GroupFigures(group=group, share=50, rule=None, leads=leads, converted=converted)


@pytest.mark.parametrize(("control", "test", "sentence"), [
    ((1000, 110), (1000, 150),
     "Test converts better: 15.0% vs 11.0%, p = 0.008."),
    ((1000, 150), (1000, 110),
     "Control converts better: 15.0% vs 11.0%, p = 0.008."),
    ((1000, 120), (1000, 150),
     "Test converts better: 15.0% vs 12.0%, p = 0.050."),
    # 12% vs 15% needs 2036 leads per group (the test above); each group has 500: 1,536 more.
    ((500, 60), (500, 75),
     "Not significant yet (p = 0.17); about 1,536 more leads per group needed to detect this difference."),
    ((300, 30), (100, 10),
     "Not significant yet (p = 1.00): both groups convert at 10.0% so far."),
    ((5000, 600), (5000, 610),
     "Not significant yet (p = 0.76); about 412,399 more leads per group needed to detect this difference."),
    ((40, 0), (40, 0), "Nothing to compare yet: the two groups convert at 0.0% so far."),
    ((40, 4), (0, 0), "Not enough leads yet: both groups need leads before they can be compared."),
])
def test_the_verdict_says_in_a_sentence_what_a_manager_can_conclude(control, test, sentence):
    control, test = figures(Group.CONTROL, *control), figures(Group.TEST, *test)
    z_test = two_proportion_z_test(successes_a=control.converted, trials_a=control.leads,
                                   successes_b=test.converted, trials_b=test.leads)
    assert verdict(control, test, z_test) == sentence
