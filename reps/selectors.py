"""Read-side queries about the organisation."""

from reps.models import Team


def team_ids_below(team_id: int) -> list:
    """The team and all its sub-teams (any depth), safe against cycles."""
    children = {}
    for pk, parent_id in Team.objects.values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    found, stack = [], [team_id]
    while stack:
        current = stack.pop()
        if current in found:
            continue
        found.append(current)
        stack.extend(children.get(current, []))
    return found
