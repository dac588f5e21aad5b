"""Routing configuration as a file: what the export holds, and what an import changes, refuses and keeps."""

import copy

import pytest

from leads.models import Lead
from reps.models import Skill, Territory
from routing.config_file import (
    RULE_KEYS,
    ConfigFileError,
    routing_config_export,
    routing_config_from_json,
    routing_config_import,
    routing_config_json,
)
from routing.models import Pool, RotationState, RoutingRule
from routing.services import route_pending_leads
from tests.factories import (
    LeadFactory,
    PoolFactory,
    RepSkillFactory,
    RoutingRuleFactory,
    RuleConditionFactory,
    RuleSkillRequirementFactory,
    SkillFactory,
    TeamFactory,
    TerritoryFactory,
    rep_named,
)

pytestmark = pytest.mark.django_db
Target, Strategy = RoutingRule.TargetType, RoutingRule.Strategy


@pytest.fixture
def organisation():
    """Reps, teams and skills: people data the file names but never creates."""
    dach = TeamFactory(name="DACH")
    anna, ben = rep_named("Anna", teams=[dach]), rep_named("Ben", teams=[dach])
    german = SkillFactory(kind=Skill.Kind.LANGUAGE, name="German")
    RepSkillFactory(rep=anna, skill=german, level=4)
    return {"dach": dach, "anna": anna, "ben": ben, "german": german}


@pytest.fixture
def configuration(organisation):
    """A small but complete configuration: territories with a parent, a pool, active and inactive rules."""
    emea = TerritoryFactory(name="EMEA", countries=["DE", "FR"])
    bavaria = TerritoryFactory(name="Bavaria", parent=emea, countries=["DE"], postal_codes="80-87",
                               reps=[organisation["anna"]])
    bavaria.teams.add(organisation["dach"])
    pool = PoolFactory(name="Inbound pool")
    pool.teams.add(organisation["dach"])
    pool.reps.add(organisation["ben"])
    dach_enterprise = RoutingRuleFactory(name="DACH enterprise", priority=10, target_type=Target.TEAM,
                                         target_team=organisation["dach"], strategy=Strategy.WEIGHTED,
                                         sla_minutes=30)
    RuleConditionFactory(rule=dach_enterprise, field="country", operator="in", value="DE, AT, CH")
    RuleConditionFactory(rule=dach_enterprise, field="employee_count", operator="gte", value="1000")
    german_speakers = RoutingRuleFactory(name="German speakers", priority=20, target_type=Target.SKILLS,
                                         pool=pool, when_none_eligible=RoutingRule.WhenNoneEligible.QUEUE)
    RuleSkillRequirementFactory(rule=german_speakers, skill=organisation["german"], min_level=4)
    RoutingRuleFactory(name="Bavaria to Anna", priority=30, is_active=False, target_type=Target.REP,
                       target_rep=organisation["anna"])
    RuleConditionFactory(rule=RoutingRule.objects.get(name="Bavaria to Anna"), field="territory",
                         operator="in_territory", value="Bavaria")
    RoutingRuleFactory(name="Everyone else", priority=40, target_type=Target.POOL, pool=pool,
                       sla_breach_action=RoutingRule.SlaBreachAction.TEAM, sla_escalation_team=organisation["dach"])
    return routing_config_export()


def rule_in(config, name):
    return next(rule for rule in config["rules"] if rule["name"] == name)


def refused(data, **options) -> list:
    """Import `data`, expect it refused, check that nothing changed, and return the messages."""
    before = routing_config_json(routing_config_export())
    with pytest.raises(ConfigFileError) as error:
        routing_config_import(data, **options)
    assert routing_config_json(routing_config_export()) == before
    return error.value.messages


# --- Export -------------------------------------------------------------------------


def test_export_lists_every_rule_in_priority_order_with_conditions_skills_and_targets_by_name(configuration):
    assert [rule["name"] for rule in configuration["rules"]] == [
        "DACH enterprise", "German speakers", "Bavaria to Anna", "Everyone else"]
    dach = rule_in(configuration, "DACH enterprise")
    assert dach["conditions"] == [{"field": "country", "operator": "in", "value": "DE, AT, CH"},
                                  {"field": "employee_count", "operator": "gte", "value": "1000"}]
    assert (dach["target_team"], dach["strategy"], dach["sla_minutes"]) == ("DACH", "weighted", 30)
    assert rule_in(configuration, "German speakers")["skill_requirements"] == [
        {"kind": "language", "name": "German", "min_level": 4}]
    assert rule_in(configuration, "Bavaria to Anna")["is_active"] is False
    assert rule_in(configuration, "Bavaria to Anna")["target_rep"] == "anna"
    assert rule_in(configuration, "Everyone else")["sla_escalation_team"] == "DACH"


def test_export_holds_pools_and_territories_with_parents_and_members_by_name(configuration):
    assert configuration["pools"] == [{"name": "Inbound pool", "teams": ["DACH"], "reps": ["ben"]}]
    assert configuration["territories"] == [
        {"name": "Bavaria", "parent": "EMEA", "countries": ["DE"], "regions": "", "postal_codes": "80-87",
         "reps": ["anna"], "teams": ["DACH"]},
        {"name": "EMEA", "parent": None, "countries": ["DE", "FR"], "regions": "", "postal_codes": "",
         "reps": [], "teams": []},
    ]


def test_exported_text_is_indented_json_with_a_trailing_newline_and_no_database_ids(configuration):
    text = routing_config_json(configuration)
    assert text.startswith('{\n  "version": 1,\n  "territories": [\n    {\n      "name": "Bavaria",')
    assert text.endswith("}\n")
    assert '"id"' not in text and '"pk"' not in text
    assert routing_config_json(routing_config_export()) == text


# --- Round trip ---------------------------------------------------------------------


def test_importing_into_an_emptied_rule_table_recreates_the_same_rules(configuration):
    RoutingRule.objects.all().delete()
    Pool.objects.all().delete()

    report = routing_config_import(configuration)

    assert report.rules.created == ["DACH enterprise", "German speakers", "Bavaria to Anna", "Everyone else"]
    assert report.pools.created == ["Inbound pool"]
    assert routing_config_export() == configuration
    german_speakers = RoutingRule.objects.get(name="German speakers")
    assert german_speakers.pool.name == "Inbound pool"
    assert [(r.skill.name, r.min_level) for r in german_speakers.skill_requirements.all()] == [("German", 4)]
    assert list(RoutingRule.objects.values_list("name", flat=True)) == [rule["name"] for rule in configuration["rules"]]


def test_export_then_import_then_export_is_byte_identical(configuration):
    text = routing_config_json(configuration)
    RoutingRule.objects.all().delete()
    routing_config_import(routing_config_from_json(text.encode()))
    assert routing_config_json(routing_config_export()) == text


def test_importing_the_file_just_exported_changes_nothing(configuration):
    updated_at = list(RoutingRule.objects.values_list("updated_at", flat=True))

    report = routing_config_import(configuration)

    assert report.lines() == ["No changes: the configuration already matches the file."]
    assert report.rules.unchanged == [rule["name"] for rule in configuration["rules"]]
    assert list(RoutingRule.objects.values_list("updated_at", flat=True)) == updated_at


def test_a_lead_routed_after_the_import_follows_the_imported_rules(configuration, organisation):
    route_pending_leads(limit=100, worker="test")  # the workers have compiled the old rules
    changed = copy.deepcopy(configuration)
    dach = rule_in(changed, "DACH enterprise")
    dach.update(target_type="rep", target_rep="ben", conditions=[{"field": "country", "operator": "equals",
                                                                   "value": "AT"}])
    routing_config_import(changed)

    lead = LeadFactory(country="AT", employee_count=10)
    route_pending_leads(limit=100, worker="test")

    assert Lead.objects.get(pk=lead.pk).owner == organisation["ben"]


# --- What an import reports and changes -------------------------------------------------


def test_report_says_what_changed_in_each_updated_rule(configuration):
    changed = copy.deepcopy(configuration)
    rule_in(changed, "DACH enterprise").update(strategy="round_robin", sla_minutes=None)
    rule_in(changed, "DACH enterprise")["conditions"][1]["value"] = "500"

    report = routing_config_import(changed)

    assert report.rules.updated == {"DACH enterprise": [
        "conditions: country in DE, AT, CH; employee_count gte 1000 → country in DE, AT, CH; employee_count gte 500",
        'strategy: "weighted" → "round_robin"',
        "sla_minutes: 30 → null",
    ]}
    assert "  updated rule 'DACH enterprise':" in report.lines()
    rule = RoutingRule.objects.get(name="DACH enterprise")
    assert (rule.strategy, rule.sla_minutes) == ("round_robin", None)
    assert list(rule.conditions.values_list("value", flat=True)) == ["DE, AT, CH", "500"]


def test_dry_run_reports_the_changes_and_saves_nothing(configuration):
    changed = copy.deepcopy(configuration)
    rule_in(changed, "Everyone else")["is_active"] = False
    changed["rules"].append({"name": "Nurture the rest", "priority": 50, "target_type": "nurture"})

    before = routing_config_json(routing_config_export())
    report = routing_config_import(changed, dry_run=True)

    assert report.dry_run
    assert report.rules.created == ["Nurture the rest"]
    assert report.rules.updated == {"Everyone else": ["is_active: true → false"]}
    assert routing_config_json(routing_config_export()) == before


def test_keys_a_rule_leaves_out_take_the_admins_defaults(organisation):
    routing_config_import({"version": 1, "territories": [], "pools": [], "rules": [
        {"name": "Nurture", "priority": 10, "target_type": "nurture"}]})
    rule = RoutingRule.objects.get(name="Nurture")
    assert (rule.is_active, rule.strategy, rule.match_mode, rule.performance_window_days) == (
        True, "round_robin", "all", 90)


def test_performance_settings_go_out_and_come_back_with_the_rule(configuration):
    RoutingRule.objects.filter(name="DACH enterprise").update(performance_outcome_days=14, performance_new_rep_share=20)
    exported = rule_in(routing_config_export(), "DACH enterprise")
    assert (exported["performance_outcome_days"], exported["performance_new_rep_share"]) == (14, 20)

    exported.update(performance_outcome_days=21, performance_new_rep_share=0)
    report = routing_config_import({**routing_config_export(), "rules": [exported]})

    assert report.rules.updated == {"DACH enterprise": ["performance_outcome_days: 14 → 21",
                                                        "performance_new_rep_share: 20 → 0"]}
    rule = RoutingRule.objects.get(name="DACH enterprise")
    assert (rule.performance_outcome_days, rule.performance_new_rep_share) == (21, 0)


def test_a_file_written_before_the_performance_keys_existed_imports_with_their_defaults(configuration):
    older = copy.deepcopy(configuration)
    for rule in older["rules"]:
        del rule["performance_outcome_days"], rule["performance_new_rep_share"]

    assert not routing_config_import(older).has_changes
    RoutingRule.objects.all().delete()
    routing_config_import(older)
    assert set(RoutingRule.objects.values_list("performance_outcome_days", "performance_new_rep_share")) == {(30, 10)}


def test_a_minimum_share_above_half_is_refused_naming_the_rule_and_key(configuration):
    changed = copy.deepcopy(configuration)
    rule_in(changed, "DACH enterprise")["performance_new_rep_share"] = 60
    rule_in(changed, "Everyone else")["performance_outcome_days"] = 0

    assert refused(changed) == [
        "rule 'DACH enterprise', performance_new_rep_share: Ensure this value is less than or equal to 50.",
        "rule 'Everyone else', performance_outcome_days: Ensure this value is greater than or equal to 1.",
    ]


def test_two_rules_can_swap_priorities(configuration):
    changed = copy.deepcopy(configuration)
    first, second = changed["rules"][:2]
    first["priority"], second["priority"] = 20, 10
    changed["rules"][:2] = [second, first]

    routing_config_import(changed)

    assert list(RoutingRule.objects.values_list("name", flat=True))[:2] == ["German speakers", "DACH enterprise"]


def test_territories_and_pools_are_created_and_updated_by_name(configuration, organisation):
    changed = copy.deepcopy(configuration)
    changed["territories"].append({"name": "Munich", "parent": "Bavaria", "countries": ["DE"],
                                   "postal_codes": "80-81", "reps": ["ben"]})
    changed["pools"][0]["reps"] = ["anna", "ben"]

    report = routing_config_import(changed)

    assert report.territories.created == ["Munich"]
    assert report.pools.updated == {"Inbound pool": ["reps: ben → anna, ben"]}
    munich = Territory.objects.get(name="Munich")
    assert (munich.parent.name, list(munich.reps.all())) == ("Bavaria", [organisation["ben"]])
    assert set(Pool.objects.get(name="Inbound pool").reps.all()) == {organisation["anna"], organisation["ben"]}


# --- Fairness survives --------------------------------------------------------------


def test_rotation_of_an_unchanged_rule_survives_an_import():
    team = TeamFactory(name="Inside sales")
    anna, ben = rep_named("Anna", teams=[team]), rep_named("Ben", teams=[team])
    RoutingRuleFactory(name="Round robin", priority=10, target_team=team)
    RoutingRuleFactory(name="Unused", priority=20, target_team=team)
    first = LeadFactory()
    route_pending_leads(limit=100, worker="test")
    first_owner = Lead.objects.get(pk=first.pk).owner
    rotation = list(RotationState.objects.values_list("rep", "assigned_count", "last_assigned_seq"))

    changed = routing_config_export()
    rule_in(changed, "Unused")["description"] = "Edited in git"
    routing_config_import(changed)

    assert list(RotationState.objects.values_list("rep", "assigned_count", "last_assigned_seq")) == rotation
    second = LeadFactory()
    route_pending_leads(limit=100, worker="test")
    assert Lead.objects.get(pk=second.pk).owner == ({anna, ben} - {first_owner}).pop()


def test_rotation_of_an_updated_rule_survives_too():
    team = TeamFactory(name="Inside sales")
    anna, ben = rep_named("Anna", teams=[team]), rep_named("Ben", teams=[team])
    RoutingRuleFactory(name="Round robin", priority=10, target_team=team)
    first = LeadFactory()
    route_pending_leads(limit=100, worker="test")
    first_owner = Lead.objects.get(pk=first.pk).owner

    changed = routing_config_export()
    rule_in(changed, "Round robin")["sla_minutes"] = 15
    routing_config_import(changed)

    second = LeadFactory()
    route_pending_leads(limit=100, worker="test")
    assert Lead.objects.get(pk=second.pk).owner == ({anna, ben} - {first_owner}).pop()


# --- Deleting what the file leaves out ------------------------------------------------


def test_rules_pools_and_territories_the_file_leaves_out_are_kept_unless_asked(configuration):
    trimmed = copy.deepcopy(configuration)
    trimmed["rules"] = [rule for rule in trimmed["rules"] if rule["name"] != "Bavaria to Anna"]

    report = routing_config_import(trimmed)

    assert report.rules.deleted == []
    assert RoutingRule.objects.filter(name="Bavaria to Anna").exists()


def test_delete_missing_deletes_the_rules_pools_and_territories_the_file_leaves_out(configuration):
    PoolFactory(name="Old pool")
    TerritoryFactory(name="Old region", parent=Territory.objects.get(name="EMEA"))
    trimmed = copy.deepcopy(configuration)
    trimmed["rules"] = [rule for rule in trimmed["rules"] if rule["name"] != "Bavaria to Anna"]

    report = routing_config_import(trimmed, delete_missing=True)

    assert (report.rules.deleted, report.pools.deleted, report.territories.deleted) == (
        ["Bavaria to Anna"], ["Old pool"], ["Old region"])
    assert list(RoutingRule.objects.values_list("name", flat=True)) == [
        "DACH enterprise", "German speakers", "Everyone else"]
    assert not Pool.objects.filter(name="Old pool").exists()
    assert not Territory.objects.filter(name="Old region").exists()


def test_delete_missing_keeps_a_pool_where_leads_wait_and_says_why(configuration):
    waiting_room = PoolFactory(name="Waiting room")
    LeadFactory(pool=waiting_room, routing_requested_at=None)
    messages = refused(configuration, delete_missing=True)
    assert messages == ["pool 'Waiting room': is not in the file, but 1 leads wait in it: keep it in the file, or let "
                        "them be claimed first."]


def test_delete_missing_refuses_to_delete_a_territory_a_rule_tests(configuration):
    trimmed = copy.deepcopy(configuration)
    trimmed["territories"] = [t for t in trimmed["territories"] if t["name"] != "Bavaria"]
    messages = refused(trimmed, delete_missing=True)
    assert messages == ["rule 'Bavaria to Anna', condition 1, value: There is no territory named 'Bavaria'."]


def test_delete_missing_refuses_a_rule_naming_a_pool_the_file_leaves_out(configuration):
    trimmed = copy.deepcopy(configuration)
    trimmed["pools"] = []
    messages = refused(trimmed, delete_missing=True)
    assert "rule 'German speakers', pool: 'Inbound pool' is not in the file, so deleting what the file leaves out " \
           "would delete it: add it to the file, or name another." in messages


# --- Refused: references and rules the admin would refuse ---------------------------------


def test_unknown_username_is_refused_naming_the_rule_and_nothing_changes(configuration):
    changed = copy.deepcopy(configuration)
    rule_in(changed, "Bavaria to Anna")["target_rep"] = "jdoe"
    changed["rules"].append({"name": "New rule", "priority": 50, "target_type": "nurture"})
    assert refused(changed) == ["rule 'Bavaria to Anna', target_rep: no rep has the username 'jdoe'."]


@pytest.mark.parametrize(
    ("section", "edit", "message"),
    [
        ("rules", {"target_team": "Sales"}, "rule 'DACH enterprise', target_team: there is no team named 'Sales'."),
        ("rules", {"pool": "Outbound"}, "rule 'DACH enterprise', pool: there is no pool named 'Outbound'."),
        ("rules", {"skill_requirements": [{"kind": "language", "name": "Germn", "min_level": 3}]},
         "rule 'DACH enterprise', skill_requirements: there is no skill 'Germn' of kind 'language'."),
        ("pools", {"reps": ["ghost"]}, "pool 'Inbound pool', reps: no rep has the username 'ghost'."),
        ("territories", {"parent": "Europe"}, "territory 'Bavaria', parent: there is no territory named 'Europe'."),
        ("territories", {"teams": ["Sales"]}, "territory 'Bavaria', teams: there is no team named 'Sales'."),
    ],
)
def test_a_name_that_names_nothing_is_refused_with_where_it_is(configuration, section, edit, message):
    changed = copy.deepcopy(configuration)
    changed[section][0].update(edit)
    assert refused(changed) == [message]


def test_invalid_conditions_are_refused_with_the_rule_and_condition_number(configuration):
    changed = copy.deepcopy(configuration)
    rule_in(changed, "DACH enterprise")["conditions"][1] = {"field": "contry", "operator": "equals", "value": "DE"}
    rule_in(changed, "German speakers")["conditions"] = [{"field": "email", "operator": "regex", "value": "([a-"}]

    messages = refused(changed)

    assert messages[0].startswith("rule 'DACH enterprise', condition 2, field: Unknown field 'contry'. Use one of:")
    assert messages[1].startswith("rule 'German speakers', condition 1, value: This regular expression is invalid")
    assert len(messages) == 2


def test_a_regex_that_could_stall_routing_is_refused_with_the_rule_condition_and_reason(configuration):
    changed = copy.deepcopy(configuration)
    lookahead = {"field": "email", "operator": "regex", "value": "^(?!.*@gmail)"}
    rule_in(changed, "German speakers")["conditions"] = [lookahead]

    [message] = refused(changed)

    assert message.startswith("rule 'German speakers', condition 1, value: This regular expression cannot be used "
                              "(invalid perl operator: (?!)")
    assert "must run in linear time" in message


def test_rule_the_admin_would_refuse_is_refused_with_the_admins_message(configuration):
    TeamFactory(name="Nobody home")
    changed = copy.deepcopy(configuration)
    rule_in(changed, "DACH enterprise")["target_team"] = "Nobody home"
    rule_in(changed, "Bavaria to Anna")["target_rep"] = None
    rule_in(changed, "German speakers")["skill_requirements"][0]["min_level"] = 5
    rule_in(changed, "Everyone else")["strategy"] = "fastest"

    assert refused(changed) == [
        "rule 'Everyone else', strategy: Value 'fastest' is not a valid choice. Use one of: round_robin, weighted, "
        "least_loaded, performance.",
        "rule 'DACH enterprise', target_team: Team Nobody home has no active rep: no lead could be assigned. "
        "Add reps first.",
        "rule 'German speakers', skill_requirements: No active rep has all of these skills at these levels, so no "
        "lead could be assigned. Lower a minimum level or give the skills to reps first.",
        "rule 'Bavaria to Anna', target_rep: Choose the rep this rule assigns to.",
    ]


def test_priority_of_a_rule_the_file_leaves_out_is_refused_naming_that_rule(configuration):
    RoutingRuleFactory(name="Made in the admin", priority=15, target_type=Target.NURTURE)
    changed = copy.deepcopy(configuration)
    rule_in(changed, "German speakers")["priority"] = 15
    assert refused(changed) == ["rule 'German speakers', priority: Rule 'Made in the admin' already has priority 15; "
                                "give each rule its own."]


def test_two_rules_of_the_database_with_the_files_name_are_refused(configuration):
    RoutingRuleFactory(name="Everyone else", priority=99, target_type=Target.NURTURE)
    assert refused(configuration) == [
        "rule 'Everyone else': 2 rules in the database have this name, so the import cannot tell which one the file "
        "means: rename all but one in the admin, then import again."]


def test_territory_inside_itself_is_refused(configuration):
    changed = copy.deepcopy(configuration)
    changed["territories"][1]["parent"] = "Bavaria"  # EMEA under Bavaria, which is under EMEA
    assert refused(changed) == [
        "territory 'Bavaria', parent: a territory cannot be inside itself (Bavaria → EMEA → Bavaria).",
        "territory 'EMEA', parent: a territory cannot be inside itself (EMEA → Bavaria → EMEA).",
    ]


def test_territory_with_a_bad_postal_code_is_refused_with_the_models_message(configuration):
    changed = copy.deepcopy(configuration)
    changed["territories"][0]["postal_codes"] = "80, 8*"
    assert refused(changed) == ["territory 'Bavaria', postal_codes: 8* is not a postal prefix (letters and digits) "
                                "or a range such as 80000-89999."]


# --- Refused: malformed files --------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not json", "The file is not valid JSON: Expecting value (line 1, column 1)."),
        (b'{"version": 1,}', "The file is not valid JSON: Expecting property name enclosed in double quotes "
                             "(line 1, column 15)."),
        ("é".encode("latin-1"), "The file is not UTF-8 text: save it as UTF-8 JSON."),
        (b"[" * 100_000, "The file is not a routing configuration: it is nested too deeply."),
    ],
)
def test_a_file_that_is_not_json_is_refused_with_a_clear_message(content, message):
    with pytest.raises(ConfigFileError) as error:
        routing_config_from_json(content)
    assert error.value.messages == [message]


def minimal_file(**top):
    return {"version": 1, "territories": [], "pools": [], "rules": [], **top}


def nurture(name="Nurture", priority=10, **fields):
    return {"name": name, "priority": priority, "target_type": "nurture", **fields}


@pytest.mark.parametrize(
    ("data", "messages"),
    [
        ([], ["The file must hold one JSON object with version, territories, pools and rules; it holds []."]),
        ({"rules": []}, ['The file has no "version": a routing configuration file starts with "version": 1.']),
        (minimal_file(version=2), ["The file is version 2; this leadrouting reads version 1 files."]),
        (minimal_file(version="1"), ['The file is version "1"; this leadrouting reads version 1 files.']),
        ({"version": 1, "pools": [], "rules": []},
         ['The file needs "territories": a list (write [] for none), got nothing.']),
        (minimal_file(rules={}), ['The file needs "rules": a list (write [] for none), got {}.']),
        (minimal_file(comment="x"), ["unknown key 'comment' at the top of the file; use: version, territories, "
                                     "pools, rules."]),
        (minimal_file(rules=["x"]), ['rule 1: expected an object {...}, got "x".']),
        (minimal_file(rules=[{"priority": 1}]), ["rule 1, name: missing: it is required."]),
        (minimal_file(rules=[{"name": "A"}]), ["rule 'A', priority: missing: it is required."]),
        (minimal_file(rules=[nurture(priority="10")]), ['rule \'Nurture\', priority: expected a whole number, '
                                                        'got "10".']),
        (minimal_file(rules=[nurture(priority=1.5)]), ["rule 'Nurture', priority: expected a whole number, got 1.5."]),
        (minimal_file(rules=[nurture(is_active="yes")]), ['rule \'Nurture\', is_active: expected true or false, '
                                                          'got "yes".']),
        (minimal_file(rules=[nurture(target_rep=7)]), ["rule 'Nurture', target_rep: expected text or null, got 7."]),
        (minimal_file(rules=[nurture(stratgy="weighted")]), [
            "rule 'Nurture': unknown key 'stratgy'; use: " + ", ".join(RULE_KEYS) + "."]),
        (minimal_file(rules=[nurture(name="Nul\x00")]), ["rule 1, name: contains a NUL character; remove it."]),
        (minimal_file(rules=[nurture(conditions=[{"field": "country", "operatr": "equals"}])]),
         ["rule 'Nurture', condition 1: unknown key 'operatr'; use: field, operator, value."]),
        (minimal_file(rules=[nurture(conditions="country = DE")]),
         ['rule \'Nurture\', conditions: expected a list, got "country = DE".']),
        (minimal_file(rules=[nurture(skill_requirements=[{"kind": "language", "name": "German"}] * 2)]),
         ["rule 'Nurture', skill requirement 2: skill 'German' of kind 'language' is listed twice."]),
        (minimal_file(rules=[nurture("A", 10), nurture("A", 20)]),
         ["rule 'A' appears more than once in the file; names must be unique: the import finds each one by its name."]),
        (minimal_file(rules=[nurture("A", 10), nurture("B", 10)]),
         ["rule 'B', priority: 10 is also the priority of rule 'A'; give each rule its own."]),
        (minimal_file(rules=[nurture("A", 20), nurture("B", 10)]),
         ["rule 'B' (priority 10) is listed after rule 'A' (priority 20): list the rules in priority order, "
          "lowest first."]),
        (minimal_file(pools=[{"name": "P", "reps": "anna"}]), ['pool \'P\', reps: expected a list, got "anna".']),
        (minimal_file(territories=[{"name": "T", "countries": [1]}]),
         ["territory 'T', countries: expected a list of names (text), got [1]."]),
    ],
)
def test_a_malformed_file_is_refused_with_where_and_what(configuration, data, messages):
    assert refused(data) == messages


def test_every_problem_of_a_file_is_reported_at_once(configuration):
    changed = copy.deepcopy(configuration)
    rule_in(changed, "DACH enterprise")["target_team"] = "Sales"
    rule_in(changed, "Bavaria to Anna")["target_rep"] = "jdoe"
    changed["pools"][0]["teams"] = ["Marketing"]
    assert len(refused(changed)) == 3
