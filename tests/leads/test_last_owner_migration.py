"""Leads routed before Lead.last_owner existed get it from their assignments: managers still see what reps left."""

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from leads.models import Lead
from routing.models import Assignment
from tests.factories import AssignmentFactory, LeadFactory, rep_named

pytestmark = pytest.mark.django_db
migration = importlib.import_module("leads.migrations.0012_lead_last_owner")


def test_each_lead_gets_the_rep_of_its_latest_assignment_and_a_lead_never_assigned_gets_none():
    anna, ben = rep_named("Anna"), rep_named("Ben")
    owned = LeadFactory(owner=ben, routing_requested_at=None)
    AssignmentFactory(lead=owned, rep=anna, is_current=False)
    AssignmentFactory(lead=owned, rep=ben)
    released = LeadFactory(routing_requested_at=None)
    AssignmentFactory(lead=released, rep=anna, is_current=False)
    never = LeadFactory(routing_requested_at=None)
    # The latest by time, as the team scope read it before, even where the ids say otherwise.
    reordered = LeadFactory(routing_requested_at=None)
    AssignmentFactory(lead=reordered, rep=ben, is_current=False)
    earlier = AssignmentFactory(lead=reordered, rep=anna)
    Assignment.objects.filter(pk=earlier.pk).update(created_at=timezone.now() - dt.timedelta(days=1))
    Lead.objects.update(last_owner=None)

    with connection.schema_editor() as editor:
        migration.backfill_last_owner(apps, editor)

    last_owners = dict(Lead.objects.values_list("pk", "last_owner_id"))
    assert [last_owners[lead.pk] for lead in (owned, released, never, reordered)] == [ben.pk, anna.pk, None, ben.pk]
