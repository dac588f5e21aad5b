"""A worker keeps its teams' reps from batch to batch, and sees every change to them in the next batch, whoever writes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads.models import Lead
from routing.models import RosterVersion
from routing.roster import forget_roster
from routing.services import route_pending_leads
from tests.factories import AvailabilityCalendarFactory, LeadFactory, RoutingRuleFactory, TeamFactory, rep_named

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def a_worker_that_kept_nothing_yet():
    forget_roster()
    yield
    forget_roster()


def route(count):
    """Routes `count` new leads in one batch; the owners' first names in the leads' order."""
    leads = LeadFactory.create_batch(count)
    assert route_pending_leads(limit=count, worker="test") == count
    owners = dict(Lead.objects.filter(pk__in=[lead.pk for lead in leads]).values_list("pk", "owner__user__first_name"))
    return [owners[lead.pk] for lead in leads]


@pytest.fixture
def anna_and_ben():
    team = TeamFactory()
    reps = [rep_named(name, teams=[team]) for name in ("Anna", "Ben")]
    RoutingRuleFactory(target_team=team)
    assert route(2) == ["Anna", "Ben"]  # the worker has read and kept the team's reps
    return team, reps


def test_the_next_batch_reads_no_rep_when_none_changed(anna_and_ben):
    LeadFactory.create_batch(2)
    with CaptureQueriesContext(connection) as queries:
        route_pending_leads(limit=2, worker="test")
    assert not [q["sql"] for q in queries if 'FROM "reps_rep_teams"' in q["sql"]]
    assert [q["sql"] for q in queries if "routing_rosterversion" in q["sql"]]


def sql(statement, params):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_a_rep_deactivated_behind_the_app_s_back_gets_no_lead_in_the_next_batch(anna_and_ben):
    _team, (_anna, ben) = anna_and_ben
    sql("UPDATE reps_rep SET is_active = false WHERE id = %s", [ben.pk])
    assert route(3) == ["Anna"] * 3


def test_a_rep_added_to_the_team_gets_leads_from_the_next_batch(anna_and_ben):
    team, _ = anna_and_ben
    carla = rep_named("Carla")
    sql("INSERT INTO reps_rep_teams (rep_id, team_id) VALUES (%s, %s)", [carla.pk, team.pk])
    assert sorted(route(3)) == ["Anna", "Ben", "Carla"]


def test_a_renamed_user_is_named_so_in_the_next_batch_s_audit_trail(anna_and_ben):
    _team, (anna, _ben) = anna_and_ben
    sql("UPDATE auth_user SET first_name = 'Annabel' WHERE id = %s", [anna.user_id])
    lead = LeadFactory()
    route_pending_leads(limit=1, worker="test")
    assert lead.events.get(kind="routed").data["change"]["to"] == "Annabel"
    assert lead.decisions.get().trace["outcome"]["params"]["rep"] == "Annabel"


def test_a_limit_set_on_a_rep_counts_from_the_next_batch(anna_and_ben):
    _team, (anna, _ben) = anna_and_ben
    sql("UPDATE reps_rep SET max_open_leads = 1 WHERE id = %s", [anna.pk])  # she already holds one
    assert route(2) == ["Ben", "Ben"]


@pytest.mark.parametrize(
    "write",
    [
        "UPDATE reps_rep SET weight = weight WHERE id = %(rep)s",
        "DELETE FROM reps_rep_teams WHERE rep_id = %(rep)s",
        "UPDATE auth_user SET last_name = 'Schmidt' WHERE id = %(user)s",
        "UPDATE reps_availabilitycalendar SET time_zone = 'Europe/Berlin' WHERE id = %(calendar)s",
    ],
)
def test_every_write_to_what_a_worker_keeps_moves_the_roster_s_token(write):
    rep = rep_named("Anna", teams=[TeamFactory()], calendar=AvailabilityCalendarFactory())
    before = RosterVersion.objects.get().version
    sql(write, {"rep": rep.pk, "user": rep.user_id, "calendar": rep.calendar_id})
    assert RosterVersion.objects.get().version != before
