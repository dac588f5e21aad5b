"""Rows written through one JSON parameter (`leadrouting.row_writes`) hold exactly what Django's bulk writes hold."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leadrouting.row_writes import insert_rows, update_rows
from leads.models import Lead, LeadEvent
from reps.models import Rep
from tests.factories import LeadFactory, rep_named

pytestmark = pytest.mark.django_db

# Values that a careless encoding would change: quotes, backslashes, a JSON look-alike, accents and emoji,
# microseconds, a decimal with trailing zeros, a float, nested JSON with nulls and unicode keys.
AWKWARD = {
    "first_name": "O'Brien \\ \"quoted\"", "last_name": '{"not": "json"}', "company": "Zürich Ünïcode 🚀 Ltd",
    "deal_value": Decimal("1200.50"), "account_match_score": 0.1 + 0.2, "score": -7, "employee_count": 0,
    "attributes": {"plan": None, "ключ": ["a", 1, 2.5, True, {"deep": "ß"}], "empty": {}},
    "sla_due_at": dt.datetime(2026, 12, 3, 18, 0, 0, 123456, tzinfo=dt.UTC),
    "routing_requested_at": None, "status": Lead.Status.ASSIGNED,
}
COMPARED = [f.attname for f in Lead._meta.concrete_fields if f.attname not in ("id", "email")]


def stored(leads):
    return [Lead.objects.filter(pk=lead.pk).values(*COMPARED).get() for lead in leads]


@time_machine.travel(dt.datetime(2026, 12, 3, 17, 30, 0, 654321, tzinfo=dt.UTC), tick=False)
def test_inserted_rows_hold_what_bulk_create_writes_and_get_their_keys_in_order():
    owner = rep_named("Anna")
    new = [Lead(email=f"lead{i}@example.com", owner=owner, **{**AWKWARD, "score": i}) for i in range(60)]
    insert_rows(Lead, new)
    reference = [Lead(email=f"ref{i}@example.com", owner=owner, **{**AWKWARD, "score": i}) for i in range(60)]
    Lead.objects.bulk_create(reference)

    assert [lead.score for lead in Lead.objects.filter(pk__in=[lead.pk for lead in new]).order_by("pk")] == list(
        range(60))
    assert [Lead.objects.get(pk=lead.pk).email for lead in new] == [lead.email for lead in new]
    assert stored(new) == stored(reference)
    assert stored(new)[0]["attributes"] == AWKWARD["attributes"]
    assert stored(new)[0]["sla_due_at"] == AWKWARD["sla_due_at"]  # every digit of the microseconds
    assert all(not lead._state.adding for lead in new)


def test_a_batch_of_any_size_is_one_statement_with_one_parameter():
    lead = LeadFactory()
    events = [LeadEvent(lead=lead, kind=LeadEvent.Kind.ROUTED, message=f"event {i}", data={"i": i}) for i in range(50)]
    with CaptureQueriesContext(connection) as queries:
        insert_rows(LeadEvent, events)
    assert len(queries) == 1
    assert [e.data["i"] for e in LeadEvent.objects.filter(pk__in=[e.pk for e in events]).order_by("pk")] == list(
        range(50))


def test_updated_rows_hold_what_bulk_update_writes():
    anna, ben = rep_named("Anna"), rep_named("Ben")
    mine, reference = LeadFactory.create_batch(3), LeadFactory.create_batch(3)
    for leads in (mine, reference):
        for i, lead in enumerate(leads):
            lead.owner, lead.status = (anna, ben, None)[i], Lead.Status.CONTACTED
            lead.first_name, lead.attributes = AWKWARD["first_name"], {**AWKWARD["attributes"], "i": i}
            lead.deal_value, lead.sla_due_at = Decimal("0.10") * i, AWKWARD["sla_due_at"] + dt.timedelta(days=i)
    fields = ["owner_id", "status", "first_name", "attributes", "deal_value", "sla_due_at"]
    update_rows(Lead, mine, fields)
    Lead.objects.bulk_update(reference, fields)

    def written(leads):
        return [Lead.objects.filter(pk=lead.pk).values(*fields).get() for lead in leads]

    assert written(mine) == written(reference)
    assert written(mine)[1]["owner_id"] == ben.pk and written(mine)[2]["deal_value"] == Decimal("0.20")


def test_a_decimal_weight_is_written_to_the_cent():
    rep = rep_named("Anna")
    rep.weight = Decimal("2.35")
    update_rows(Rep, [rep], ["weight"])
    assert Rep.objects.get(pk=rep.pk).weight == Decimal("2.35")


def test_a_float_json_cannot_hold_is_written_all_the_same():
    owner = rep_named("Anna")
    lead = Lead(email="inf@example.com", owner=owner, account_match_score=float("inf"))
    insert_rows(Lead, [lead])
    assert Lead.objects.get(pk=lead.pk).account_match_score == float("inf")
    lead.account_match_score = float("-inf")
    update_rows(Lead, [lead], ["account_match_score"])
    assert Lead.objects.get(pk=lead.pk).account_match_score == float("-inf")
