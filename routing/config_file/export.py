"""Export: the whole routing configuration as the file holds it, every other object named by natural key."""

import json

from reps.models import Rep, Territory
from routing.config_file.schema import FORMAT_VERSION, RULE_KEYS, RULE_REFERENCES, skill_order
from routing.models import Pool, RoutingRule


def routing_config_export() -> dict:
    """The whole routing configuration as the file holds it; write it with routing_config_json."""
    territories = Territory.objects.select_related("parent").prefetch_related("reps__user", "teams").order_by("name")
    pools = Pool.objects.prefetch_related("teams", "reps__user").order_by("name")
    return {
        "version": FORMAT_VERSION,
        "territories": [territory_entry(territory) for territory in territories],
        "pools": [pool_entry(pool) for pool in pools],
        "rules": [rule_entry(rule) for rule in rules_with_everything()],
    }


def routing_config_json(config: dict) -> str:
    """The file's text: keys in a fixed order, 2-space indent, a trailing newline, so git diffs show only changes."""
    return json.dumps(config, indent=2, ensure_ascii=False) + "\n"


def natural_key(obj):
    if obj is None:
        return None
    return obj.user.username if isinstance(obj, Rep) else obj.name


def _names(objects) -> list:
    return sorted(natural_key(obj) for obj in objects)


def territory_entry(territory) -> dict:
    return {
        "name": territory.name,
        "parent": natural_key(territory.parent),
        "countries": sorted(country.code for country in territory.countries),
        "regions": territory.regions,
        "postal_codes": territory.postal_codes,
        "reps": _names(territory.reps.all()),
        "teams": _names(territory.teams.all()),
    }


def pool_entry(pool) -> dict:
    return {"name": pool.name, "teams": _names(pool.teams.all()), "reps": _names(pool.reps.all())}


def rule_entry(rule) -> dict:
    entry = {}
    for key in RULE_KEYS:
        if key == "conditions":
            entry[key] = [{"field": c.field, "operator": c.operator, "value": c.value} for c in rule.conditions.all()]
        elif key == "skill_requirements":
            requirements = rule.skill_requirements.all()
            entry[key] = sorted(({"kind": r.skill.kind, "name": r.skill.name, "min_level": r.min_level}
                                 for r in requirements), key=skill_order)
        elif key in RULE_REFERENCES:
            entry[key] = natural_key(getattr(rule, key))
        else:
            entry[key] = getattr(rule, key)
    return entry


def rules_with_everything():
    return (
        RoutingRule.objects.select_related(
            "target_rep__user", "target_team", "pool", "sla_escalation_team", "sla_escalation_pool"
        )
        .prefetch_related("conditions", "skill_requirements__skill")
        # The name breaks ties before the id, so two databases with the same rules export the same file.
        .order_by("priority", "name", "id")
    )
