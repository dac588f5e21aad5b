"""Lead reads: the admin's lead search."""

import pytest
from django.db import connection

from leads.models import Lead
from leads.selectors import lead_search_q
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def olga(db):
    return LeadFactory(first_name="Olga", last_name="Berg", email="olga@kunde.example", company="Kunde AG")


def found(term) -> set:
    return set(Lead.objects.filter(lead_search_q(term)).values_list("email", flat=True))


def test_a_word_is_found_in_one_field_not_across_two(olga):
    # The search reads the four fields joined with spaces (one index); a word never spans two of them.
    assert found("olgaberg") == set()
    assert found("bergkunde") == set()
    assert found("Olga Berg") == found("kunde") == found("BERG") == {"olga@kunde.example"}


def test_a_word_search_reads_the_lead_search_index(olga):
    sql, params = Lead.objects.filter(lead_search_q("kunde")).order_by().values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        # One lead: the planner would rather read the table, or walk another index in order and filter each row.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "lead_search_trgm" in plan
