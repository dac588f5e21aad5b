import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from reps.availability import next_available_at, rep_unavailability, unavailability
from reps.models import Rep
from tests.factories import (
    AvailabilityCalendarFactory,
    HolidayFactory,
    RepFactory,
    TimeOffFactory,
    WorkingHoursFactory,
)

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
UTC = dt.UTC
WEEKDAYS = range(5)


def calendar_with(*shifts, time_zone="Europe/Berlin", name=None):
    """A calendar from (weekdays, "HH:MM", "HH:MM") shifts."""
    calendar = AvailabilityCalendarFactory(time_zone=time_zone, **({"name": name} if name else {}))
    for weekdays, start, end in shifts:
        for weekday in weekdays:
            WorkingHoursFactory(
                calendar=calendar, weekday=weekday, start=dt.time.fromisoformat(start), end=dt.time.fromisoformat(end)
            )
    return calendar


def office_rep(time_zone="Europe/Berlin", **kwargs):
    """A rep working Mon–Fri 09:00–17:00 in `time_zone`."""
    calendar = calendar_with((WEEKDAYS, "09:00", "17:00"), time_zone=time_zone)
    return RepFactory(calendar=calendar, time_zone=time_zone, **kwargs)


def local(zone, *args):
    return dt.datetime(*args, tzinfo=zone)


def said(reason) -> tuple:
    """(code, the text the trace's reader gets in English)."""
    return reason.code, reason.text


def code_at(rep, at):
    reason = rep_unavailability(rep, at)
    return reason.code if reason else None


# Working hours


def test_rep_inside_weekday_hours_is_available():
    rep = office_rep()
    assert rep_unavailability(rep, local(BERLIN, 2026, 6, 10, 10, 0)) is None


def test_rep_on_the_weekend_is_out_of_hours_with_their_week_in_the_text():
    rep = office_rep()
    reason = rep_unavailability(rep, local(BERLIN, 2026, 6, 13, 11, 0))  # Saturday
    assert said(reason) == ("out_of_hours", "out of hours: works Mon–Fri 09:00–17:00 Europe/Berlin")


def test_friday_evening_is_out_of_hours_and_the_shift_end_is_exclusive():
    rep = office_rep()
    assert code_at(rep, local(BERLIN, 2026, 6, 12, 16, 59, 59)) is None
    assert code_at(rep, local(BERLIN, 2026, 6, 12, 17, 0)) == "out_of_hours"
    assert code_at(rep, local(BERLIN, 2026, 6, 12, 19, 30)) == "out_of_hours"


def test_shift_start_is_inclusive():
    rep = office_rep()
    assert code_at(rep, local(BERLIN, 2026, 6, 10, 8, 59, 59)) == "out_of_hours"
    assert code_at(rep, local(BERLIN, 2026, 6, 10, 9, 0)) is None


def test_overnight_shift_covers_the_early_hours_of_the_next_day_only_until_its_end():
    rep = RepFactory(calendar=calendar_with(([0], "22:00", "06:00")))
    assert code_at(rep, local(BERLIN, 2026, 6, 8, 21, 59)) == "out_of_hours"  # Monday
    assert code_at(rep, local(BERLIN, 2026, 6, 8, 23, 0)) is None
    assert code_at(rep, local(BERLIN, 2026, 6, 9, 3, 0)) is None  # Tuesday
    assert code_at(rep, local(BERLIN, 2026, 6, 9, 7, 0)) == "out_of_hours"
    assert code_at(rep, local(BERLIN, 2026, 6, 8, 3, 0)) == "out_of_hours"  # Monday early: no Sunday shift


def test_sunday_overnight_shift_wraps_into_monday():
    rep = RepFactory(calendar=calendar_with(([6], "20:00", "02:00")))
    assert code_at(rep, local(BERLIN, 2026, 6, 8, 1, 30)) is None  # Monday
    assert code_at(rep, local(BERLIN, 2026, 6, 9, 1, 30)) == "out_of_hours"  # Tuesday


def test_shift_ending_at_midnight_covers_the_evening_only():
    rep = RepFactory(calendar=calendar_with(([2], "18:00", "00:00")))
    assert code_at(rep, local(BERLIN, 2026, 6, 10, 23, 59)) is None  # Wednesday
    assert code_at(rep, local(BERLIN, 2026, 6, 11, 0, 0)) == "out_of_hours"


def test_split_day_leaves_the_lunch_break_out():
    rep = RepFactory(calendar=calendar_with((WEEKDAYS, "08:00", "12:00"), (WEEKDAYS, "13:00", "17:00")))
    assert code_at(rep, local(BERLIN, 2026, 6, 10, 12, 30)) == "out_of_hours"
    assert code_at(rep, local(BERLIN, 2026, 6, 10, 13, 30)) is None


def test_out_of_hours_text_groups_days_with_the_same_hours():
    calendar = calendar_with(
        (range(4), "09:00", "17:00"), ([4], "09:00", "13:00"), ([5], "10:00", "12:00"), ([5], "14:00", "16:00"),
        time_zone="America/New_York",
    )
    reason = rep_unavailability(RepFactory(calendar=calendar), local(NEW_YORK, 2026, 6, 14, 9, 0))  # Sunday
    assert reason.text == (
        "out of hours: works Mon–Thu 09:00–17:00; Fri 09:00–13:00; Sat 10:00–12:00, 14:00–16:00 America/New_York"
    )


def test_calendar_without_working_hours_is_never_available():
    rep = RepFactory(calendar=AvailabilityCalendarFactory(name="Empty"))
    reason = rep_unavailability(rep, local(BERLIN, 2026, 6, 10, 10, 0))
    assert said(reason) == ("out_of_hours", "out of hours: calendar Empty has no working hours")


def test_rep_without_calendar_is_available_at_any_hour():
    rep = RepFactory(calendar=None)
    assert rep_unavailability(rep, local(BERLIN, 2026, 6, 14, 3, 0)) is None  # Sunday night


def test_working_hours_follow_the_calendar_time_zone_not_the_reps():
    calendar = calendar_with((WEEKDAYS, "09:00", "17:00"), time_zone="Europe/Berlin")
    rep = RepFactory(calendar=calendar, time_zone="America/New_York")
    assert code_at(rep, local(NEW_YORK, 2026, 6, 10, 4, 0)) is None  # 10:00 in Berlin
    assert code_at(rep, local(NEW_YORK, 2026, 6, 10, 10, 0)) is None  # 16:00 in Berlin
    assert code_at(rep, local(NEW_YORK, 2026, 6, 10, 12, 0)) == "out_of_hours"  # 18:00 in Berlin


def test_naive_datetime_is_refused():
    with pytest.raises(ValueError, match="time-zone-aware"):
        rep_unavailability(office_rep(), dt.datetime(2026, 6, 10, 10, 0))


# Daylight saving time


def test_berlin_spring_switch_keeps_the_shift_at_local_wall_clock_time():
    rep = office_rep()
    after_switch = dt.datetime(2026, 3, 30, 7, 30, tzinfo=UTC)  # Monday 09:30 CEST
    assert after_switch.astimezone(BERLIN).hour == 9
    assert code_at(rep, after_switch) is None
    week_before = after_switch - dt.timedelta(weeks=1)  # Monday 08:30 CET
    assert week_before.astimezone(BERLIN).hour == 8
    assert code_at(rep, week_before) == "out_of_hours"


def test_berlin_autumn_switch_keeps_the_shift_at_local_wall_clock_time():
    rep = office_rep()
    after_switch = dt.datetime(2026, 10, 26, 15, 30, tzinfo=UTC)  # Monday 16:30 CET
    assert code_at(rep, after_switch) is None
    week_before = after_switch - dt.timedelta(weeks=1)  # Monday 17:30 CEST
    assert week_before.astimezone(BERLIN).hour == 17
    assert code_at(rep, week_before) == "out_of_hours"


def test_new_york_spring_switch_keeps_the_shift_at_local_wall_clock_time():
    rep = office_rep(time_zone="America/New_York")
    after_switch = dt.datetime(2026, 3, 9, 13, 30, tzinfo=UTC)  # Monday 09:30 EDT
    assert after_switch.astimezone(NEW_YORK).hour == 9
    assert code_at(rep, after_switch) is None
    week_before = after_switch - dt.timedelta(weeks=1)  # Monday 08:30 EST
    assert code_at(rep, week_before) == "out_of_hours"


def test_new_york_autumn_switch_keeps_the_shift_at_local_wall_clock_time():
    rep = office_rep(time_zone="America/New_York")
    after_switch = dt.datetime(2026, 11, 2, 21, 30, tzinfo=UTC)  # Monday 16:30 EST
    assert code_at(rep, after_switch) is None
    week_before = after_switch - dt.timedelta(weeks=1)  # Monday 17:30 EDT
    assert code_at(rep, week_before) == "out_of_hours"


def test_shift_in_the_skipped_spring_hour_does_not_crash():
    rep = RepFactory(calendar=calendar_with(([6], "02:00", "03:00")))  # Sunday 02:00–03:00 never exists on 29 March
    for minute in range(0, 180, 15):
        moment = dt.datetime(2026, 3, 29, 0, 0, tzinfo=UTC) + dt.timedelta(minutes=minute)
        assert code_at(rep, moment) == "out_of_hours"


def test_shift_in_the_repeated_autumn_hour_covers_both_passes():
    rep = RepFactory(calendar=calendar_with(([6], "02:00", "03:00")))
    first_pass = dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    second_pass = dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET
    assert code_at(rep, first_pass) is None and code_at(rep, second_pass) is None
    assert code_at(rep, dt.datetime(2026, 10, 25, 2, 0, tzinfo=UTC)) == "out_of_hours"  # 03:00 CET


# Holidays


def test_rep_on_a_holiday_is_skipped():
    rep = office_rep()
    HolidayFactory(calendar=rep.calendar, date=dt.date(2026, 12, 25), name="Christmas")
    reason = rep_unavailability(rep, local(BERLIN, 2026, 12, 25, 10, 0))  # Friday
    assert said(reason) == ("holiday", "holiday: Christmas")
    assert code_at(rep, local(BERLIN, 2026, 12, 28, 10, 0)) is None


def test_holiday_is_judged_on_the_local_date_of_the_calendar():
    rep = office_rep()
    HolidayFactory(calendar=rep.calendar, date=dt.date(2026, 12, 25), name="Christmas")
    # 24 December 23:30 in UTC is already Christmas in Berlin, but outside the shift.
    assert code_at(rep, dt.datetime(2026, 12, 24, 23, 30, tzinfo=UTC)) == "holiday"
    assert code_at(rep, dt.datetime(2026, 12, 24, 12, 0, tzinfo=UTC)) is None


def test_holiday_of_another_calendar_does_not_count():
    rep = office_rep()
    HolidayFactory(date=dt.date(2026, 12, 25))
    assert code_at(rep, local(BERLIN, 2026, 12, 25, 10, 0)) is None


def test_overnight_shift_is_judged_on_the_day_it_started():
    calendar = calendar_with((WEEKDAYS, "22:00", "06:00"))
    HolidayFactory(calendar=calendar, date=dt.date(2026, 12, 25), name="Christmas")
    rep = RepFactory(calendar=calendar)
    assert code_at(rep, local(BERLIN, 2026, 12, 25, 3, 0)) is None  # shift began on the 24th
    assert code_at(rep, local(BERLIN, 2026, 12, 25, 23, 0)) == "holiday"
    assert rep_unavailability(rep, local(BERLIN, 2026, 12, 26, 3, 0)).text == "holiday: Christmas"


# Status, time off


def test_inactive_rep_is_skipped():
    rep = office_rep(is_active=False)
    assert said(rep_unavailability(rep, local(BERLIN, 2026, 6, 10, 10, 0))) == ("inactive", "inactive")


def test_away_rep_is_skipped_until_their_return_time():
    at = local(BERLIN, 2026, 6, 10, 10, 0)
    rep = office_rep(status=Rep.Status.AWAY, away_until=local(BERLIN, 2026, 6, 10, 14, 0))
    assert said(rep_unavailability(rep, at)) == ("away", "away until 14:00 Europe/Berlin")


def test_away_rep_whose_return_time_has_passed_is_back():
    rep = office_rep(status=Rep.Status.AWAY, away_until=local(BERLIN, 2026, 6, 10, 9, 0))
    assert rep_unavailability(rep, local(BERLIN, 2026, 6, 10, 10, 0)) is None


def test_away_rep_without_return_time_stays_away():
    rep = office_rep(status=Rep.Status.AWAY, away_until=None)
    assert said(rep_unavailability(rep, local(BERLIN, 2026, 6, 10, 10, 0))) == ("away", "away, no return time set")


def test_away_text_names_the_date_when_the_return_is_another_day():
    rep = office_rep(status=Rep.Status.AWAY, away_until=local(BERLIN, 2026, 6, 12, 9, 30))
    assert rep_unavailability(rep, local(BERLIN, 2026, 6, 10, 10, 0)).text == "away until 2026-06-12 09:30 Europe/Berlin"


def test_rep_on_leave_is_skipped():
    rep = office_rep()
    TimeOffFactory(
        rep=rep, start=local(BERLIN, 2026, 11, 23, 0, 0), end=local(BERLIN, 2026, 12, 2, 0, 0), reason="Vacation"
    )
    reason = rep_unavailability(rep, local(BERLIN, 2026, 11, 25, 10, 0))
    assert said(reason) == ("on_leave", "on leave until 2026-12-02 (Vacation)")
    assert code_at(rep, local(BERLIN, 2026, 12, 2, 10, 0)) is None


def test_partial_day_time_off_covers_only_its_hours():
    rep = office_rep()
    TimeOffFactory(rep=rep, start=local(BERLIN, 2026, 6, 10, 12, 0), end=local(BERLIN, 2026, 6, 10, 14, 0), reason="Dentist")
    assert code_at(rep, local(BERLIN, 2026, 6, 10, 11, 59)) is None
    assert rep_unavailability(rep, local(BERLIN, 2026, 6, 10, 12, 0)).text == "on leave until 14:00 Europe/Berlin (Dentist)"
    assert code_at(rep, local(BERLIN, 2026, 6, 10, 14, 0)) is None


def test_time_off_of_another_rep_does_not_count():
    rep, colleague = office_rep(), office_rep()
    TimeOffFactory(rep=colleague, start=local(BERLIN, 2026, 6, 10, 0, 0), end=local(BERLIN, 2026, 6, 11, 0, 0))
    at = local(BERLIN, 2026, 6, 10, 10, 0)
    reasons = unavailability([rep, colleague], at)
    assert reasons[rep.pk] is None
    assert said(reasons[colleague.pk]) == ("on_leave", "on leave until 2026-06-11 (Vacation)")


def test_status_reasons_come_before_the_calendar():
    at = local(BERLIN, 2026, 6, 13, 10, 0)  # Saturday: out of hours for everyone
    away_and_off = office_rep(status=Rep.Status.AWAY)
    TimeOffFactory(rep=away_and_off, start=at - dt.timedelta(hours=1), end=at + dt.timedelta(hours=1))
    on_leave = office_rep()
    TimeOffFactory(rep=on_leave, start=at - dt.timedelta(hours=1), end=at + dt.timedelta(hours=1))
    codes = {pk: reason.code for pk, reason in unavailability([away_and_off, on_leave], at).items()}
    assert codes == {away_and_off.pk: "away", on_leave.pk: "on_leave"}


# Frozen clock: the way the engine calls it


def test_rep_is_available_now_during_a_frozen_monday_morning():
    rep = office_rep(time_zone="America/New_York")
    with time_machine.travel(local(NEW_YORK, 2026, 3, 9, 9, 30), tick=False):
        assert rep_unavailability(rep, timezone.now()) is None
    with time_machine.travel(local(NEW_YORK, 2026, 3, 9, 8, 30), tick=False):
        assert rep_unavailability(rep, timezone.now()).code == "out_of_hours"


def test_time_off_created_now_makes_the_rep_on_leave_now():
    with time_machine.travel(local(BERLIN, 2026, 6, 10, 10, 0), tick=False):
        rep = office_rep()
        TimeOffFactory(rep=rep)  # yesterday to tomorrow, from the frozen clock
        assert rep_unavailability(rep, timezone.now()).code == "on_leave"


# Many reps at once


def test_many_reps_take_a_constant_number_of_queries(django_assert_num_queries):
    at = local(BERLIN, 2026, 12, 25, 10, 0)
    calendars = [calendar_with((WEEKDAYS, "09:00", "17:00"), time_zone=zone) for zone in ("Europe/Berlin", "Asia/Tokyo")]
    calendars.append(calendar_with((range(7), "00:00", "12:00"), time_zone="America/New_York"))
    HolidayFactory(calendar=calendars[0], date=dt.date(2026, 12, 25))
    for index in range(50):
        rep = RepFactory(calendar=calendars[index % 3] if index % 5 else None, is_active=index != 7)
        if index % 4 == 0:
            TimeOffFactory(rep=rep, start=at - dt.timedelta(days=1), end=at + dt.timedelta(days=1))

    reps = list(Rep.objects.select_related("calendar"))
    with django_assert_num_queries(3):  # time off, working hours, holidays
        reasons = unavailability(reps, at)

    plain_reps = list(Rep.objects.all())
    with django_assert_num_queries(4):  # and the calendars
        assert unavailability(plain_reps, at) == reasons

    codes = {reason.code if reason else None for reason in reasons.values()}
    assert codes == {None, "inactive", "on_leave", "holiday", "out_of_hours"}


def test_no_reps_take_no_queries(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert unavailability([], local(BERLIN, 2026, 6, 10, 10, 0)) == {}


# Next available


def test_next_available_after_friday_evening_is_monday_morning():
    rep = office_rep()
    assert next_available_at(rep, local(BERLIN, 2026, 6, 12, 18, 0)) == local(BERLIN, 2026, 6, 15, 9, 0)


def test_next_available_is_now_when_the_rep_is_working():
    rep = office_rep()
    at = local(BERLIN, 2026, 6, 10, 10, 0)
    assert next_available_at(rep, at) == at


def test_next_available_skips_a_holiday():
    rep = office_rep()
    HolidayFactory(calendar=rep.calendar, date=dt.date(2026, 12, 25))
    assert next_available_at(rep, local(BERLIN, 2026, 12, 24, 18, 0)) == local(BERLIN, 2026, 12, 28, 9, 0)


def test_next_available_continues_an_overnight_shift_that_started_yesterday():
    rep = RepFactory(calendar=calendar_with(([0], "22:00", "06:00")))
    at = local(BERLIN, 2026, 6, 9, 3, 0)  # Tuesday
    assert next_available_at(rep, at) == at
    assert next_available_at(rep, local(BERLIN, 2026, 6, 9, 7, 0)) == local(BERLIN, 2026, 6, 15, 22, 0)


def test_next_available_waits_for_the_return_time_and_the_end_of_time_off():
    rep = office_rep(status=Rep.Status.AWAY, away_until=local(BERLIN, 2026, 6, 10, 11, 0))
    TimeOffFactory(rep=rep, start=local(BERLIN, 2026, 6, 10, 12, 0), end=local(BERLIN, 2026, 6, 12, 0, 0))
    assert next_available_at(rep, local(BERLIN, 2026, 6, 10, 8, 0)) == local(BERLIN, 2026, 6, 10, 11, 0)
    assert next_available_at(rep, local(BERLIN, 2026, 6, 10, 12, 30)) == local(BERLIN, 2026, 6, 12, 9, 0)


def test_next_available_across_the_berlin_spring_switch():
    rep = office_rep()
    assert next_available_at(rep, local(BERLIN, 2026, 3, 27, 18, 0)) == dt.datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


def test_next_available_for_a_shift_starting_in_the_skipped_hour_is_the_jump():
    rep = RepFactory(calendar=calendar_with(([6], "02:30", "05:00")))
    found = next_available_at(rep, dt.datetime(2026, 3, 28, 23, 0, tzinfo=UTC))
    assert found == dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # clocks jump from 02:00 CET to 03:00 CEST
    assert rep_unavailability(rep, found) is None
    assert rep_unavailability(rep, found - dt.timedelta(seconds=1)).code == "out_of_hours"


def test_next_available_agrees_with_unavailability_all_week():
    rep = RepFactory(calendar=calendar_with((WEEKDAYS, "09:00", "17:00"), ([5], "22:00", "02:00"), time_zone="America/New_York"))
    HolidayFactory(calendar=rep.calendar, date=dt.date(2026, 11, 3))
    start = dt.datetime(2026, 10, 30, 0, 0, tzinfo=UTC)
    for hour in range(0, 24 * 8, 5):
        moment = start + dt.timedelta(hours=hour)
        found = next_available_at(rep, moment)
        assert found >= moment
        assert rep_unavailability(rep, found) is None
        if found > moment:
            assert rep_unavailability(rep, moment) is not None
            assert rep_unavailability(rep, found - dt.timedelta(seconds=1)) is not None


@pytest.mark.parametrize(
    "rep_kwargs",
    [{"is_active": False}, {"status": Rep.Status.AWAY, "away_until": None}],
    ids=["inactive", "away-indefinitely"],
)
def test_next_available_is_unknown_for_reps_who_are_not_coming_back(rep_kwargs):
    assert next_available_at(office_rep(**rep_kwargs), local(BERLIN, 2026, 6, 10, 10, 0)) is None


def test_next_available_is_unknown_without_working_hours_or_beyond_two_weeks():
    at = local(BERLIN, 2026, 6, 10, 10, 0)
    assert next_available_at(RepFactory(calendar=AvailabilityCalendarFactory()), at) is None
    rep = office_rep()
    TimeOffFactory(rep=rep, start=at - dt.timedelta(days=1), end=at + dt.timedelta(days=30))
    assert next_available_at(rep, at) is None


def test_next_available_without_calendar_is_the_end_of_time_off():
    rep = RepFactory(calendar=None)
    at = local(BERLIN, 2026, 6, 10, 10, 0)
    TimeOffFactory(rep=rep, start=at - dt.timedelta(hours=1), end=at + dt.timedelta(hours=3))
    assert next_available_at(rep, at) == at + dt.timedelta(hours=3)
