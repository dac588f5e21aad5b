"""Assignments written before causes were data get a cause from their kind and reason, and read as they were written."""

import datetime as dt
import importlib

import pytest
from django.apps import apps

from routing.models import Assignment
from routing.dashboard_figures import dashboard
from tests.factories import AssignmentFactory, RoutingRuleFactory

pytestmark = pytest.mark.django_db
migration = importlib.import_module("routing.migrations.0009_assignment_cause_from_reason")


def old_assignment(kind, reason, **fields):
    assignment = AssignmentFactory(kind=kind, reason=reason, **fields)
    Assignment.objects.filter(pk=assignment.pk).update(cause={})
    return assignment


def test_old_reasons_become_causes_where_the_text_says_so_unambiguously():
    rule = RoutingRuleFactory(name="Everyone")
    routed = old_assignment("initial", "Rule 'Everyone'", rule=rule)
    breach = old_assignment("reassign", "SLA breach: not contacted within 30 minutes")
    escalated = old_assignment("reassign", "SLA breach: not contacted within 30 minutes: escalated to a manager")
    left = old_assignment("reassign", "rep deactivated")
    moved = old_assignment("manual", "Speaks Portuguese")
    claimed = old_assignment("claim", "Claimed from pool 'Self-serve'")

    migration.forwards(apps, None)

    causes = dict(Assignment.objects.values_list("pk", "cause"))
    assert causes[routed.pk] == {"code": "rule", "params": {"rule_id": rule.pk, "rule": "Everyone"}}
    assert causes[breach.pk]["code"] == "sla_breach" and causes[escalated.pk]["code"] == "escalation"
    assert causes[left.pk] == {"code": "rep_deactivated", "params": {}}
    assert causes[moved.pk] == {"code": "manual", "params": {"note": "Speaks Portuguese"}}
    assert causes[claimed.pk]["code"] == "claim"
    for assignment in Assignment.objects.exclude(kind="initial"):
        assert assignment.reason_for_reader == assignment.reason  # old rows read as they were written
    board = dashboard(scope=None, first_day=dt.date(2000, 1, 1), now=dt.datetime.now(dt.UTC))
    assert board.sla_reassigned == 2
