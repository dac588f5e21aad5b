"""Time off from an iCalendar (.ics) file: the VEVENTs' start, end and summary, read without a dependency.

Covers what calendar exports contain for absences: UTC times (…Z), local times with a
TZID, floating times and all-day dates (read in the rep's time zone; an all-day DTEND is
exclusive, as RFC 5545 says), DURATION instead of DTEND. Recurring and cancelled events
are skipped with a reason rather than guessed at.
"""

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass

_DURATION = re.compile(
    r"P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?"
)


@dataclass
class Absence:
    start: dt.datetime
    end: dt.datetime
    summary: str


@dataclass
class Skipped:
    line: int
    summary: str
    reason: str


def absences_from_ics(text: str, *, default_zone: zoneinfo.ZoneInfo) -> tuple[list[Absence], list[Skipped]]:
    """The file's events as aware (start, end, summary), and the events left out with why."""
    absences, skipped = [], []
    for line_number, properties in _events(text):
        summary = _unescape(properties.get("SUMMARY", ("", {}))[0])
        try:
            if "RRULE" in properties:
                raise ValueError("recurring events are not expanded; add each absence on its own")
            if properties.get("STATUS", ("", {}))[0].upper() == "CANCELLED":
                raise ValueError("the event is cancelled")
            if "DTSTART" not in properties:
                raise ValueError("the event has no DTSTART")
            start, all_day = _moment(*properties["DTSTART"], default_zone)
            if "DTEND" in properties:
                end, _ = _moment(*properties["DTEND"], default_zone)
            elif "DURATION" in properties:
                end = start + _duration(properties["DURATION"][0])
            else:
                end = start + dt.timedelta(days=1) if all_day else start  # RFC 5545: a date lasts one day
            if end <= start:
                raise ValueError("the event ends before it starts or has no length")
        except ValueError as error:
            skipped.append(Skipped(line_number, summary, str(error)))
            continue
        absences.append(Absence(start, end, summary))
    return absences, skipped


def _events(text):
    """(line number of BEGIN:VEVENT, {NAME: (value, {PARAM: value})}) for each event."""
    event, begin_line = None, 0
    for line_number, line in _unfolded_lines(text):
        name, params, value = _split(line)
        if name == "BEGIN" and value.upper() == "VEVENT":
            event, begin_line = {}, line_number
        elif name == "END" and value.upper() == "VEVENT" and event is not None:
            yield begin_line, event
            event = None
        elif event is not None and name not in event:
            event[name] = (value, params)


def _unfolded_lines(text):
    """Content lines, a line starting with a space or tab continuing the one before it (RFC 5545 folding)."""
    current, start = None, 0
    for number, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        if raw[:1] in (" ", "\t") and current is not None:
            current += raw[1:]
            continue
        if current:
            yield start, current
        current, start = raw, number
    if current:
        yield start, current


def _split(line):
    """'DTSTART;TZID=Europe/Berlin:20260302T090000' -> ('DTSTART', {'TZID': 'Europe/Berlin'}, '20260302T090000')."""
    head, _, value = line.partition(":")
    name, *raw_params = head.split(";")
    params = {}
    for raw in raw_params:
        key, _, param_value = raw.partition("=")
        params[key.upper()] = param_value.strip('"')
    return name.strip().upper(), params, value.strip()


def _moment(value, params, default_zone):
    """An aware datetime and whether the value was an all-day date."""
    if params.get("VALUE", "").upper() == "DATE" or re.fullmatch(r"\d{8}", value):
        day = _parse(value, "%Y%m%d", "a date such as 20260302").date()
        return dt.datetime.combine(day, dt.time(), tzinfo=default_zone), True
    if value.endswith("Z"):
        return _parse(value[:-1], "%Y%m%dT%H%M%S", "a time such as 20260302T090000Z").replace(tzinfo=dt.UTC), False
    zone = default_zone
    if "TZID" in params:
        try:
            zone = zoneinfo.ZoneInfo(params["TZID"])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {params['TZID']!r}; use an IANA name such as Europe/Berlin") from None
    return _parse(value, "%Y%m%dT%H%M%S", "a time such as 20260302T090000").replace(tzinfo=zone), False


def _parse(value, pattern, example):
    try:
        return dt.datetime.strptime(value, pattern)
    except ValueError:
        raise ValueError(f"{value!r} is not {example}") from None


def _duration(value):
    match = _DURATION.fullmatch(value.strip())
    if not match or not any(match.groups()):
        raise ValueError(f"{value!r} is not a duration such as P1D or PT4H")
    parts = {key: int(number) for key, number in match.groupdict().items() if number}
    return dt.timedelta(**parts)


def _unescape(value):
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value).strip()
