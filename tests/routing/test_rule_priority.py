"""Each rule has a priority of its own: PostgreSQL holds the rule, and a clash reaches the manager as a message."""

import threading

import psycopg
import pytest
from django.db import connection, transaction
from django.urls import reverse

from routing.config_file import ConfigFileError, routing_config_export, routing_config_import
from routing.models import RoutingRule
from tests.admin_support import form_errors, formset_data
from tests.factories import RoutingRuleFactory

# Two real connections: each must see what the other committed.
pytestmark = pytest.mark.django_db(transaction=True)
NURTURE = RoutingRule.TargetType.NURTURE


@pytest.fixture
def other_connection():
    """A second session on the test database, as another manager's request would be."""
    settings = connection.settings_dict
    other = psycopg.connect(host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"],
                            password=settings["PASSWORD"] or None, dbname=settings["NAME"])
    yield other
    other.close()


def commit_later(other, seconds=0.5):
    """Commits the other session while this one waits for it (PostgreSQL makes it wait on the clash)."""
    timer = threading.Timer(seconds, other.commit)
    timer.start()
    return timer


def test_two_transactions_giving_two_rules_one_priority_cannot_both_commit(other_connection):
    first, second = RoutingRuleFactory(priority=10, target_type=NURTURE), RoutingRuleFactory(priority=20,
                                                                                               target_type=NURTURE)
    outcome = {}

    def give_the_second_rule_priority_30():
        try:
            other_connection.execute("SET CONSTRAINTS ALL IMMEDIATE")  # checked as it writes: waits for us
            other_connection.execute("UPDATE routing_routingrule SET priority = 30 WHERE id = %s", [second.pk])
            other_connection.commit()
            outcome["other"] = "committed"
        except psycopg.errors.UniqueViolation:
            other_connection.rollback()
            outcome["other"] = "refused"

    with transaction.atomic():
        RoutingRule.objects.filter(pk=first.pk).update(priority=30)
        other = threading.Thread(target=give_the_second_rule_priority_30)
        other.start()
        other.join(0.5)  # in flight at the same time as this transaction
    other.join()

    assert outcome == {"other": "refused"}
    assert dict(RoutingRule.objects.values_list("pk", "priority")) == {first.pk: 30, second.pk: 20}


def test_renumbering_rules_through_a_shared_priority_in_one_transaction_is_allowed():
    first, second = RoutingRuleFactory(priority=10, target_type=NURTURE), RoutingRuleFactory(priority=20,
                                                                                               target_type=NURTURE)
    with transaction.atomic():
        RoutingRule.objects.filter(pk=first.pk).update(priority=20)  # shares 20 until the next line
        RoutingRule.objects.filter(pk=second.pk).update(priority=10)
    assert dict(RoutingRule.objects.values_list("pk", "priority")) == {first.pk: 20, second.pk: 10}


def test_a_rule_added_in_the_admin_as_another_takes_its_priority_comes_back_with_the_form_error(
        admin_client, other_connection):
    taken = RoutingRuleFactory(name="Partners", priority=20, target_type=NURTURE)
    other_connection.execute("UPDATE routing_routingrule SET priority = 30 WHERE id = %s", [taken.pk])
    form = {"name": "Enterprise", "description": "", "is_active": "on", "priority": "30", "target_type": "nurture",
            "match_mode": "all", "strategy": "round_robin", "when_none_eligible": "fall_through",
            "performance_window_days": "90", "performance_outcome_days": "30", "performance_new_rep_share": "10",
            "sla_breach_action": "reroute", **formset_data("conditions", []), **formset_data("skill_requirements", [])}

    # The form is checked while Partners still has 20 (the move to 30 is not committed); saving waits for it.
    timer = commit_later(other_connection)
    response = admin_client.post(reverse("admin:routing_routingrule_add"), form)
    timer.join()

    assert response.status_code == 200
    assert "Rule 'Partners' already has priority 30" in form_errors(response)
    assert not RoutingRule.objects.filter(name="Enterprise").exists()


def test_an_import_that_meets_a_priority_just_taken_in_the_admin_is_refused_with_a_message(other_connection):
    RoutingRuleFactory(name="Partners", priority=10, target_type=NURTURE)
    moved = RoutingRuleFactory(name="Everyone else", priority=20, target_type=NURTURE)
    config = routing_config_export()
    config["rules"][1]["priority"] = 30
    other_connection.execute("INSERT INTO routing_routingrule (priority, name, description, is_active, match_mode, "
                             "target_type, include_sub_teams, use_parent_account_owner, strategy, when_none_eligible,"
                             " performance_window_days, performance_outcome_days, performance_new_rep_share, "
                             "sla_breach_action, sla_working_time_only, rotation_seq, created_at, updated_at) VALUES "
                             "(30, 'Added meanwhile', '', true, 'all', 'nurture', true, true, 'round_robin', "
                             "'fall_through', 90, 30, 10, 'reroute', false, 0, now(), now())")

    timer = commit_later(other_connection)
    with pytest.raises(ConfigFileError) as error:
        routing_config_import(config)
    timer.join()

    # Writers of the configuration take turns (the version trigger locks one row): the import waits for the
    # other rule's commit, then its own check names it.
    assert error.value.messages == ["rule 'Everyone else', priority: Rule 'Added meanwhile' already has priority 30; "
                                    "give each rule its own."]
    assert RoutingRule.objects.get(pk=moved.pk).priority == 20
