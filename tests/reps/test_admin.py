"""The organisation admin: calendars, reps and territories as a sales manager edits them."""

import pytest
from django.urls import reverse

from reps.models import AvailabilityCalendar, Rep, Territory, WorkingHours
from tests.admin_support import form_errors, formset_data
from tests.factories import AvailabilityCalendarFactory, RepFactory, UserFactory, WorkingHoursFactory, sales_manager

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
