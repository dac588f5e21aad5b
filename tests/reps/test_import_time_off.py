"""Time off imported from an iCalendar export: time zones, all-day events, folding, idempotence."""

import datetime as dt
import io
import zoneinfo

import pytest
from django.core.management import CommandError, call_command

from reps.ical import absences_from_ics
from reps.models import TimeOff
from tests.factories import rep_named

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")

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
    absences, skipped = absences_from_ics(EXPORT, default_zone=BERLIN)

    assert [(a.start, a.end, a.summary) for a in absences] == [
        (dt.datetime(2026, 3, 30, tzinfo=BERLIN), dt.datetime(2026, 4, 3, tzinfo=BERLIN), "Easter holiday, family"),
        (dt.datetime(2026, 3, 10, 13, tzinfo=dt.UTC), dt.datetime(2026, 3, 10, 15, tzinfo=dt.UTC),
         "Dentist appointment that has a very long summary folded by the exporter onto a second line"),
        (dt.datetime(2026, 3, 12, 13, tzinfo=dt.UTC), dt.datetime(2026, 3, 12, 17, tzinfo=dt.UTC), "Trade fair"),
        (dt.datetime(2026, 3, 20, 9, tzinfo=BERLIN), dt.datetime(2026, 3, 20, 17, tzinfo=BERLIN), "Training day"),
    ]
    [recurring] = skipped
    assert recurring.summary == "Weekly course" and "recurring events are not expanded" in recurring.reason


@pytest.mark.parametrize(
    ("lines", "reason"),
    [
        (["DTSTART:20260310T150000Z", "DTEND:20260310T130000Z"], "ends before it starts"),
        (["DTSTART;TZID=Mars/Base:20260310T150000", "DURATION:PT1H"], "unknown time zone 'Mars/Base'"),
        (["DTSTART:2026-03-10", "DURATION:PT1H"], "'2026-03-10' is not a time such as 20260302T090000"),
        (["DTSTART:20260310T090000Z", "DURATION:soon"], "'soon' is not a duration"),
        (["DTEND:20260310T090000Z"], "no DTSTART"),
        (["DTSTART:20260310T090000Z", "DURATION:PT1H", "STATUS:CANCELLED"], "cancelled"),
    ],
)
def test_events_that_cannot_be_read_are_skipped_with_the_reason(lines, reason):
    text = "\n".join(["BEGIN:VEVENT", "SUMMARY:Off", *lines, "END:VEVENT"])
    absences, [skipped] = absences_from_ics(text, default_zone=BERLIN)
    assert absences == [] and reason in skipped.reason and skipped.line == 1


@pytest.mark.django_db
def test_command_adds_time_off_once_in_the_reps_time_zone(tmp_path):
    rep = rep_named("Anna", time_zone="Europe/Berlin")
    export = tmp_path / "anna.ics"
    export.write_text(EXPORT, encoding="utf-8")

    out, err = io.StringIO(), io.StringIO()
    call_command("import_time_off", "anna@example.com", str(export), stdout=out, stderr=err)
    again = io.StringIO()
    call_command("import_time_off", "anna", str(export), stdout=again, stderr=io.StringIO())

    assert "4 time off periods added, 0 already there, 1 events skipped" in out.getvalue()
    assert "0 time off periods added, 4 already there" in again.getvalue()
    assert "Skipped the event at line 23 (Weekly course)" in err.getvalue()
    assert TimeOff.objects.filter(rep=rep).count() == 4
    training = TimeOff.objects.get(rep=rep, reason="Training day")
    assert training.start == dt.datetime(2026, 3, 20, 8, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_dry_run_saves_nothing(tmp_path):
    rep_named("Anna")
    export = tmp_path / "anna.ics"
    export.write_text(EXPORT, encoding="utf-8")
    out = io.StringIO()
    call_command("import_time_off", "anna", str(export), "--dry-run", stdout=out, stderr=io.StringIO())
    assert "Dry run: 4 periods read" in out.getvalue() and not TimeOff.objects.exists()


@pytest.mark.django_db
def test_unknown_rep_is_named_in_the_error(tmp_path):
    export = tmp_path / "x.ics"
    export.write_text(EXPORT, encoding="utf-8")
    with pytest.raises(CommandError, match="No rep has the username or email 'nobody'"):
        call_command("import_time_off", "nobody", str(export))
