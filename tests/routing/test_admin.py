"""The routing rule admin: validation a manager can act on, and drag-and-drop priorities."""

import json

import pytest
from django.urls import reverse

from routing.models import RoutingConfigVersion, RoutingRule, RuleCondition
from tests.admin_support import SALES_MANAGERS, form_errors, formset_data, staff_user_in
from tests.factories import RepFactory, RepSkillFactory, RoutingRuleFactory, SkillFactory, TeamFactory

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:routing_routingrule_add")
CHANGELIST_URL = reverse("admin:routing_routingrule_changelist")
REORDER_URL = reverse("admin:routing_routingrule_sortable_update")


@pytest.fixture
def manager_client(client):
    client.force_login(staff_user_in(SALES_MANAGERS))
    return client


@pytest.fixture
def rep():
    return RepFactory()


def rule_form(*, conditions=(), skills=(), **fields):
    data = {
        "name": "Enterprise leads",
        "description": "",
        "is_active": "on",
        "priority": "",
        "target_type": "team",
        "target_rep": "",
        "target_team": "",
        "include_sub_teams": "on",
        "use_parent_account_owner": "on",
        "pool": "",
        "match_mode": "all",
        "strategy": "round_robin",
        "when_none_eligible": "fall_through",
        "performance_window_days": "90",
        "performance_outcome_days": "30",
        "performance_new_rep_share": "10",
        "sla_minutes": "",
        "sla_breach_action": "reroute",
        **formset_data("conditions", conditions),
        **formset_data("skill_requirements", skills),
    }
    data.update(fields)
    return data


def condition(field, operator, value):
    return {"field": field, "operator": operator, "value": value}


def post_refused(client, data):
    """Post the add form, check that it comes back with errors and saved nothing; return the errors."""
    response = client.post(ADD_URL, data)
    assert response.status_code == 200, "the form should come back with errors"
    assert not RoutingRule.objects.filter(name=data["name"]).exists()
    assert not RuleCondition.objects.exists()
    return response


def test_valid_rule_with_two_conditions_is_saved_last(manager_client, rep):
    RoutingRuleFactory(priority=40)
    data = rule_form(
        target_type="rep",
        target_rep=rep.pk,
        conditions=[condition("country", "in", "DE, AT, CH"), condition("score", "gte", "70")],
    )
    response = manager_client.post(ADD_URL, data)

    assert response.status_code == 302, form_errors(response)
    rule = RoutingRule.objects.get(name="Enterprise leads")
    assert rule.priority == 50
    assert sorted(rule.conditions.values_list("field", "operator", "value")) == [
        ("country", "in", "DE, AT, CH"),
        ("score", "gte", "70"),
    ]


def test_typed_priority_is_kept(manager_client, rep):
    RoutingRuleFactory(priority=40)
    manager_client.post(ADD_URL, rule_form(target_type="rep", target_rep=rep.pk, priority="15"))
    assert RoutingRule.objects.get(name="Enterprise leads").priority == 15


def test_invalid_regex_is_shown_next_to_the_condition(manager_client, rep):
    data = rule_form(target_type="rep", target_rep=rep.pk, conditions=[condition("email", "regex", "([a-")])
    response = post_refused(manager_client, data)
    row = response.context["inline_admin_formsets"][0].formset.forms[0]
    assert "This regular expression is invalid" in row.errors["value"][0]


def test_a_regex_that_could_stall_routing_is_refused_next_to_its_condition_with_why(manager_client, rep):
    conditions = [condition("country", "equals", "DE"), condition("email", "regex", r"^(\w+)@\1\.com$")]
    data = rule_form(target_type="rep", target_rep=rep.pk, conditions=conditions)
    rows = post_refused(manager_client, data).context["inline_admin_formsets"][0].formset.forms
    assert not rows[0].errors
    message = rows[1].errors["value"][0]
    assert message.startswith(r"This regular expression cannot be used (invalid escape sequence: \1)")
    assert "must run in linear time" in message


def test_unknown_condition_field_is_refused_with_the_fields_to_use(manager_client, rep):
    data = rule_form(target_type="rep", target_rep=rep.pk, conditions=[condition("colour", "equals", "red")])
    row = post_refused(manager_client, data).context["inline_admin_formsets"][0].formset.forms[0]
    assert "Unknown field 'colour'" in row.errors["field"][0]
    assert "attributes.<key>" in row.errors["field"][0]


def test_number_field_compared_with_text_is_refused(manager_client, rep):
    data = rule_form(target_type="rep", target_rep=rep.pk, conditions=[condition("score", "gt", "abc")])
    assert "score must be a number, got 'abc'" in form_errors(post_refused(manager_client, data))


def test_performance_settings_are_saved_from_the_form(manager_client, rep):
    data = rule_form(target_type="rep", target_rep=rep.pk, strategy="performance", performance_outcome_days="14",
                     performance_new_rep_share="25")
    response = manager_client.post(ADD_URL, data)
    assert response.status_code == 302, form_errors(response)
    rule = RoutingRule.objects.get(name="Enterprise leads")
    assert (rule.performance_outcome_days, rule.performance_new_rep_share) == (14, 25)


def test_a_new_reps_minimum_share_above_half_is_refused_next_to_the_field(manager_client, rep):
    data = rule_form(target_type="rep", target_rep=rep.pk, performance_new_rep_share="60",
                     performance_outcome_days="0")
    errors = post_refused(manager_client, data).context["adminform"].form.errors
    assert errors["performance_new_rep_share"] == ["Ensure this value is less than or equal to 50."]
    assert errors["performance_outcome_days"] == ["Ensure this value is greater than or equal to 1."]


def test_an_open_lead_wait_as_long_as_the_performance_window_is_refused(manager_client, rep):
    data = rule_form(target_type="rep", target_rep=rep.pk, strategy="performance", performance_window_days="30",
                     performance_outcome_days="30")
    errors = post_refused(manager_client, data).context["adminform"].form.errors
    assert "performance window (30 days)" in errors["performance_outcome_days"][0]


def test_rep_rule_without_a_rep_is_refused(manager_client):
    data = rule_form(target_type="rep", conditions=[condition("country", "equals", "DE")])
    response = post_refused(manager_client, data)
    assert response.context["adminform"].form.errors["target_rep"] == ["Choose the rep this rule assigns to."]


def test_duplicate_priority_names_the_other_rule(manager_client, rep):
    RoutingRuleFactory(name="Existing customers", priority=10)
    response = post_refused(manager_client, rule_form(target_type="rep", target_rep=rep.pk, priority="10"))
    assert "Rule 'Existing customers' already has priority 10" in response.context["adminform"].form.errors["priority"][0]


def test_team_without_active_reps_is_refused(manager_client):
    team = TeamFactory(name="Nobody home")
    response = post_refused(manager_client, rule_form(target_type="team", target_team=team.pk))
    assert "has no active rep" in form_errors(response)


def test_skills_rule_without_required_skills_is_refused(manager_client):
    response = post_refused(manager_client, rule_form(target_type="skills"))
    assert "add at least one required skill" in form_errors(response)


def test_skills_rule_that_no_rep_can_meet_is_refused(manager_client):
    german = SkillFactory(name="German")
    RepSkillFactory(skill=german, level=2)
    data = rule_form(target_type="skills", skills=[{"skill": german.pk, "min_level": "4"}])
    assert "No active rep has all of these skills" in form_errors(post_refused(manager_client, data))


def test_skills_rule_with_a_qualified_rep_is_saved(manager_client):
    german = SkillFactory(name="German")
    RepSkillFactory(skill=german, level=5)
    response = manager_client.post(
        ADD_URL, rule_form(target_type="skills", skills=[{"skill": german.pk, "min_level": "4"}])
    )
    assert response.status_code == 302, form_errors(response)
    assert RoutingRule.objects.get(name="Enterprise leads").skill_requirements.count() == 1


def test_condition_field_suggests_every_field_and_custom_attributes(manager_client):
    page = manager_client.get(ADD_URL).content.decode()
    assert 'list="id_conditions-0-field_choices"' in page
    assert '<datalist id="id_conditions-0-field_choices">' in page
    assert '<option value="score">number</option>' in page
    assert '<option value="attributes.">' in page


def test_changelist_offers_drag_handles_in_priority_order(manager_client):
    first, second = RoutingRuleFactory(priority=10), RoutingRuleFactory(priority=20)
    page = manager_client.get(CHANGELIST_URL).content.decode()
    assert f'class="drag handle" pk="{first.pk}" order="10"' in page
    assert page.index(f'pk="{first.pk}"') < page.index(f'pk="{second.pk}"')


def test_filtered_changelist_hides_drag_handles(manager_client):
    RoutingRuleFactory(priority=10)
    page = manager_client.get(CHANGELIST_URL, {"is_active__exact": "1"}).content.decode()
    assert "drag handle" not in page


def reorder(client, items):
    return client.post(REORDER_URL, json.dumps({"updatedItems": items}), content_type="application/json")


def test_dragging_a_rule_to_the_top_renumbers_and_tells_the_workers(manager_client):
    a, b, c = (RoutingRuleFactory(priority=p) for p in (10, 20, 30))
    RoutingConfigVersion.objects.update_or_create(pk=1, defaults={"version": 7})

    # What the sortable2 script posts after c is dropped above a.
    response = reorder(manager_client, [[c.pk, 10], [a.pk, 11], [b.pk, 12]])

    assert response.status_code == 200
    assert list(RoutingRule.objects.values_list("pk", flat=True)) == [c.pk, a.pk, b.pk]
    assert RoutingConfigVersion.objects.get(pk=1).version != 7


def test_reorder_that_would_duplicate_a_priority_is_refused_and_changes_nothing(manager_client):
    a, b = RoutingRuleFactory(priority=10), RoutingRuleFactory(priority=20)
    response = reorder(manager_client, [[a.pk, 20]])
    assert response.status_code == 400
    assert list(RoutingRule.objects.values_list("pk", "priority")) == [(a.pk, 10), (b.pk, 20)]


def test_rep_cannot_reorder_rules(client):
    from tests.admin_support import REPS

    client.force_login(staff_user_in(REPS))
    a, b = RoutingRuleFactory(priority=10), RoutingRuleFactory(priority=20)
    assert reorder(client, [[a.pk, 20], [b.pk, 10]]).status_code == 403
    assert RoutingRule.objects.get(pk=a.pk).priority == 10


def test_a_team_that_is_no_id_comes_back_as_a_form_error_not_a_server_error(manager_client):
    # Found by bench/fuzz_app.py: the autocomplete widget looked the submitted text up as an id.
    response = post_refused(manager_client, rule_form(target_team="abc", target_rep="' OR 1=1 --", pool="{}"))

    assert "Select a valid choice" in form_errors(response)
