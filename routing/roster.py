"""The reps of the rules' team targets, kept by each worker from batch to batch while nobody changes them.

A batch of 50 leads in a mid-size organisation reaches most of its 20 teams: reading their 200 reps
with users and calendars into model objects for every batch cost a worker more than deciding the
batch's leads. The reps' rows change far less often than leads arrive, so a worker keeps them and
reads one row per batch instead: `RosterVersion`, whose token triggers move on every write to reps,
memberships, users and calendars (migration 0026), whoever writes. What changes by the minute is not
kept: availability, time off, working hours and loads are read in every batch (`routing.candidates`).

The token is read before the reps, so reps read after a change are never kept under the token from
before it; at worst a worker reads them once more.
"""

import threading
from dataclasses import dataclass

from reps.models import Rep
from routing.models import RosterVersion


@dataclass(frozen=True)
class Roster:
    version: int
    team_ids: frozenset  # the teams whose members it holds
    reps: dict  # rep id -> Rep with user and calendar, in the reps' order (Rep.Meta.ordering)
    teams_of: dict  # rep id -> ids of the teams of `team_ids` the rep is a member of


_kept = threading.local()


def team_roster(team_ids) -> Roster:
    """The members of these teams, as this worker kept them unless a rep, membership, user or calendar changed."""
    team_ids = frozenset(team_ids)
    version = RosterVersion.objects.values_list("version", flat=True).first() or 0
    kept = getattr(_kept, "roster", None)
    if kept is None or kept.version != version or not team_ids <= kept.team_ids:
        kept = _kept.roster = _roster_read(version, team_ids | (kept.team_ids if kept else frozenset()))
    return kept


def forget_roster() -> None:
    """Drops what this thread kept (tests that rebuild the database under a token it may have seen)."""
    _kept.roster = None


def _roster_read(version, team_ids) -> Roster:
    memberships = (
        Rep.teams.through.objects.filter(team_id__in=team_ids)
        .select_related("rep__user", "rep__calendar")
        .order_by(*(f"rep__{name}" for name in Rep._meta.ordering), "rep_id")
    )
    reps, teams_of = {}, {}
    for membership in memberships:
        reps.setdefault(membership.rep_id, membership.rep)
        teams_of.setdefault(membership.rep_id, set()).add(membership.team_id)
    return Roster(version, team_ids, reps, teams_of)
