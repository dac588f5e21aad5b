"""The capacity board: each rep the manager sees, available now or why not, their load against their caps."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet

from reps.availability import next_available_times, unavailability
from reps.models import Rep
from reps.scoping import TeamScope, reps_in_scope
from routing.capacity import LAST_HOUR, TODAY, capacity_problem, rep_loads


@dataclass
class CapacityRow:
    rep: Rep
    unavailable: object  # reps.availability.Unavailable, or None when the rep can take leads now
    open: int
    today: int
    hour: int
    next_available_at: dt.datetime | None = None
    at_cap: str = ""  # the cap reached: "open_cap", "daily_cap" or "hourly_cap"

    @property
    def state(self) -> str:
        """available, away, on_leave or out_of_hours (holidays included)."""
        if self.unavailable is None:
            return "available"
        return {"holiday": "out_of_hours"}.get(self.unavailable.code, self.unavailable.code)


def capacity_board(*, reps: list, at: dt.datetime) -> list:
    """Each rep's availability now, load against caps, and the next instant they can take leads when not now."""
    unavailable = unavailability(reps, at)
    loads = rep_loads(reps, at=at)
    next_times = next_available_times([rep for rep in reps if unavailable[rep.pk] is not None], at)
    rows = []
    for rep in reps:
        row = CapacityRow(rep=rep, unavailable=unavailable[rep.pk], open=loads.open.get(rep.pk, 0),
                          today=loads.received(TODAY, rep.pk), hour=loads.received(LAST_HOUR, rep.pk))
        problem = capacity_problem(rep, row.open, row.today, row.hour)
        row.at_cap = problem[0] if problem else ""
        row.next_available_at = next_times.get(rep.pk)
        rows.append(row)
    return rows


def reps_for_capacity_board(scope: TeamScope | None) -> QuerySet:
    """The active reps the manager sees, by name (the reps' default order)."""
    return reps_in_scope(Rep.objects.filter(is_active=True).select_related("user"), scope)
