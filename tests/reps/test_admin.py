"""The organisation admin: calendars, reps and territories as a sales manager edits them."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from leads.models import Lead
from reps.models import AvailabilityCalendar, Rep, RepStatusChange, Territory, WorkingHours
from routing.models import Assignment, RoutingRule
from routing.services import route_pending_leads
from tests.admin_support import form_errors, formset_data
from tests.factories import (
    AvailabilityCalendarFactory, LeadFactory, RepFactory, RoutingRuleFactory, TeamFactory, UserFactory,
    WorkingHoursFactory, rep_named, sales_manager,
)

pytestmark = pytest.mark.django_db

CALENDAR_ADD_URL = reverse("admin:reps_availabilitycalendar_add")
MONDAY, TUESDAY, SUNDAY = "0", "1", "6"


@pytest.fixture
def manager_client(client):
    client.force_login(sales_manager(is_staff=True, sees_every_team=True))
    return client


def shift(weekday, start, end, **extra):
    return {"weekday": weekday, "start": start, "end": end, **extra}


def calendar_form(shifts, initial=0, name="Berlin office"):
    return {
        "name": name,
        "time_zone": "Europe/Berlin",
        **formset_data("working_hours", shifts, initial=initial),
        **formset_data("holidays"),
    }


@pytest.mark.parametrize(
    "shifts",
    [
        pytest.param([shift(MONDAY, "09:00", "13:00"), shift(MONDAY, "12:00", "17:00")], id="same-day"),
        pytest.param([shift(MONDAY, "22:00", "06:00"), shift(TUESDAY, "05:00", "09:00")], id="overnight-into-next-day"),
        pytest.param([shift(SUNDAY, "22:00", "02:00"), shift(MONDAY, "01:00", "03:00")], id="sunday-night-into-monday"),
        pytest.param([shift(MONDAY, "09:00", "17:00"), shift(MONDAY, "09:00", "17:00")], id="twice-the-same"),
    ],
)
def test_overlapping_working_hours_are_refused_with_both_shifts_named(manager_client, shifts):
    response = manager_client.post(CALENDAR_ADD_URL, calendar_form(shifts))

    assert response.status_code == 200
    assert "overlaps" in form_errors(response) and "must not overlap" in form_errors(response)
    assert not AvailabilityCalendar.objects.exists()


def test_back_to_back_and_night_shifts_that_do_not_overlap_are_saved(manager_client):
    shifts = [
        shift(MONDAY, "09:00", "12:00"),
        shift(MONDAY, "12:00", "17:00"),
        shift(MONDAY, "22:00", "06:00"),
        shift(TUESDAY, "06:00", "10:00"),
    ]
    response = manager_client.post(CALENDAR_ADD_URL, calendar_form(shifts))

    assert response.status_code == 302, form_errors(response)
    assert WorkingHours.objects.count() == 4


def test_shift_without_length_is_refused(manager_client):
    response = manager_client.post(CALENDAR_ADD_URL, calendar_form([shift(MONDAY, "09:00", "09:00")]))
    assert "A shift needs a length" in form_errors(response)
    assert not AvailabilityCalendar.objects.exists()


def test_replacing_a_shift_in_one_save_is_not_an_overlap(manager_client):
    old = WorkingHoursFactory(weekday=0, start="09:00", end="17:00")
    rows = [
        shift(MONDAY, "09:00", "17:00", id=old.pk, calendar=old.calendar_id, DELETE="on"),
        shift(MONDAY, "10:00", "18:00"),
    ]
    url = reverse("admin:reps_availabilitycalendar_change", args=[old.calendar_id])
    response = manager_client.post(url, calendar_form(rows, initial=1, name=old.calendar.name))

    assert response.status_code == 302, form_errors(response)
    assert [str(hours) for hours in WorkingHours.objects.all()] == ["Monday 10:00–18:00"]


def test_single_shift_form_is_checked_against_the_calendar(manager_client):
    existing = WorkingHoursFactory(weekday=0, start="09:00", end="17:00")
    response = manager_client.post(
        reverse("admin:reps_workinghours_add"),
        {"calendar": existing.calendar_id, "weekday": MONDAY, "start": "16:00", "end": "20:00"},
    )
    assert "Monday 16:00–20:00 overlaps Monday 09:00–17:00" in form_errors(response)
    assert WorkingHours.objects.count() == 1


def rep_form(user, **fields):
    data = {
        "user": user.pk,
        "is_active": "on",
        "seniority": "mid",
        "teams": [],
        "weight": "1",
        "max_open_leads": "",
        "max_new_leads_per_day": "",
        "max_new_leads_per_hour": "",
        "status": "available",
        "away_until_0": "",
        "away_until_1": "",
        "time_zone": "Europe/Berlin",
        "calendar": "",
        **formset_data("skill_levels"),
        **formset_data("time_off"),
        **formset_data("status_changes"),
    }
    data.update(fields)
    return data


def test_rep_is_created_for_an_existing_user(manager_client):
    user = UserFactory(first_name="Giulia", last_name="Rossi")
    response = manager_client.post(reverse("admin:reps_rep_add"), rep_form(user))

    assert response.status_code == 302, form_errors(response)
    assert Rep.objects.get().user == user


def test_a_manager_setting_a_rep_away_in_the_admin_shows_in_the_rep_status_history(manager_client):
    rep = RepFactory(user=UserFactory(first_name="Giulia", last_name="Rossi"))
    data = rep_form(rep.user, status="away")
    response = manager_client.post(reverse("admin:reps_rep_change", args=[rep.pk]), data)
    assert response.status_code == 302, form_errors(response)

    page = manager_client.get(reverse("admin:reps_rep_change", args=[rep.pk])).content.decode()
    assert "Status history" in page
    change = rep.status_changes.get()
    assert (change.status, change.actor.is_staff) == (Rep.Status.AWAY, True)
    assert change.actor.get_username() in page


@pytest.fixture
def anna_with_a_lead():
    """Anna and Ben share a team; the rules routed one lead to Anna, who has not touched it yet."""
    team = TeamFactory(name="Sales")
    anna, ben = rep_named("Anna", teams=[team]), rep_named("Ben", teams=[team])
    RoutingRuleFactory(name="Everyone", target_team=team, strategy=RoutingRule.Strategy.ROUND_ROBIN)
    lead = LeadFactory()
    route_pending_leads(limit=10, worker="test")
    Lead.objects.filter(pk=lead.pk).update(owner=anna)
    Assignment.objects.filter(lead=lead).update(rep=anna)
    return {"team": team, "anna": anna, "ben": ben, "lead": lead}


def set_status_in_admin(client, rep, team, status, until=None):
    until = timezone.localtime(until) if until else None
    data = rep_form(rep.user, teams=[team.pk], status=status, away_until_0=until.strftime("%Y-%m-%d") if until else "",
                    away_until_1=until.strftime("%H:%M:%S") if until else "")
    return client.post(reverse("admin:reps_rep_change", args=[rep.pk]), data)


@pytest.mark.parametrize("reassign_when_away", [False, True], ids=["leads-stay", "leads-move"])
def test_setting_a_rep_away_in_the_admin_is_the_reps_own_away_switch(client, settings, anna_with_a_lead,
                                                                     reassign_when_away):
    settings.ROUTING_REASSIGN_WHEN_AWAY = reassign_when_away
    manager = sales_manager(is_staff=True, sees_every_team=True, username="lena")
    client.force_login(manager)
    anna, lead = anna_with_a_lead["anna"], anna_with_a_lead["lead"]
    until = (timezone.now() + dt.timedelta(days=2)).replace(microsecond=0)

    response = set_status_in_admin(client, anna, anna_with_a_lead["team"], "away", until)

    assert response.status_code == 302, form_errors(response)
    anna.refresh_from_db()
    assert (anna.status, anna.away_until) == (Rep.Status.AWAY, until)
    change = RepStatusChange.objects.get(rep=anna)
    assert (change.status, change.away_until, change.actor) == (Rep.Status.AWAY, until, manager)
    lead.refresh_from_db()
    if reassign_when_away:
        moved = Assignment.objects.get(lead=lead, is_current=True)
        assert (lead.owner, moved.kind, moved.reason, moved.actor) == (anna_with_a_lead["ben"],
                                                                      Assignment.Kind.REASSIGN, "rep away", manager)
    else:
        assert lead.owner == anna


def test_a_return_time_that_has_passed_is_refused_on_the_field_and_changes_nothing(client, anna_with_a_lead):
    client.force_login(sales_manager(is_staff=True, sees_every_team=True))
    anna = anna_with_a_lead["anna"]

    response = set_status_in_admin(client, anna, anna_with_a_lead["team"], "away",
                                   timezone.now() - dt.timedelta(hours=1))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["away_until"] == [
        "The return time has already passed; pick a later time or leave it empty."]
    anna.refresh_from_db()
    assert (anna.status, anna.away_until) == (Rep.Status.AVAILABLE, None)
    assert not RepStatusChange.objects.exists()


def test_setting_a_rep_available_in_the_admin_drops_the_return_time_and_records_who(client, anna_with_a_lead):
    manager = sales_manager(is_staff=True, sees_every_team=True)
    anna = anna_with_a_lead["anna"]
    until = (timezone.now() + dt.timedelta(days=2)).replace(microsecond=0)
    Rep.objects.filter(pk=anna.pk).update(status=Rep.Status.AWAY, away_until=until)
    client.force_login(manager)

    response = set_status_in_admin(client, anna, anna_with_a_lead["team"], "available", until)

    assert response.status_code == 302, form_errors(response)
    anna.refresh_from_db()
    assert (anna.status, anna.away_until) == (Rep.Status.AVAILABLE, None)
    change = RepStatusChange.objects.get(rep=anna)
    assert (change.status, change.away_until, change.actor) == (Rep.Status.AVAILABLE, None, manager)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"time_zone": "Mars/Olympus"}, "Mars/Olympus is not a known time zone"),
        ({"max_open_leads": "-1"}, "The open-lead limit cannot be negative"),
        ({"max_new_leads_per_hour": "-2"}, "The hourly limit cannot be negative"),
    ],
)
def test_rep_with_invalid_settings_is_refused_with_a_message(manager_client, fields, message):
    response = manager_client.post(reverse("admin:reps_rep_add"), rep_form(UserFactory(), **fields))
    assert message in form_errors(response)
    assert not Rep.objects.exists()


def test_rep_list_shows_the_users_name(manager_client):
    RepFactory(user=UserFactory(first_name="Giulia", last_name="Rossi"))
    assert "Giulia Rossi" in manager_client.get(reverse("admin:reps_rep_changelist")).content.decode()


def test_territory_with_an_invalid_postal_prefix_is_refused(manager_client):
    response = manager_client.post(
        reverse("admin:reps_territory_add"),
        {"name": "Bavaria", "countries": ["DE"], "regions": "BY", "postal_codes": "80, 81, 9$", "reps": [], "teams": []},
    )
    assert "9$ is not a postal prefix" in form_errors(response)
    assert not Territory.objects.exists()


def test_territory_is_saved_with_its_covering_reps(manager_client):
    rep = RepFactory()
    response = manager_client.post(
        reverse("admin:reps_territory_add"),
        {"name": "Bavaria", "countries": ["DE"], "postal_codes": "80000-87999", "reps": [rep.pk], "teams": []},
    )
    assert response.status_code == 302, form_errors(response)
    assert list(Territory.objects.get().reps.all()) == [rep]


def test_calendar_list_counts_its_reps(manager_client):
    calendar = AvailabilityCalendarFactory(name="Lisbon")
    RepFactory(calendar=calendar)
    RepFactory(calendar=calendar)
    changelist = manager_client.get(reverse("admin:reps_availabilitycalendar_changelist")).context["cl"]
    assert [(row.name, row.rep_count) for row in changelist.result_list] == [("Lisbon", 2)]
