"""Whether a rep can take a lead at a given instant, and if not, why: the one place that answers it.

The order of the checks is the order of the reasons: inactive, away, on leave, then the
calendar (holiday, out of hours). Working hours are wall-clock times in the calendar's
time zone, so a 09:00–17:00 shift stays 09:00–17:00 local across a DST switch. A shift
is off when it starts on a holiday (a night shift belongs to the day it starts); outside
any shift, a holiday on the local date is given as the reason rather than "out of hours".
"""

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _

from reps.models import AvailabilityCalendar, Holiday, Rep, TimeOff, WorkingHours

DAY_SECONDS = 24 * 3600
LOOKAHEAD = dt.timedelta(days=14)


@dataclass(frozen=True)
class Unavailable:
    """Why a rep cannot take a lead, as data: the decision's trace stores it, each reader sees it in their language."""

    code: str  # one of: "inactive", "away", "on_leave", "holiday", "out_of_hours"
    params: dict = field(default_factory=dict)  # JSON-safe values; see `unavailable_text`

    @property
    def text(self) -> str:
        return unavailable_text(self.code, self.params)


def unavailable_text(code: str, params: dict) -> str:
    """An unavailability in the active language, e.g. "on leave until 14:00 Europe/Berlin (Dentist)"."""
    if code == "inactive":
        return _("inactive")
    if code == "away":
        return _("away until %(until)s") % params if params.get("until") else _("away, no return time set")
    if code == "on_leave":
        text = _("on leave until %(until)s") % params
        return _("%(leave)s (%(note)s)") % {"leave": text, "note": params["note"]} if params.get("note") else text
    if code == "holiday":
        return _("holiday: %(holiday)s") % params
    if params.get("bad_zone"):
        return _("out of hours: calendar %(calendar)s has an unknown time zone '%(zone)s'") % params
    if not params.get("hours"):
        return _("out of hours: calendar %(calendar)s has no working hours") % params
    return _("out of hours: works %(hours)s %(zone)s") % {"hours": schedule_text(params["hours"]), "zone": params["zone"]}


def schedule_text(schedule) -> str:
    """A week's [[weekdays, intervals], ...] in one line, e.g. "Mon–Fri 09:00–17:00; Sat 10:00–14:00"."""
    return "; ".join(f"{_weekday_ranges(days)} {', '.join(intervals)}" for days, intervals in schedule)


def unavailability(reps, at: dt.datetime) -> dict[int, Unavailable | None]:
    """rep.pk -> why the rep cannot take a lead at `at`, or None when they can; a constant number of queries."""
    _require_aware(at)
    reps = list(reps)
    reasons = {rep.pk: _personal_reason(rep, at) for rep in reps}
    candidates = [rep for rep in reps if reasons[rep.pk] is None]
    if not candidates:
        return reasons

    by_pk = {rep.pk: rep for rep in candidates}
    for rep_id, (end, reason) in _time_off_covering(list(by_pk), at).items():
        until = _clock(end, _rep_zone(by_pk[rep_id]), at)
        reasons[rep_id] = Unavailable("on_leave", {"until": until, "note": reason} if reason else {"until": until})

    scheduled = [rep for rep in candidates if reasons[rep.pk] is None and rep.calendar_id is not None]
    if scheduled:
        verdicts = _calendar_verdicts(_calendars_of(scheduled), at)
        for rep in scheduled:
            reasons[rep.pk] = verdicts[rep.calendar_id]
    return reasons


def rep_unavailability(rep, at: dt.datetime) -> Unavailable | None:
    """Why this one rep cannot take a lead at `at`, or None when they can."""
    return unavailability([rep], at)[rep.pk]


def next_available_at(rep, after: dt.datetime) -> dt.datetime | None:
    """The first instant from `after` on at which the rep can take leads, or None if there is none within 14 days.

    Follows working hours, holidays (a shift that starts on one is skipped), an away status
    with a return time and time off. `after` itself is returned when the rep is available then.
    Inactive reps and reps away with no return time have no next instant.
    """
    return next_available_times([rep], after)[rep.pk]


def next_available_times(reps, after: dt.datetime) -> dict:
    """rep.pk -> `next_available_at(rep, after)` for every rep, in four queries whatever the number of reps.

    The capacity board asks it for every rep who is away, on leave or out of hours: at night that is
    most of a page, and one rep at a time cost four queries each.
    """
    _require_aware(after)
    limit = after + LOOKAHEAD
    starts = {rep.pk: _search_start(rep, after) for rep in reps}
    searched = [rep for rep in reps if starts[rep.pk] is not None and starts[rep.pk] < limit]
    found = dict.fromkeys(starts)
    if not searched:
        return found
    leaves = {}
    rows = TimeOff.objects.filter(rep_id__in=[rep.pk for rep in searched], end__gt=after, start__lt=limit)
    for rep_id, start, end in rows.order_by("start").values_list("rep_id", "start", "end"):
        leaves.setdefault(rep_id, []).append((start, end))
    plans = _week_plans(_calendars_of([rep for rep in searched if rep.calendar_id is not None]), after, limit)
    for rep in searched:
        start = starts[rep.pk]
        if rep.calendar_id is None:
            windows = [(start, limit)]
        elif plans[rep.calendar_id].zone is None:
            continue
        else:
            windows = plans[rep.calendar_id].windows(start, limit)
        for window_start, window_end in windows:
            moment = _past_time_off(max(window_start, start), leaves.get(rep.pk, []))
            if moment < window_end and moment < limit:
                found[rep.pk] = moment
                break
    return found


def _search_start(rep, after: dt.datetime) -> dt.datetime | None:
    """Where the search for a rep's next available instant begins: None for inactive reps and the indefinitely away."""
    if not rep.is_active:
        return None
    if rep.status == Rep.Status.AWAY:
        return None if rep.away_until is None else max(after, rep.away_until)
    return after


def _working_hours_of(calendars) -> dict:
    """calendar id -> [(weekday, start, end)] of these calendars, in one query."""
    hours = {}
    rows = WorkingHours.objects.filter(calendar_id__in=calendars).order_by().values_list("calendar_id", "weekday", "start", "end")
    for calendar_id, weekday, start, end in rows:
        hours.setdefault(calendar_id, []).append((weekday, start, end))
    return hours


def _week_plans(calendars: dict, after: dt.datetime, limit: dt.datetime) -> dict:
    """calendar id -> WeekPlan with the holidays around [after, limit): one query for hours, one for holidays."""
    hours, holidays = _working_hours_of(calendars), {}
    # Local dates differ from UTC ones by at most a day either way; a day more for yesterday's overnight shift.
    dates = (after.date() - dt.timedelta(days=2), limit.date() + dt.timedelta(days=1))
    rows = Holiday.objects.filter(calendar_id__in=calendars, date__range=dates).values_list("calendar_id", "date")
    for calendar_id, date in rows:
        holidays.setdefault(calendar_id, set()).add(date)
    return {pk: WeekPlan(calendar, hours.get(pk, ()), holidays=holidays.get(pk, set()))
            for pk, calendar in calendars.items()}


def add_working_time(rep, *, start: dt.datetime, minutes: int) -> dt.datetime | None:
    """The instant `minutes` of the rep's calendar working time after `start`; None when the calendar has too few hours."""
    _require_aware(start)
    calendar = _calendars_of([rep])[rep.calendar_id]
    hours = WorkingHours.objects.filter(calendar_id=calendar.pk).values_list("weekday", "start", "end")
    plan = WeekPlan(calendar, hours)
    if plan.zone is None:
        return None
    remaining = dt.timedelta(minutes=minutes)
    for window_start, window_end in plan.windows(start, start + dt.timedelta(days=31)):
        begin = max(window_start, start)
        if window_end <= begin:
            continue
        if begin + remaining <= window_end:
            return begin + remaining
        remaining -= window_end - begin
    return None


class WeekPlan:
    """One calendar's working hours as, per local weekday, the (start, end, days_back) second ranges they cover.

    days_back is 1 for the part of an overnight shift that started the day before: that
    shift's holiday is judged on the day it started.
    """

    def __init__(self, calendar, hours, *, holidays=None):
        self.calendar = calendar
        self.holidays = holidays  # the calendar's holiday dates around the span asked, when read ahead; None: read them
        self.hours = sorted(hours)  # (weekday, start, end)
        try:
            self.zone = zoneinfo.ZoneInfo(calendar.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            self.zone = None  # saved without validation; the rep is treated as out of hours, never crashes routing
        self.days = [[] for _ in range(7)]
        for weekday, start, end in self.hours:
            begin, finish = _seconds(start), _seconds(end)
            if finish > begin:
                self.days[weekday].append((begin, finish, 0))
            else:
                self.days[weekday].append((begin, DAY_SECONDS, 0))
                if finish > 0:
                    self.days[(weekday + 1) % 7].append((0, finish, 1))

    def shift_dates(self, local: dt.datetime) -> set:
        """The local dates on which the shifts covering this local wall-clock time started."""
        now = local.hour * 3600 + local.minute * 60 + local.second
        today = local.date()
        return {today - dt.timedelta(days=back) for begin, finish, back in self.days[local.weekday()] if begin <= now < finish}

    def windows(self, start: dt.datetime, limit: dt.datetime) -> list:
        """The shifts overlapping [start, limit) as sorted (start, end) instants, shifts starting on holidays left out."""
        first = start.astimezone(self.zone).date() - dt.timedelta(days=1)  # yesterday's overnight shift may still run
        last = limit.astimezone(self.zone).date()
        holidays = self.holidays
        if holidays is None:
            holidays = set(
                Holiday.objects.filter(calendar_id=self.calendar.pk, date__range=(first, last)).values_list("date", flat=True)
            )
        found = []
        day = first
        while day <= last:
            if day not in holidays:
                for weekday, begin, finish in self.hours:
                    if weekday != day.weekday():
                        continue
                    end_day = day if finish > begin else day + dt.timedelta(days=1)
                    window = (
                        _first_instant_at(self.zone, dt.datetime.combine(day, begin)),
                        _first_instant_at(self.zone, dt.datetime.combine(end_day, finish)),
                    )
                    if window[1] > start:
                        found.append(window)
            day += dt.timedelta(days=1)
        return sorted(found)

    def schedule(self) -> list:
        """The week as [[weekdays, intervals], ...], e.g. [[[0, 1, 2, 3, 4], ["09:00–17:00"]]] (see `schedule_text`)."""
        schedules = {}  # the day's intervals -> the weekdays that have exactly them
        for day in range(7):
            intervals = tuple(f"{begin:%H:%M}–{finish:%H:%M}" for weekday, begin, finish in self.hours if weekday == day)
            if intervals:
                schedules.setdefault(intervals, []).append(day)
        return [[days, list(intervals)] for intervals, days in schedules.items()]


def _require_aware(moment: dt.datetime):
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"Availability needs a time-zone-aware datetime, got the naive {moment!r}.")


def _personal_reason(rep, at) -> Unavailable | None:
    if not rep.is_active:
        return Unavailable("inactive")
    if rep.status == Rep.Status.AWAY:
        if rep.away_until is None:
            return Unavailable("away")
        if rep.away_until > at:
            return Unavailable("away", {"until": _clock(rep.away_until, _rep_zone(rep), at)})
    return None


def _time_off_covering(rep_ids, at) -> dict:
    """rep id -> (end, reason) of the time off covering `at`; the one ending last if several overlap."""
    covering = {}
    # Filtered by time only: few reps are on leave at one instant, and a thousand-id IN list costs more.
    wanted = set(rep_ids)
    rows = TimeOff.objects.filter(start__lte=at, end__gt=at).order_by("rep_id", "end")
    for rep_id, end, reason in rows.values_list("rep_id", "end", "reason"):
        if rep_id in wanted:
            covering[rep_id] = (end, reason)
    return covering


def _calendars_of(reps) -> dict:
    """calendar id -> calendar, from the reps' cached relation (select_related) or in one query."""
    calendars = {rep.calendar_id: rep.calendar for rep in reps if Rep.calendar.is_cached(rep)}
    missing = {rep.calendar_id for rep in reps} - calendars.keys()
    if missing:
        calendars.update(AvailabilityCalendar.objects.in_bulk(missing))
    return calendars


def _calendar_verdicts(calendars: dict, at) -> dict:
    """calendar id -> Unavailable or None at `at`: one query for working hours, one for holidays."""
    hours = _working_hours_of(calendars)
    plans = {pk: WeekPlan(calendar, hours.get(pk, ())) for pk, calendar in calendars.items()}
    local = {pk: at.astimezone(plan.zone) for pk, plan in plans.items() if plan.zone is not None}

    # Today's holiday labels an idle hour; yesterday's matters for a shift that ran past midnight.
    dates = {moment.date() for moment in local.values()}
    dates |= {date - dt.timedelta(days=1) for date in dates}
    holidays = {}
    if local:
        rows = Holiday.objects.filter(calendar_id__in=local.keys(), date__in=dates).values_list("calendar_id", "date", "name")
        for calendar_id, date, name in rows:
            holidays[(calendar_id, date)] = name or f"{date:%Y-%m-%d}"

    verdicts = {}
    for pk, plan in plans.items():
        name = plan.calendar.name
        if plan.zone is None:
            verdicts[pk] = Unavailable("out_of_hours", {"calendar": name, "zone": plan.calendar.time_zone, "bad_zone": True})
            continue
        if not plan.hours:
            verdicts[pk] = Unavailable("out_of_hours", {"calendar": name})
            continue
        started = plan.shift_dates(local[pk])
        if any((pk, date) not in holidays for date in started):
            verdicts[pk] = None
            continue
        holiday_date = max(started) if started else local[pk].date()
        if (pk, holiday_date) in holidays:
            verdicts[pk] = Unavailable("holiday", {"holiday": holidays[(pk, holiday_date)]})
        else:
            verdicts[pk] = Unavailable(
                "out_of_hours", {"calendar": name, "zone": plan.calendar.time_zone, "hours": plan.schedule()}
            )
    return verdicts


def _past_time_off(moment, leaves):
    """The first instant from `moment` on outside the (start, end) time off ranges, sorted by start."""
    for start, end in leaves:
        if start <= moment < end:
            moment = end
    return moment


def _first_instant_at(zone, wall: dt.datetime) -> dt.datetime:
    """The first instant at which the clock in `zone` shows `wall` or later.

    Ambiguous times (clocks going back) give the earlier instant; times that do not exist
    (clocks going forward) give the instant the clock jumps past them.
    """
    instant = wall.replace(tzinfo=zone).astimezone(dt.UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == wall:
        return instant
    # In a gap fold=1 reads the wall time with the offset after the jump, which lands before
    # the jump; bisect between that and fold=0 (after the jump) for the jump itself.
    low = int(wall.replace(tzinfo=zone, fold=1).timestamp())
    high = int(instant.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if dt.datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return dt.datetime.fromtimestamp(high, dt.UTC)


def zone_or_utc(time_zone: str):
    """The named zone; UTC for a name saved without validation, so a bad one never stops routing or an email."""
    try:
        return zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def _rep_zone(rep):
    return zone_or_utc(rep.time_zone)


def _clock(moment: dt.datetime, zone, at: dt.datetime) -> str:
    """`moment` as a person in `zone` reads it: a date at midnight, the time alone if it is today there."""
    local = moment.astimezone(zone)
    if local.time() == dt.time(0):
        return f"{local:%Y-%m-%d}"
    if local.date() == at.astimezone(zone).date():
        return f"{local:%H:%M} {zone}"
    return f"{local:%Y-%m-%d %H:%M} {zone}"


def _seconds(moment: dt.time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def _weekday_ranges(days: list) -> str:
    """[0, 1, 2, 3, 4] -> "Mon–Fri"; [0, 2, 3] -> "Mon, Wed–Thu" (day names in the active language)."""
    runs = []
    for day in days:
        if runs and runs[-1][1] == day - 1:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return ", ".join(
        str(WEEKDAYS_ABBR[first]) if first == last else f"{WEEKDAYS_ABBR[first]}–{WEEKDAYS_ABBR[last]}" for first, last in runs
    )
