"""Who sees what: a sales manager sees the teams they manage and every sub-team below them.

Team scoping is about people, so it lives with them; every app (leads, reps, routing) reads its
lists through these functions, so the rule lives in one place: `manager_scope`.
"""

import operator
from dataclasses import dataclass
from functools import reduce

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Exists, OuterRef, Q, QuerySet

from leads.models import Lead
from reps.models import Rep, Team
from reps.selectors import team_children, team_ids_below
from routing.models import Pool

SALES_MANAGERS_GROUP = "Sales managers"
VIEW_ALL_TEAMS_PERMISSION = "reps.view_all_teams"


def is_sales_manager(user: AbstractBaseUser) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    # Asked several times per request (visibility, then scope): kept on the user object, as Django keeps permissions.
    if not hasattr(user, "_sales_manager_cache"):
        user._sales_manager_cache = user.groups.filter(name=SALES_MANAGERS_GROUP).exists()
    return user._sales_manager_cache


def rep_for(user: AbstractBaseUser) -> Rep | None:
    return Rep.objects.filter(user_id=user.pk).select_related("user").first() if user.is_authenticated else None


@dataclass(frozen=True)
class TeamScope:
    """Some teams, every sub-team below them, and the reps of all of those."""

    team_ids: frozenset
    rep_ids: frozenset


NO_TEAM = TeamScope(team_ids=frozenset(), rep_ids=frozenset())


def team_scope(team_ids) -> TeamScope:
    """The teams with all their sub-teams (any depth) and the reps who belong to any of them."""
    children = team_children()
    teams = frozenset(below for team_id in team_ids for below in team_ids_below(team_id, children))
    if not teams:
        return NO_TEAM
    reps = frozenset(Rep.objects.filter(teams__in=teams).values_list("pk", flat=True).distinct())
    return TeamScope(team_ids=teams, rep_ids=reps)


def manager_scope(user: AbstractBaseUser) -> TeamScope | None:
    """The team data a user sees as a sales manager; None means everything.

    Superusers and holders of reps.view_all_teams see every team. Any other sales manager sees
    the teams they manage and their sub-teams: the reps of those teams, the leads those reps own,
    the leads nobody owns that wait in a pool those teams or reps may claim or that one of those
    reps owned last, and the assignments and routing decisions of those leads or reps. A manager
    of no team, and a user who is no sales manager, see no team's data: never everything by accident.
    Rules, territories, skills and the other configuration are not scoped.
    """
    if user.is_superuser or user.has_perm(VIEW_ALL_TEAMS_PERMISSION):
        return None
    if not is_sales_manager(user):
        return NO_TEAM
    return team_scope(Team.objects.filter(managers=user).values_list("pk", flat=True))


def teams_in_scope(teams: QuerySet, scope: TeamScope | None) -> QuerySet:
    return teams if scope is None else teams.filter(pk__in=scope.team_ids)


def reps_in_scope(reps: QuerySet, scope: TeamScope | None) -> QuerySet:
    return reps if scope is None else reps.filter(pk__in=scope.rep_ids)


def _leads_in_scope_q(scope: TeamScope) -> Q:
    return reduce(operator.or_, _scope_lead_conditions(scope))


def _scope_lead_conditions(scope: TeamScope) -> list:
    """The ways a lead is in a manager's scope, each a condition on the lead's own columns."""
    claimable_pools = Pool.objects.filter(Q(teams__in=scope.team_ids) | Q(reps__in=scope.rep_ids))
    return [
        Q(owner_id__in=scope.rep_ids),
        Q(owner__isnull=True, pool__in=claimable_pools),
        # Released when their rep left, or moved to a pool after an SLA breach: still that team's to sort out.
        Q(owner__isnull=True, last_owner_id__in=scope.rep_ids),
    ]


def _its_lead_in_scope(scope: TeamScope) -> Q:
    """For an assignment or a decision: its lead is one of the scope's leads.

    One EXISTS on the row's own lead per way a lead is in scope, tested after the cheaper
    conditions on the row. PostgreSQL picks for each one, by the scope's size, between
    hashing the scope's leads once (the reps' leads from lead_owner_status_with_id alone: a
    team's 45,000 leads in 4 ms) and probing the row's lead. As `lead__in=<the scope's leads>`
    it worked out the scope over every lead first (the reassignment log filtered by a cause:
    2.3 s on a year of leads); as one EXISTS with the three ways ORed, its hash read the
    leads' rows (47 ms per list and per count).
    """
    return reduce(operator.or_, [Q(Exists(Lead.objects.filter(condition, pk=OuterRef("lead_id"))))
                                 for condition in _scope_lead_conditions(scope)])


def leads_in_scope(leads: QuerySet, scope: TeamScope | None) -> QuerySet:
    return leads if scope is None else leads.filter(_leads_in_scope_q(scope))


def _visible_leads_q(user: AbstractBaseUser) -> Q | None:
    """A sales manager's leads by their scope (see manager_scope), and everybody's own; None means every lead."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    own = Q(owner__user_id=user.pk)
    if not is_sales_manager(user):
        return own
    scope = manager_scope(user)
    return None if scope is None else own | _leads_in_scope_q(scope)


def leads_visible_to(user: AbstractBaseUser, leads: QuerySet) -> QuerySet:
    visible = _visible_leads_q(user)
    return leads if visible is None else leads.filter(visible)


def lead_events_visible_to(user: AbstractBaseUser, events: QuerySet) -> QuerySet:
    visible = _visible_leads_q(user)
    return events if visible is None else events.filter(lead__in=Lead.objects.filter(visible))


def lead_for_viewer(user: AbstractBaseUser, lead_id: int, leads: QuerySet | None = None) -> Lead | None:
    """The lead if the user may see it (the owner, sales managers whose scope holds it), else None.

    None alike for a missing id and for a lead out of the user's reach, not even a previous owner's:
    the pages of one lead answer both the same way, so an id tells nothing about other people's leads.
    """
    leads = Lead.objects.all() if leads is None else leads
    return leads_visible_to(user, leads.filter(pk=lead_id)).first()


def assignments_in_scope(assignments: QuerySet, scope: TeamScope | None) -> QuerySet:
    """Assignments of the scope's leads, or to or from one of its reps."""
    if scope is None:
        return assignments
    return assignments.filter(
        Q(rep_id__in=scope.rep_ids) | Q(from_rep_id__in=scope.rep_ids)
        | _its_lead_in_scope(scope)
    )


def decisions_in_scope(decisions: QuerySet, scope: TeamScope | None) -> QuerySet:
    """Routing decisions of the scope's leads, or that chose one of its reps."""
    if scope is None:
        return decisions
    return decisions.filter(Q(chosen_rep_id__in=scope.rep_ids) | _its_lead_in_scope(scope))
