"""Time off from an iCalendar (.ics) file: each VEVENT's start, end and summary, read with icalendar.

icalendar reads the file (folding, escapes, VTIMEZONE definitions, Outlook's Windows time zone names such as
"W. Europe Standard Time", an alarm's properties kept inside its VALARM); recurring-ical-events expands
recurring events (RRULE, RDATE, EXDATE, moved or cancelled occurrences). Times without a time zone and
all-day dates are read in the rep's time zone; an all-day DTEND is exclusive, as RFC 5545 says.

A recurring event becomes one absence per occurrence from now to RECURRENCE_WINDOW ahead, at most
MAX_OCCURRENCES of them, so an endless or minutely RRULE cannot flood the table; importing the file again
later adds the occurrences that have come into the window. An event that cannot be read (a date out of range,
an unknown time zone, a broken value) is skipped with its line, UID and the reason; the others are imported.
"""

import datetime as dt
import zoneinfo
from dataclasses import dataclass

import icalendar
import recurring_ical_events
import x_wr_timezone

RECURRENCE_WINDOW = dt.timedelta(days=365)
MAX_OCCURRENCES = 1000
# Properties whose broken value makes the event's time unknown; a broken DESCRIPTION does not.
_TIME_PROPERTIES = {"DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID"}
_RECURRENCE_PROPERTIES = ("RRULE", "RDATE")


class IcsFileError(ValueError):
    """The file is not an iCalendar file at all; the message says why."""


@dataclass
class Absence:
    start: dt.datetime
    end: dt.datetime
    summary: str


@dataclass
class Skipped:
    line: int
    uid: str
    summary: str
    reason: str


def absences_from_ics(text: str, *, default_zone: zoneinfo.ZoneInfo,
                      now: dt.datetime) -> tuple[list[Absence], list[Skipped]]:
    """The file's events as aware (start, end, summary), and the events left out with why."""
    try:
        components = icalendar.Component.from_ical(text, multiple=True)
        # Google's X-WR-TIMEZONE: the floating times of such a calendar are in that zone, not the rep's.
        components = [x_wr_timezone.to_standard(component) for component in components]
    except (ValueError, OverflowError) as error:
        raise IcsFileError(f"the file is not an iCalendar file ({error})") from None
    if not components:  # icalendar reads an empty or unterminated file as nothing at all
        raise IcsFileError("the file is not an iCalendar file (no complete BEGIN:VCALENDAR ... END:VCALENDAR)")
    events = [event for component in components for event in component.walk("VEVENT")]
    lines = _begin_lines(text)
    absences, skipped = [], []
    for unit in _units(events):
        try:
            for event in unit:
                _check(event)
            if _recurs(unit):
                absences += _occurrences(unit, default_zone=default_zone, now=now)
            else:
                [event] = unit
                absences.append(_absence(event, default_zone))
        except (ValueError, OverflowError) as error:
            first = unit[0]
            position = next(index for index, event in enumerate(events) if event is first)
            skipped.append(Skipped(line=lines[position] if position < len(lines) else 0,
                                   uid=str(first.get("UID", "")), summary=_summary(first), reason=_reason(error)))
    return absences, skipped


def _units(events):
    """Events read together: a recurring event with its moved occurrences (one UID), else each event alone."""
    by_uid = {}
    for position, event in enumerate(events):
        by_uid.setdefault(str(event.get("UID", "")) or position, []).append(event)
    for series in by_uid.values():
        if _recurs(series):
            yield series
        else:
            yield from ([event] for event in series)


def _recurs(events):
    return any(name in event for event in events for name in _RECURRENCE_PROPERTIES)


def _check(event):
    """Raises ValueError when the event's times cannot be known; icalendar keeps broken values aside in .errors."""
    for name, message in event.errors:
        if name in _TIME_PROPERTIES:
            raise ValueError(f"its {name} cannot be read: {message}")
    if "DTSTART" not in event:
        raise ValueError("the event has no DTSTART")
    # A moved occurrence that is cancelled is a gap in the series, not a reason to drop it.
    if str(event.get("STATUS", "")).upper() == "CANCELLED" and "RECURRENCE-ID" not in event:
        raise ValueError("the event is cancelled")
    for name in ("DTSTART", "DTEND", "RECURRENCE-ID"):
        value = event.get(name)
        zone = value.params.get("TZID") if value is not None else None
        if zone and isinstance(value.dt, dt.datetime) and value.dt.tzinfo is None:
            # icalendar knows IANA and Windows names and the file's own VTIMEZONEs; this is none of them.
            raise ValueError(f"unknown time zone {zone!r}; use an IANA name such as Europe/Berlin")


def _occurrences(series, *, default_zone, now):
    """One absence per occurrence overlapping [now, now + RECURRENCE_WINDOW), in start order."""
    calendar = icalendar.Calendar()
    for event in series:
        calendar.add_component(event)
    until, absences = now + RECURRENCE_WINDOW, []
    for occurrence in recurring_ical_events.of(calendar).after(now):
        if str(occurrence.get("STATUS", "")).upper() == "CANCELLED":
            continue
        absence = _absence(occurrence, default_zone)
        if absence.start >= until:
            break
        if len(absences) == MAX_OCCURRENCES:
            raise ValueError(f"it repeats more than {MAX_OCCURRENCES} times in the next "
                             f"{RECURRENCE_WINDOW.days} days; add it as longer absences")
        absences.append(absence)
    return absences


def _absence(event, default_zone):
    # .end follows RFC 5545: DTEND, else DTSTART + DURATION, else one day for a date and no length for a time.
    start, end = _aware(event.start, default_zone), _aware(event.end, default_zone)
    if end <= start:
        raise ValueError("the event ends before it starts or has no length")
    return Absence(start, end, _summary(event))


def _aware(value, default_zone):
    """In the rep's zone, where floating times and all-day dates are read. Overflows here, not when saved."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    if value.tzinfo is None:
        value = value.replace(tzinfo=default_zone)
    value.astimezone(dt.UTC)  # the database's zone: 9999-12-31 late in Tokyo is past year 9999 there
    return value.astimezone(default_zone)


def _summary(event):
    return str(event.get("SUMMARY", "")).strip()


def _reason(error):
    if isinstance(error, OverflowError):
        return f"a date is out of range ({error})"
    return str(error)


def _begin_lines(text):
    """The line number of each BEGIN:VEVENT, in file order: the order in which icalendar walks the events."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return [number for number, line in enumerate(lines, start=1) if line.strip().upper() == "BEGIN:VEVENT"]
