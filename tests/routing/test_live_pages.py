"""The pages a rep and a manager keep open: the queue a page at a time and its poll, the pool's search, the capacity board."""

import datetime as dt
import re

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from leads.models import Lead, LeadEvent
from reps.models import Rep
from routing import selectors
from routing.models import Assignment
from tests.factories import (
    AssignmentFactory, AvailabilityCalendarFactory, LeadFactory, PoolFactory, TeamFactory, TimeOffFactory,
    WorkingHoursFactory, rep_named, sales_manager,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)  # a Wednesday


def open_leads(rep, count, *, first_due=NOW):
    """`count` untouched leads of `rep`, due one minute apart: the first one is the most urgent."""
    return [LeadFactory(owner=rep, status=Lead.Status.ASSIGNED, routing_requested_at=None, first_name=f"Lead{n:02}",
                        last_name="Open", assigned_at=first_due - dt.timedelta(hours=1),
                        sla_due_at=first_due + dt.timedelta(minutes=n)) for n in range(count)]


def names(response):
    return [lead.first_name for lead in response.context["leads"]]


# --- The queue ---------------------------------------------------------------

def test_the_queue_shows_25_leads_a_page_most_urgent_first(client):
    anna = rep_named("Anna")
    open_leads(anna, 27)
    client.force_login(anna.user)

    first, second = client.get(reverse("routing:queue")), client.get(reverse("routing:queue"), {"page": 2})

    assert names(first) == [f"Lead{n:02}" for n in range(25)]
    assert names(second) == ["Lead25", "Lead26"]
    assert "27 open leads" in first.content.decode()
    assert "Page 2 of 2" in second.content.decode()


def test_a_contacted_lead_goes_below_the_untouched_ones(client):
    anna = rep_named("Anna")
    first, *_ = open_leads(anna, 3)
    first.status, first.first_touch_at = Lead.Status.CONTACTED, NOW
    first.save()
    client.force_login(anna.user)

    assert names(client.get(reverse("routing:queue"))) == ["Lead01", "Lead02", "Lead00"]


def test_a_page_of_the_queue_is_read_off_its_index():
    anna = rep_named("Anna")
    open_leads(anna, 3)
    query = selectors.rep_open_leads(anna)[:25]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # three rows: make the planner show which index it can use
        sql, params = query.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "lead_queue_order" in plan and "Sort" not in plan.split("SubPlan")[0]


def test_the_poll_returns_the_list_alone_and_tells_of_a_lead_that_arrived_since_the_page_opened(client):
    anna = rep_named("Anna")
    open_leads(anna, 2)
    client.force_login(anna.user)
    opened_at = timezone.now()
    LeadFactory(owner=anna, status=Lead.Status.ASSIGNED, routing_requested_at=None, first_name="Fresh",
                assigned_at=opened_at + dt.timedelta(seconds=1), sla_due_at=opened_at + dt.timedelta(hours=2))

    with time_machine.travel(opened_at + dt.timedelta(seconds=30)):
        response = client.get(reverse("routing:queue"), {"seen": opened_at.isoformat()}, **HTMX)

    html = response.content.decode()
    assert "<html" not in html and 'id="queue-live"' in html
    assert "1 new lead arrived since you opened this page." in html
    assert re.search(r'<span class="badge new">New</span>', html)
    assert "Fresh" in names(response)


def test_the_poll_asks_again_with_the_time_the_page_was_opened(client):
    anna = rep_named("Anna")
    client.force_login(anna.user)
    with time_machine.travel(NOW, tick=False):
        html = client.get(reverse("routing:queue")).content.decode()

    assert 'hx-trigger="every 20s"' in html
    assert "seen=2026-03-04T10%3A00%3A00%2B00%3A00" in html


def test_a_poll_with_a_garbled_time_shows_the_queue_without_a_notice(client):
    anna = rep_named("Anna")
    open_leads(anna, 1)
    client.force_login(anna.user)

    response = client.get(reverse("routing:queue"), {"seen": "yesterday-ish", "page": "x"}, **HTMX)

    assert response.status_code == 200
    assert names(response) == ["Lead00"] and "new lead" not in response.content.decode()


def test_each_action_is_named_with_its_lead_and_comes_back_to_its_card(client):
    anna = rep_named("Anna")
    first, second = open_leads(anna, 2)
    client.force_login(anna.user)
    html = client.get(reverse("routing:queue")).content.decode()

    assert f'<label for="note-{second.pk}">Note on {second}</label>' in html
    assert f'value="/queue/?page=1#lead-{second.pk}"' in html

    response = client.post(reverse("routing:lead_action", args=[first.pk, "contacted"]),
                           {"next": f"/queue/?page=1#lead-{first.pk}"})
    assert response.url == f"/queue/?page=1#lead-{first.pk}"
    client.post(reverse("routing:lead_action", args=[first.pk, "note"]), {"text": "Called back", "next": "/queue/"})
    assert LeadEvent.objects.get(kind=LeadEvent.Kind.NOTE).lead_id == first.pk


# --- The pool ----------------------------------------------------------------

@pytest.fixture
def pool_of_anna():
    anna = rep_named("Anna")
    pool, other = PoolFactory(name="Inbound"), PoolFactory(name="Partners")
    pool.reps.add(anna)
    other.reps.add(anna)
    return anna, pool, other


def waiting(pool, *, created_at=NOW, **fields):
    lead = LeadFactory(pool=pool, routing_requested_at=None, **fields)
    Lead.objects.filter(pk=lead.pk).update(created_at=created_at)
    return lead


def test_the_pool_shows_50_leads_a_page_longest_waiting_first(client, pool_of_anna):
    anna, pool, _ = pool_of_anna
    for n in range(52):
        waiting(pool, first_name=f"W{n:02}", created_at=NOW - dt.timedelta(minutes=60 - n))
    client.force_login(anna.user)

    first, second = client.get(reverse("routing:pool")), client.get(reverse("routing:pool"), {"page": 2})

    assert names(first) == [f"W{n:02}" for n in range(50)] and names(second) == ["W50", "W51"]
    assert "52 leads match." in first.content.decode()


def test_the_pool_searches_company_name_and_email(client, pool_of_anna):
    anna, pool, _ = pool_of_anna
    # Every searched field set: a random last name ("Hansen") would match "HANS" too.
    waiting(pool, first_name="Giulia", last_name="Bianchi", company="Bianchi SpA", email="g@bianchi.example")
    waiting(pool, first_name="Hans", last_name="Müller", company="Müller GmbH", email="hans@mueller.example")
    client.force_login(anna.user)

    def found(q):
        return names(client.get(reverse("routing:pool"), {"q": q}))

    assert (found("bianchi"), found("HANS"), found("mueller.example"), found("nobody")) == (
        ["Giulia"], ["Hans"], ["Hans"], [])
    assert "No waiting lead matches this search" in client.get(reverse("routing:pool"), {"q": "nobody"}).content.decode()


def test_the_pool_filters_by_pool_and_by_how_long_leads_wait(client, pool_of_anna):
    anna, pool, other = pool_of_anna
    waiting(pool, first_name="Old", created_at=NOW - dt.timedelta(hours=2))
    waiting(pool, first_name="Recent", created_at=NOW - dt.timedelta(minutes=5))
    waiting(other, first_name="Partner", created_at=NOW - dt.timedelta(minutes=20))
    client.force_login(anna.user)

    with time_machine.travel(NOW, tick=False):
        by_pool = names(client.get(reverse("routing:pool"), {"pool": other.pk}))
        over_15_minutes = names(client.get(reverse("routing:pool"), {"waiting": "15m"}))
        over_an_hour = names(client.get(reverse("routing:pool"), {"waiting": "1h"}))

    assert (by_pool, over_15_minutes, over_an_hour) == (["Partner"], ["Old", "Partner"], ["Old"])


def test_a_pool_the_rep_may_not_claim_from_is_refused_with_a_message_not_shown(client, pool_of_anna):
    anna, pool, _ = pool_of_anna
    foreign = PoolFactory(name="Foreign")
    waiting(foreign, first_name="Hidden")
    waiting(pool, first_name="Mine")
    client.force_login(anna.user)

    response = client.get(reverse("routing:pool"), {"pool": foreign.pk, "waiting": "forever"})

    assert response.status_code == 200
    assert names(response) == ["Mine"]
    html = response.content.decode()
    assert "Select a valid choice." in html and "Hidden" not in html


def test_each_pool_row_names_its_columns_for_the_phone_layout(client, pool_of_anna):
    anna, pool, _ = pool_of_anna
    lead = waiting(pool, first_name="Giulia", last_name="Bianchi", company="Bianchi SpA")
    client.force_login(anna.user)

    html = client.get(reverse("routing:pool")).content.decode()

    assert '<td data-label="Company">Bianchi SpA</td>' in html
    assert f'aria-label="Claim {lead}"' in html


# --- The capacity board ------------------------------------------------------

@pytest.fixture
def team_with_reps():
    team = TeamFactory(name="DACH")
    office = AvailabilityCalendarFactory(name="Berlin office", time_zone="Europe/Berlin")
    for weekday in range(5):
        WorkingHoursFactory(calendar=office, weekday=weekday, start=dt.time(9), end=dt.time(17))
    reps = {
        "Anna": rep_named("Anna", teams=[team], calendar=office, max_open_leads=10, max_new_leads_per_day=3,
                          max_new_leads_per_hour=2),
        "Ben": rep_named("Ben", teams=[team], calendar=office, status=Rep.Status.AWAY,
                         away_until=NOW + dt.timedelta(hours=2)),
        "Carla": rep_named("Carla", teams=[team], calendar=office),
        "Dora": rep_named("Dora", teams=[team], calendar=AvailabilityCalendarFactory(name="Night", time_zone="UTC")),
    }
    TimeOffFactory(rep=reps["Carla"], start=NOW - dt.timedelta(days=1), end=NOW + dt.timedelta(days=1))
    rep_named("Erik", teams=[TeamFactory(name="Nordics")])
    return team, reps


def board_rows(response):
    return {row.rep.name: row for row in response.context["rows"]}


def test_the_board_shows_each_rep_of_the_managers_teams_with_availability_load_and_next_available_time(
        client, team_with_reps):
    team, reps = team_with_reps
    for n in range(3):
        lead = LeadFactory(owner=reps["Anna"], status=Lead.Status.ASSIGNED, routing_requested_at=None)
        AssignmentFactory(lead=lead, rep=reps["Anna"])
    Assignment.objects.update(created_at=NOW - dt.timedelta(minutes=30))
    client.force_login(sales_manager(manages=[team]))

    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("routing:capacity"))

    rows = board_rows(response)
    assert sorted(rows) == ["Anna", "Ben", "Carla", "Dora"]  # Erik is in another team
    anna, ben, carla, dora = rows["Anna"], rows["Ben"], rows["Carla"], rows["Dora"]
    assert (anna.state, anna.open, anna.today, anna.hour, anna.at_cap) == ("available", 3, 3, 3, "daily_cap")
    assert (ben.state, ben.next_available_at) == ("away", NOW + dt.timedelta(hours=2))
    assert (carla.state, carla.next_available_at) == ("on_leave", NOW + dt.timedelta(days=1))
    # No working hours at all in Dora's calendar: out of hours, and no next time within the 14 days looked at.
    assert (dora.state, dora.next_available_at) == ("out_of_hours", None)
    html = response.content.decode()
    assert "3 of 3" in html and "at limit" in html and "not within 14 days" in html


def test_the_board_costs_the_same_queries_with_ten_reps_away_as_with_one(
        client, team_with_reps, django_assert_max_num_queries):
    """At night most reps are out of hours: their next available times are read together, not rep by rep."""
    from django.test.utils import CaptureQueriesContext

    team, reps = team_with_reps
    manager = sales_manager(manages=[team])
    client.force_login(manager)
    with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as few:
        client.get(reverse("routing:capacity"))
    office = reps["Anna"].calendar
    for n in range(10):
        away = rep_named(f"Away {n}", teams=[team], calendar=office, status=Rep.Status.AWAY,
                         away_until=NOW + dt.timedelta(hours=n + 1))
        TimeOffFactory(rep=away, start=NOW + dt.timedelta(hours=n + 1), end=NOW + dt.timedelta(hours=n + 2))

    with time_machine.travel(NOW, tick=False), django_assert_max_num_queries(len(few)):
        response = client.get(reverse("routing:capacity"))

    # Away until NOW + n + 1 hours, then on leave for an hour: free at NOW + n + 2 if that is in office hours (Berlin 09–17).
    rows = board_rows(response)
    assert rows["Away 3"].next_available_at == NOW + dt.timedelta(hours=5)  # 16:00 Berlin
    assert rows["Away 9"].next_available_at == NOW + dt.timedelta(hours=22)  # 22:00 Berlin is after hours: Thursday 09:00


def test_the_board_is_in_the_readers_language_with_its_numbers(client, team_with_reps):
    team, reps = team_with_reps
    Rep.objects.filter(pk=reps["Anna"].pk).update(max_open_leads=2500)
    client.force_login(sales_manager(manages=[team]))

    with time_machine.travel(NOW, tick=False):
        html = client.get(reverse("routing:capacity"), HTTP_ACCEPT_LANGUAGE="de").content.decode()

    assert "0 von 2.500" in html and "Im Urlaub" in html


def test_the_board_poll_returns_the_board_alone(client, team_with_reps):
    team, _ = team_with_reps
    client.force_login(sales_manager(manages=[team]))

    html = client.get(reverse("routing:capacity"), **HTMX).content.decode()

    assert "<html" not in html and 'id="capacity-live"' in html and 'hx-trigger="every 20s"' in html


def test_a_rep_who_is_no_manager_gets_no_board_and_no_link(client, team_with_reps):
    _, reps = team_with_reps
    client.force_login(reps["Anna"].user)

    assert client.get(reverse("routing:capacity")).status_code == 403
    assert reverse("routing:capacity") not in client.get(reverse("routing:queue")).content.decode()


def test_managers_find_the_board_in_the_navigation(client, team_with_reps):
    team, _ = team_with_reps
    client.force_login(sales_manager(manages=[team]))

    assert f'href="{reverse("routing:capacity")}"' in client.get(reverse("routing:dashboard")).content.decode()


def test_nothing_is_left_in_english_on_the_board_and_the_searched_pool_in_german(client, team_with_reps):
    from tests.test_i18n import english_msgids, text_pieces

    team, reps = team_with_reps
    anna, pool = reps["Anna"], PoolFactory(name="Inbound")
    pool.reps.add(anna)
    waiting(pool, first_name="Giulia")
    english = english_msgids()
    pages = [(sales_manager(manages=[team]), reverse("routing:capacity")),
             (anna.user, reverse("routing:pool") + "?q=zzz&waiting=1h"), (anna.user, reverse("routing:pool"))]

    for user, url in pages:
        client.force_login(user)
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="de")
        assert [piece for piece in text_pieces(response) if {piece, piece.rstrip(" *:")} & english] == [], url
