"""Time off imported from an iCalendar export: time zones, all-day events, folding, recurrence, bad events, re-import."""

import datetime as dt
import io
import zoneinfo

import pytest
import time_machine
from django.core.management import CommandError, call_command

from reps.ical import absences_from_ics
from reps.models import TimeOff
from tests.factories import rep_named

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
# The day the exports below are imported: before their events, so the weekly course's occurrences are ahead.
NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)

EXPORT = "\r\n".join([
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Example//Calendar//EN",
    "BEGIN:VEVENT",
    "UID:1@example.com",
    "DTSTART;VALUE=DATE:20260330",
    "DTEND;VALUE=DATE:20260403",
    "SUMMARY:Easter holiday\\, family",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:2@example.com",
    "DTSTART:20260310T130000Z",
    "DTEND:20260310T150000Z",
    "SUMMARY:Dentist appointment that has a very long summary folded by the export",
    " er onto a second line",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:3@example.com",
    "DTSTART;TZID=America/New_York:20260312T090000",
    "DURATION:PT4H",
    "SUMMARY:Trade fair",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:4@example.com",
    "DTSTART:20260316T090000",
    "DTEND:20260316T120000",
    "RRULE:FREQ=WEEKLY;COUNT=4",
    "SUMMARY:Weekly course",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:5@example.com",
    "DTSTART:20260320T090000",
    "DTEND:20260320T170000",
    "SUMMARY:Training day",
    "END:VEVENT",
    "END:VCALENDAR",
    "",
])


def test_events_are_read_in_their_time_zone_and_all_day_ends_are_exclusive():
    absences, skipped = absences_from_ics(EXPORT, default_zone=BERLIN, now=NOW)

    assert [(a.start, a.end, a.summary) for a in absences] == [
        (dt.datetime(2026, 3, 30, tzinfo=BERLIN), dt.datetime(2026, 4, 3, tzinfo=BERLIN), "Easter holiday, family"),
        (dt.datetime(2026, 3, 10, 13, tzinfo=dt.UTC), dt.datetime(2026, 3, 10, 15, tzinfo=dt.UTC),
         "Dentist appointment that has a very long summary folded by the exporter onto a second line"),
        (dt.datetime(2026, 3, 12, 13, tzinfo=dt.UTC), dt.datetime(2026, 3, 12, 17, tzinfo=dt.UTC), "Trade fair"),
        *[(dt.datetime(2026, 3, day, 9, tzinfo=BERLIN), dt.datetime(2026, 3, day, 12, tzinfo=BERLIN), "Weekly course")
          for day in (16, 23, 30)],
        (dt.datetime(2026, 4, 6, 9, tzinfo=BERLIN), dt.datetime(2026, 4, 6, 12, tzinfo=BERLIN), "Weekly course"),
        (dt.datetime(2026, 3, 20, 9, tzinfo=BERLIN), dt.datetime(2026, 3, 20, 17, tzinfo=BERLIN), "Training day"),
    ]
    assert skipped == []


@pytest.mark.parametrize(
    ("lines", "reason"),
    [
        (["DTSTART:20260310T150000Z", "DTEND:20260310T130000Z"], "ends before it starts"),
        (["DTSTART;TZID=Mars/Base:20260310T150000", "DURATION:PT1H"], "unknown time zone 'Mars/Base'"),
        (["DTSTART:2026-03-10", "DURATION:PT1H"], "its DTSTART cannot be read"),
        (["DTSTART:20260310T090000Z", "DURATION:soon"], "its DURATION cannot be read"),
        (["DTEND:20260310T090000Z"], "no DTSTART"),
        (["DTSTART:20260310T090000Z", "DURATION:PT1H", "STATUS:CANCELLED"], "cancelled"),
        (["DTSTART:20260310T090000Z", "DURATION:P99999999999W"], "its DURATION cannot be read"),
        (["DTSTART;VALUE=DATE:99991231"], "a date is out of range"),
        (["DTSTART:99991231T230000Z", "DURATION:P2D"], "a date is out of range"),
        (["DTSTART:20260310T090000Z", "RRULE:FREQ=SOMETIMES"], "RRULE"),
    ],
)
def test_events_that_cannot_be_read_are_skipped_with_the_reason(lines, reason):
    text = "\n".join(["BEGIN:VEVENT", "UID:off-1", "SUMMARY:Off", *lines, "END:VEVENT"])
    absences, [skipped] = absences_from_ics(text, default_zone=BERLIN, now=NOW)
    assert absences == [] and reason in skipped.reason
    assert (skipped.line, skipped.uid, skipped.summary) == (1, "off-1", "Off")


def calendar(*events):
    """An export with these events, each given as its lines between BEGIN:VEVENT and END:VEVENT."""
    body = [line for event in events for line in ("BEGIN:VEVENT", *event, "END:VEVENT")]
    return "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//EN", *body, "END:VCALENDAR", ""])


def test_an_alarms_properties_stay_in_the_alarm():
    text = calendar(["UID:a", "DTSTART;VALUE=DATE:20260310", "SUMMARY:Off sick",
                     "BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:Reminder", "TRIGGER:-PT15M", "DURATION:PT15M",
                     "REPEAT:2", "END:VALARM"])

    [absence], _ = absences_from_ics(text, default_zone=BERLIN, now=NOW)

    assert (absence.start, absence.end, absence.summary) == (
        dt.datetime(2026, 3, 10, tzinfo=BERLIN), dt.datetime(2026, 3, 11, tzinfo=BERLIN), "Off sick")


OUTLOOK_ZONE = [
    "BEGIN:VTIMEZONE", "TZID:W. Europe Standard Time",
    "BEGIN:STANDARD", "DTSTART:16011028T030000", "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10",
    "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "END:STANDARD",
    "BEGIN:DAYLIGHT", "DTSTART:16010325T020000", "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3",
    "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "END:DAYLIGHT",
    "END:VTIMEZONE",
]


@pytest.mark.parametrize("with_definition", [True, False], ids=["with its VTIMEZONE", "name only"])
def test_outlooks_windows_time_zone_names_are_understood(with_definition):
    event = ["BEGIN:VEVENT", "UID:w", "DTSTART;TZID=W. Europe Standard Time:20260610T090000",
             "DTEND;TZID=W. Europe Standard Time:20260610T170000", "SUMMARY:Customer visit", "END:VEVENT"]
    text = "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:Microsoft Exchange Server 2010",
                         *(OUTLOOK_ZONE if with_definition else []), *event, "END:VCALENDAR", ""])

    [absence], skipped = absences_from_ics(text, default_zone=zoneinfo.ZoneInfo("Asia/Tokyo"), now=NOW)

    assert skipped == []
    assert (absence.start, absence.end) == (dt.datetime(2026, 6, 10, 7, tzinfo=dt.UTC),
                                            dt.datetime(2026, 6, 10, 15, tzinfo=dt.UTC))


def test_an_endless_recurring_absence_is_expanded_for_a_year_from_now_without_its_exceptions():
    text = calendar(["UID:fri", "DTSTART;TZID=Europe/Berlin:20260102T130000",
                     "DTEND;TZID=Europe/Berlin:20260102T180000",
                     "RRULE:FREQ=WEEKLY;BYDAY=FR", "EXDATE;TZID=Europe/Berlin:20260306T130000", "SUMMARY:Friday off"])

    absences, skipped = absences_from_ics(text, default_zone=BERLIN, now=NOW)

    starts = [absence.start for absence in absences]
    assert skipped == [] and len(absences) == 51  # 52 Fridays from 1 March 2026 to 1 March 2027, less 6 March
    assert starts[0] == dt.datetime(2026, 3, 13, 13, tzinfo=BERLIN)
    assert starts[-1] == dt.datetime(2027, 2, 26, 13, tzinfo=BERLIN)
    assert all(absence.end - absence.start == dt.timedelta(hours=5) for absence in absences)


def test_a_moved_occurrence_replaces_its_slot_and_a_cancelled_one_is_left_out():
    text = calendar(
        ["UID:yoga", "DTSTART:20260303T170000", "DTEND:20260303T180000", "RRULE:FREQ=WEEKLY;COUNT=3", "SUMMARY:Yoga"],
        ["UID:yoga", "RECURRENCE-ID:20260310T170000", "DTSTART:20260311T080000", "DTEND:20260311T090000",
         "SUMMARY:Yoga (moved)"],
        ["UID:yoga", "RECURRENCE-ID:20260317T170000", "DTSTART:20260317T170000", "DTEND:20260317T180000",
         "STATUS:CANCELLED", "SUMMARY:Yoga"],
    )

    absences, skipped = absences_from_ics(text, default_zone=BERLIN, now=NOW)

    assert skipped == []
    assert [(a.start, a.summary) for a in absences] == [
        (dt.datetime(2026, 3, 3, 17, tzinfo=BERLIN), "Yoga"),
        (dt.datetime(2026, 3, 11, 8, tzinfo=BERLIN), "Yoga (moved)"),
    ]


def test_an_event_repeating_too_often_is_skipped_and_the_others_kept():
    text = calendar(["UID:tick", "DTSTART:20260302T000000Z", "DURATION:PT1M", "RRULE:FREQ=MINUTELY", "SUMMARY:Tick"],
                    ["UID:ok", "DTSTART:20260305T090000Z", "DURATION:PT1H", "SUMMARY:Dentist"])

    absences, [skipped] = absences_from_ics(text, default_zone=BERLIN, now=NOW)

    assert [absence.summary for absence in absences] == ["Dentist"]
    assert skipped.uid == "tick" and "repeats more than 1000 times in the next 365 days" in skipped.reason


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_command_adds_time_off_once_in_the_reps_time_zone(tmp_path):
    rep = rep_named("Anna", time_zone="Europe/Berlin")
    export = tmp_path / "anna.ics"
    export.write_text(EXPORT, encoding="utf-8")

    out, err = io.StringIO(), io.StringIO()
    call_command("import_time_off", "anna@example.com", str(export), stdout=out, stderr=err)
    again = io.StringIO()
    call_command("import_time_off", "anna", str(export), stdout=again, stderr=io.StringIO())

    assert "8 time off periods added, 0 already there, 0 events skipped" in out.getvalue()
    assert "0 time off periods added, 8 already there" in again.getvalue()
    assert err.getvalue() == ""
    assert TimeOff.objects.filter(rep=rep).count() == 8
    assert TimeOff.objects.filter(rep=rep, reason="Weekly course").count() == 4
    training = TimeOff.objects.get(rep=rep, reason="Training day")
    assert training.start == dt.datetime(2026, 3, 20, 8, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_command_reports_each_bad_event_by_line_and_uid_and_imports_the_rest(tmp_path):
    rep = rep_named("Anna", time_zone="Europe/Berlin")
    export = tmp_path / "anna.ics"
    export.write_text(calendar(
        ["UID:long", "DTSTART:20260310T090000Z", "DURATION:P99999999999W", "SUMMARY:Sabbatical"],
        ["UID:ok-1", "DTSTART:20260311T090000Z", "DURATION:PT2H", "SUMMARY:Dentist"],
        ["UID:far", "DTSTART;VALUE=DATE:99991231", "SUMMARY:End of time"],
        ["UID:ok-2", "DTSTART;VALUE=DATE:20260312", "SUMMARY:Day off"],
    ), encoding="utf-8")

    out, err = io.StringIO(), io.StringIO()
    call_command("import_time_off", "anna", str(export), stdout=out, stderr=err)

    assert "2 time off periods added, 0 already there, 2 events skipped" in out.getvalue()
    assert "Skipped the event at line 4 (Sabbatical, UID long): its DURATION cannot be read" in err.getvalue()
    assert "Skipped the event at line 16 (End of time, UID far): a date is out of range" in err.getvalue()
    assert sorted(TimeOff.objects.filter(rep=rep).values_list("reason", flat=True)) == ["Day off", "Dentist"]


@pytest.mark.django_db
def test_reimporting_a_recurring_absence_later_adds_only_the_occurrences_come_into_the_window(tmp_path):
    rep = rep_named("Anna", time_zone="Europe/Berlin")
    export = tmp_path / "anna.ics"
    export.write_text(calendar(["UID:fri", "DTSTART;TZID=Europe/Berlin:20260102T130000", "DURATION:PT5H",
                                "RRULE:FREQ=WEEKLY;BYDAY=FR", "SUMMARY:Friday off"]), encoding="utf-8")

    with time_machine.travel(NOW, tick=False):
        call_command("import_time_off", "anna", str(export), stdout=io.StringIO())
        call_command("import_time_off", "anna", str(export), stdout=io.StringIO())
    assert TimeOff.objects.filter(rep=rep).count() == 52
    with time_machine.travel(NOW + dt.timedelta(days=14), tick=False):
        out = io.StringIO()
        call_command("import_time_off", "anna", str(export), stdout=out)

    assert "2 time off periods added, 50 already there" in out.getvalue()
    assert TimeOff.objects.filter(rep=rep).count() == 54
    assert TimeOff.objects.filter(rep=rep).values("start").distinct().count() == 54


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["Name,Start\nAnna,2026-03-10\n", "BEGIN:VEVENT\nDTSTART:20260310T090000Z\n", ""])
def test_a_file_that_is_not_a_calendar_is_refused_and_nothing_imported(tmp_path, text):
    rep_named("Anna")
    export = tmp_path / "anna.ics"
    export.write_text(text, encoding="utf-8")

    with pytest.raises(CommandError, match="is not an iCalendar file"):
        call_command("import_time_off", "anna", str(export), stdout=io.StringIO())
    assert not TimeOff.objects.exists()


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_dry_run_saves_nothing(tmp_path):
    rep_named("Anna")
    export = tmp_path / "anna.ics"
    export.write_text(EXPORT, encoding="utf-8")
    out = io.StringIO()
    call_command("import_time_off", "anna", str(export), "--dry-run", stdout=out, stderr=io.StringIO())
    assert "Dry run: 8 periods read" in out.getvalue() and not TimeOff.objects.exists()


@pytest.mark.django_db
def test_unknown_rep_is_named_in_the_error(tmp_path):
    export = tmp_path / "x.ics"
    export.write_text(EXPORT, encoding="utf-8")
    with pytest.raises(CommandError, match="No rep has the username or email 'nobody'"):
        call_command("import_time_off", "nobody", str(export))


def test_floating_times_of_a_google_calendar_are_in_its_x_wr_timezone():
    text = calendar(["UID:g", "DTSTART:20260310T090000", "DTEND:20260310T100000", "SUMMARY:Call"]).replace(
        "PRODID:-//Test//EN", "PRODID:-//Google Inc//Google Calendar 70.9054//EN\r\nX-WR-TIMEZONE:America/New_York")

    [absence], _ = absences_from_ics(text, default_zone=BERLIN, now=NOW)

    assert absence.start == dt.datetime(2026, 3, 10, 13, tzinfo=dt.UTC)
