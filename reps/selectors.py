"""Read-side queries about the organisation."""

from reps.models import Team, Territory
from reps.territories import TerritoryIndex


def team_children() -> dict:
    """parent team id -> [child team ids], for walking the hierarchy without a query per level."""
    children = {}
    for pk, parent_id in Team.objects.values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    return children


def team_ids_below(team_id: int, children: dict | None = None) -> list:
    """The team and all its sub-teams (any depth), safe against cycles."""
    children = team_children() if children is None else children
    found, stack = [], [team_id]
    while stack:
        current = stack.pop()
        if current in found:
            continue
        found.append(current)
        stack.extend(children.get(current, []))
    return found


def territory_index() -> TerritoryIndex:
    """Every territory, loaded once, ready to place a lead's location."""
    return TerritoryIndex(Territory.objects.all())
