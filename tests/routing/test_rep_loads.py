"""A rep's open leads are a counter the database keeps, whoever changes the lead; routing reads it, a command checks it."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads.models import Lead
from routing.models import RepLoad
from routing.services import route_pending_leads
from tests.factories import LeadFactory, RoutingRuleFactory, RuleConditionFactory, TeamFactory, rep_named

pytestmark = pytest.mark.django_db


def open_leads(rep) -> int:
    return RepLoad.objects.filter(rep=rep).values_list("open_leads", flat=True).first() or 0


def test_the_counter_follows_every_way_a_lead_changes():
    anna, ben = rep_named("Anna"), rep_named("Ben")
    first = LeadFactory(owner=anna, status=Lead.Status.ASSIGNED)
    second = LeadFactory()
    Lead.objects.filter(pk=second.pk).update(owner=anna, status=Lead.Status.CONTACTED)
    assert open_leads(anna) == 2

    Lead.objects.filter(pk=second.pk).update(status=Lead.Status.QUALIFIED)  # still open
    first.status = Lead.Status.CONVERTED
    first.save()
    assert open_leads(anna) == 1

    Lead.objects.filter(pk=second.pk).update(owner=ben)
    assert (open_leads(anna), open_leads(ben)) == (0, 1)

    with connection.cursor() as cursor:
        cursor.execute("UPDATE leads_lead SET status = 'assigned' WHERE id = %s", [first.pk])
    second.delete()
    assert (open_leads(anna), open_leads(ben)) == (1, 0)


def test_a_rep_at_the_open_lead_cap_is_skipped_whatever_history_they_have():
    team = TeamFactory(name="Sales")
    anna = rep_named("Anna", teams=[team], max_open_leads=2)
    ben = rep_named("Ben", teams=[team])
    LeadFactory.create_batch(5, owner=anna, status=Lead.Status.LOST, routing_requested_at=None)  # closed: not counted
    LeadFactory.create_batch(2, owner=anna, status=Lead.Status.CONTACTED, routing_requested_at=None)
    RoutingRuleFactory(target_team=team, strategy="least_loaded")
    lead = LeadFactory()

    route_pending_leads(limit=10, worker="test")

    lead.refresh_from_db()
    assert lead.owner == ben
    assert (open_leads(anna), open_leads(ben)) == (2, 1)


def test_check_loads_names_a_wrong_counter_and_fix_repairs_it(capsys):
    anna = rep_named("Anna")
    LeadFactory.create_batch(3, owner=anna, status=Lead.Status.ASSIGNED, routing_requested_at=None)
    RepLoad.objects.filter(rep=anna).update(open_leads=7)  # as after a restore of only part of the database

    with pytest.raises(CommandError, match="1 counter"):
        call_command("routing_check_loads")
    assert "Anna (rep %s): counter 7, counted 3" % anna.pk in capsys.readouterr().out

    call_command("routing_check_loads", "--fix")
    assert open_leads(anna) == 3
    call_command("routing_check_loads")
    assert "matches the count" in capsys.readouterr().out


REP_FACTS = ('FROM "reps_rep_teams"', 'FROM "reps_timeoff"', 'FROM "routing_repload"', 'FROM "routing_assignment"')


def rep_fact_reads(countries) -> int:
    """How many queries read reps, their time off or their loads while routing one lead from each country."""
    for country in countries:
        LeadFactory(country=country)
    with CaptureQueriesContext(connection) as queries:
        route_pending_leads(limit=len(countries), worker="test")
    assert not Lead.objects.filter(owner__isnull=True).exists()
    return sum(any(table in query["sql"] for table in REP_FACTS) for query in queries)


def test_a_batch_reads_its_reps_once_however_many_teams_the_rules_target():
    countries = ["DE", "FR", "IT", "ES", "PT"]
    for country in countries:
        team = TeamFactory(name=f"Sales {country}")
        rep_named(f"Rep{country}", teams=[team])
        rep_named(f"Other{country}", teams=[team])
        RuleConditionFactory(rule=RoutingRuleFactory(name=country, target_team=team), field="country", value=country)
    rep_fact_reads(countries)  # rules compiled, rotation states created
    # (A rep with a cap is counted again under their row lock when picked: once per rep, not per team.)

    assert rep_fact_reads(countries * 2) == rep_fact_reads(["DE"] * 10)
