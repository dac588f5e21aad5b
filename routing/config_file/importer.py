"""Import: makes territories, pools and rules match a checked file, all or nothing, saying what changed."""

from dataclasses import dataclass, field
from functools import partial

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, ProtectedError
from django.utils.translation import gettext as _

from reps.models import Rep, Skill, Team, Territory
from routing.config_file.export import natural_key, pool_entry, rule_entry, rules_with_everything, territory_entry
from routing.config_file.schema import (
    MISSING,
    NAME_LISTS,
    POOL,
    REP,
    RULE_REFERENCES,
    RULE_VALUES,
    SECTIONS,
    SKILL,
    TEAM,
    TERRITORY,
    UNKNOWN_NAME,
    ConfigFileError,
    condition_label,
    config_from_file,
    object_label,
    shown,
    skill_order,
    where_text,
)
from routing.models import Pool, RoutingRule, RuleCondition, RuleSkillRequirement
from routing.validation import (
    is_rule_priority_clash,
    rule_priorities_check_now,
    rule_priorities_lock,
    rule_skill_errors,
)


@dataclass
class SectionReport:
    """What an import does to one kind of object; `updated` maps each name to what changed."""

    created: list = field(default_factory=list)
    updated: dict = field(default_factory=dict)
    unchanged: list = field(default_factory=list)
    deleted: list = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return bool(self.created or self.updated or self.deleted)


@dataclass
class ImportReport:
    dry_run: bool = False
    territories: SectionReport = field(default_factory=SectionReport)
    pools: SectionReport = field(default_factory=SectionReport)
    rules: SectionReport = field(default_factory=SectionReport)

    @property
    def has_changes(self) -> bool:
        return any(section.has_changes for object_label, _kind, section in self.sections)

    @property
    def sections(self) -> list:
        return [(_("Territories"), _("territory"), self.territories), (_("Pools"), _("pool"), self.pools),
                (_("Rules"), _("rule"), self.rules)]

    def lines(self) -> list:
        """The report as text, one change a line, as the import command prints it."""
        if not self.has_changes:
            return [_("No changes: the configuration already matches the file.")]
        lines = []
        for label, kind, section in self.sections:
            lines.append(_("%(label)s: %(created)s created, %(updated)s updated, %(unchanged)s unchanged, "
                           "%(deleted)s deleted.") % {"label": label, "created": len(section.created),
                                                       "updated": len(section.updated),
                                                       "unchanged": len(section.unchanged),
                                                       "deleted": len(section.deleted)})
            lines.extend(_("  created %(kind)s '%(name)s'") % {"kind": kind, "name": name} for name in section.created)
            for name, changes in section.updated.items():
                lines.append(_("  updated %(kind)s '%(name)s':") % {"kind": kind, "name": name})
                lines.extend(f"    {change}" for change in changes)
            lines.extend(_("  deleted %(kind)s '%(name)s'") % {"kind": kind, "name": name} for name in section.deleted)
        return lines


def routing_config_import(data, *, dry_run: bool = False, delete_missing: bool = False, actor=None) -> ImportReport:
    """Make the routing configuration match the file's content (from routing_config_from_json), all or nothing.

    Raises ConfigFileError listing every problem (nothing changed). A dry run checks and reports
    everything an import would do, then rolls it back. With an `actor`, each change is written to
    the admin history of what it changed.
    """
    config = config_from_file(data)
    try:
        with transaction.atomic():
            rule_priorities_lock()
            report = _Importer(config, delete_missing=delete_missing, actor=actor).run()
            report.dry_run = dry_run
            if dry_run:
                transaction.set_rollback(True)
    except IntegrityError as error:
        if not is_rule_priority_clash(error):
            raise
        # The file's priorities were checked against the rules before it; a rule saved since took one.
        raise ConfigFileError([_("While the file was imported, a rule was saved in the admin with a priority the "
                                 "file gives another rule; nothing was changed. Import again to see which.")]) from None
    return report


class _Importer:
    def __init__(self, config: dict, *, delete_missing: bool, actor):
        self.config, self.delete_missing, self.actor = config, delete_missing, actor
        self.problems = []
        self.report = ImportReport()
        self.known = {
            REP: {rep.user.username: rep for rep in Rep.objects.select_related("user")},
            TEAM: {team.name: team for team in Team.objects.all()},
            SKILL: {(skill.kind, skill.name): skill for skill in Skill.objects.all()},
            # Filled while importing: what the file has, plus, unless deleting, what it leaves out.
            TERRITORY: {},
            POOL: {},
        }
        # Names in the database that the file leaves out, when deleting them.
        self.to_delete = {TERRITORY: set(), POOL: set()}
        self.rules_to_check = []  # checked once every rule is written: priorities and targets depend on the others

    def run(self) -> ImportReport:
        self._import_territories()
        self._import_pools()
        self._import_rules()
        if self.delete_missing:
            self._delete_missing()
        self._check_written_rules()
        if self.problems:
            raise ConfigFileError(self.problems)
        rule_priorities_check_now()
        return self.report

    # Shared steps

    def _lookup(self, where: str, key, kind: str, name):
        """The object a name in the file stands for; None for no name, MISSING (problem recorded) for an unknown one."""
        if name is None:
            return None
        found = self.known[kind].get(name, MISSING)
        if found is MISSING and name in self.to_delete.get(kind, ()):
            self.problems.append(where_text(where, key, _(
                "'%(name)s' is not in the file, so deleting what the file leaves out would delete it: add it to the "
                "file, or name another.") % {"name": name}))
        elif found is MISSING:
            kind_name = {"kind": name[0], "name": name[1]} if kind == SKILL else {"name": name}
            self.problems.append(where_text(where, key, str(UNKNOWN_NAME[kind]) % kind_name))
        return found

    def _lookup_names(self, where: str, entry: dict) -> dict:
        return {key: [self._lookup(where, key, kind, name) for name in entry[key]] for key, kind in NAME_LISTS.items()}

    def _valid(self, where: str, obj, check=None) -> bool:
        """Runs a check of the model (full_clean unless told); records each message with the file key at fault."""
        try:
            (check or obj.full_clean)()
        except ValidationError as error:
            for key, errors in error.error_dict.items():
                for message in ValidationError(errors).messages:
                    self.problems.append(where_text(where, None if key == NON_FIELD_ERRORS else key,
                                                message + _choices_hint(obj, key, errors)))
            return False
        return True

    def _record(self, section: SectionReport, current, wanted: dict, obj):
        name = wanted["name"]
        if current is None:
            section.created.append(name)
            self._log(obj, ADDITION, _("Created by a configuration import."))
            return
        changes = [f"{key}: {_summary(current[key])} → {_summary(wanted[key])}" for key in wanted
                   if current[key] != wanted[key]]
        section.updated[name] = changes
        self._log(obj, CHANGE, _("Changed by a configuration import: %(changes)s.") % {"changes": "; ".join(changes)})

    def _log(self, obj, action_flag: int, message: str):
        if self.actor is not None:
            LogEntry.objects.log_actions(user_id=self.actor.pk, queryset=[obj], action_flag=action_flag,
                                         change_message=message, single_object=True)

    def _save_with_members(self, kind: str, obj, members: dict, current, entry: dict):
        """Saves a territory or pool with the reps and teams who cover it or may claim from it."""
        obj.save()
        obj.reps.set(members["reps"])
        obj.teams.set(members["teams"])
        self.known[kind][entry["name"]] = obj
        self._record(self.report.territories if kind == TERRITORY else self.report.pools, current, entry, obj)

    def _delete(self, section: SectionReport, where: str, obj):
        self._log(obj, DELETION, _("Deleted by a configuration import: not in the file."))
        try:
            obj.delete()
        except ProtectedError as error:
            users = ", ".join(sorted({str(other) for other in error.protected_objects})[:5])
            self.problems.append(where_text(where, None, _("is not in the file but cannot be deleted: %(users)s "
                                                       "still use it.") % {"users": users}))
            return
        section.deleted.append(obj.name)

    # Territories

    def _import_territories(self):
        territories = Territory.objects.select_related("parent").prefetch_related("reps__user", "teams")
        existing = {territory.name: territory for territory in territories}
        wanted = {entry["name"]: entry for entry in self.config["territories"]}
        kept = existing
        if self.delete_missing:
            kept, self.to_delete[TERRITORY] = {}, set(existing) - set(wanted)
        self.known[TERRITORY] = dict(kept)
        parents = {name: natural_key(territory.parent) for name, territory in kept.items()}
        parents.update({name: entry["parent"] for name, entry in wanted.items()})
        depths = self._territory_depths(parents, wanted)
        # Parents first, so each territory is saved under a parent that is already final.
        for name in sorted(depths, key=depths.get):
            entry, territory = wanted[name], existing.get(name)
            where = object_label(_("territory"), name)
            if entry["parent"] in wanted and entry["parent"] not in self.known[TERRITORY]:
                continue  # the parent's own problem is reported
            parent = self._lookup(where, "parent", TERRITORY, entry["parent"])
            current = territory_entry(territory) if territory else None
            if parent is not MISSING and current == entry:
                self.known[TERRITORY][name] = territory
                self.report.territories.unchanged.append(name)
                continue
            members = self._lookup_names(where, entry)
            territory = territory or Territory(name=name)
            territory.parent = None if parent is MISSING else parent
            for key in ["countries", "regions", "postal_codes"]:
                setattr(territory, key, entry[key])
            if parent is MISSING or _has_missing(members) or not self._valid(where, territory):
                continue
            self._save_with_members(TERRITORY, territory, members, current, entry)

    def _territory_depths(self, parents: dict, wanted: dict) -> dict:
        """Name -> number of ancestors, for the file's territories; a territory inside itself is a problem."""
        depths = {}
        for name in wanted:
            chain, parent = [name], parents.get(name)
            while parent is not None and parent not in chain and parent in parents:
                chain.append(parent)
                parent = parents[parent]
            if parent == name:
                self.problems.append(_("territory '%(name)s', parent: a territory cannot be inside itself "
                                       "(%(chain)s).") % {"name": name, "chain": " → ".join([*chain, parent])})
            if parent in chain:
                continue  # inside a loop of other territories, each reported
            depths[name] = len(chain)
        return depths

    # Pools

    def _import_pools(self):
        existing = {pool.name: pool for pool in Pool.objects.prefetch_related("teams", "reps__user")}
        self.known[POOL] = dict(existing)
        if self.delete_missing:
            self.known[POOL] = {}
            self.to_delete[POOL] = set(existing) - {entry["name"] for entry in self.config["pools"]}
        for entry in self.config["pools"]:
            name, pool = entry["name"], existing.get(entry["name"])
            current = pool_entry(pool) if pool else None
            if current == entry:
                self.known[POOL][name] = pool
                self.report.pools.unchanged.append(name)
                continue
            where = object_label(_("pool"), name)
            members = self._lookup_names(where, entry)
            pool = pool or Pool(name=name)
            if _has_missing(members) or not self._valid(where, pool):
                continue
            self._save_with_members(POOL, pool, members, current, entry)

    # Rules

    def _import_rules(self):
        existing = {}
        for rule in rules_with_everything():
            existing.setdefault(rule.name, []).append(rule)
        for entry in self.config["rules"]:
            where = object_label(_("rule"), entry["name"])
            same_name = existing.get(entry["name"], [])
            if len(same_name) > 1:
                self.problems.append(where_text(where, None, _(
                    "%(count)s rules in the database have this name, so the import cannot tell which one the file "
                    "means: rename all but one in the admin, then import again.") % {"count": len(same_name)}))
                continue
            # Looked up even for an unchanged rule: a pool it uses may be about to be deleted.
            references = {key: self._lookup(where, key, kind, entry[key]) for key, kind in RULE_REFERENCES.items()}
            skills = [self._lookup(where, "skill_requirements", SKILL, skill_order(requirement))
                      for requirement in entry["skill_requirements"]]
            if MISSING in [*references.values(), *skills]:
                continue
            rule = same_name[0] if same_name else None
            current = rule_entry(rule) if rule else None
            if current == entry:
                self.report.rules.unchanged.append(entry["name"])
                continue
            requirements = list(zip(skills, [requirement["min_level"] for requirement in entry["skill_requirements"]]))
            self._write_rule(where, rule, current, entry, references, requirements)

    def _write_rule(self, where: str, rule, current, entry: dict, references: dict, requirements: list):
        rule = rule or RoutingRule()
        for key in RULE_VALUES:
            setattr(rule, key, entry[key])
        for key, obj in references.items():
            setattr(rule, key, obj)
        # Field by field now; the rule as a whole once every rule is written (a priority another rule gives up).
        if not self._valid(where, rule, rule.clean_fields):
            return
        if current is None:
            rule.save()
        else:
            # Only the file's fields: the rotation counter moves under the rule's row lock, not here.
            rule.save(update_fields=[*RULE_VALUES, *RULE_REFERENCES, "updated_at"])
        if current is None or current["conditions"] != entry["conditions"]:
            self._write_conditions(where, rule, entry["conditions"])
        if current is None or current["skill_requirements"] != entry["skill_requirements"]:
            self._write_skill_requirements(where, rule, requirements)
        self.rules_to_check.append((where, rule, requirements))
        self._record(self.report.rules, current, entry, rule)

    def _write_conditions(self, where: str, rule, conditions: list):
        rule.conditions.all().delete()
        rows = [RuleCondition(rule=rule, **condition) for condition in conditions]
        valid = [self._valid(condition_label(where, index), row, partial(_check_condition, row))
                 for index, row in enumerate(rows, 1)]
        if all(valid):
            RuleCondition.objects.bulk_create(rows)

    def _write_skill_requirements(self, where: str, rule, requirements: list):
        rule.skill_requirements.all().delete()
        rows = [RuleSkillRequirement(rule=rule, skill=skill, min_level=level) for skill, level in requirements]
        valid = [self._valid(_("%(rule)s, skill '%(name)s' (%(kind)s)") % {"rule": where, "name": row.skill.name,
                                                                            "kind": row.skill.kind},
                             row, partial(row.full_clean, exclude=["rule"])) for row in rows]
        if all(valid):
            RuleSkillRequirement.objects.bulk_create(rows)

    def _check_written_rules(self):
        """The admin's checks on every created or changed rule, against the configuration as it now is."""
        for where, rule, requirements in self.rules_to_check:
            self._valid(where, rule)
            for message in rule_skill_errors(rule, requirements):
                self.problems.append(where_text(where, "skill_requirements", message))
        if self.report.territories.deleted:
            self._check_territory_conditions()

    def _check_territory_conditions(self):
        """A deleted territory must not leave a rule testing for it, written by this file or not."""
        for rule in RoutingRule.objects.prefetch_related("conditions"):
            for index, condition in enumerate(rule.conditions.all(), 1):
                if condition.field.strip() == "territory":
                    self._valid(condition_label(object_label(_("rule"), rule.name), index), condition, condition.clean)

    # Deleting what the file leaves out

    def _delete_missing(self):
        names = {section: {entry["name"] for entry in self.config[section]} for section in SECTIONS}
        for rule in RoutingRule.objects.exclude(name__in=names["rules"]).order_by("priority", "id"):
            self._delete(self.report.rules, object_label(_("rule"), rule.name), rule)
        pools = Pool.objects.exclude(name__in=names["pools"]).annotate(waiting=Count("leads")).order_by("name")
        for pool in pools:
            where = object_label(_("pool"), pool.name)
            if pool.waiting:
                self.problems.append(where_text(where, None, _(
                    "is not in the file, but %(count)s leads wait in it: keep it in the file, or let them be claimed "
                    "first.") % {"count": pool.waiting}))
                continue
            self._delete(self.report.pools, where, pool)
        missing = list(Territory.objects.exclude(name__in=names["territories"]).select_related("parent"))
        # Children before their parents, which protect against being deleted under them.
        for territory in sorted(missing, key=lambda t: (-len(list(t.ancestors())), t.name)):
            self._delete(self.report.territories, object_label(_("territory"), territory.name), territory)


def _choices_hint(obj, key: str, errors: list) -> str:
    """For a value that is not one of a short list of choices, the list: a file has no drop-down to pick from."""
    if key == NON_FIELD_ERRORS or not any(error.code == "invalid_choice" for error in errors):
        return ""
    choices = list(type(obj)._meta.get_field(key).choices or [])
    if len(choices) > 20:
        return ""  # countries: the message is clear enough without 250 codes
    return _(" Use one of: %(choices)s.") % {"choices": ", ".join(str(value) for value, object_label in choices)}


def _has_missing(members: dict) -> bool:
    return any(MISSING in objects for objects in members.values())


def _check_condition(condition):
    # The admin's own message first (what is wrong and what to write), then the column limits.
    condition.clean()
    condition.clean_fields(exclude=["rule"])


def _summary(value) -> str:
    """A value of the file as the report shows it: conditions and skills as a manager writes them."""
    if not isinstance(value, list):
        return shown(value)
    if not value:
        return _("none")
    if isinstance(value[0], dict) and "operator" in value[0]:
        return "; ".join(f"{c['field']} {c['operator']} {c['value']}".strip() for c in value)
    if isinstance(value[0], dict):
        return "; ".join(f"{r['kind']} '{r['name']}' ≥ {r['min_level']}" for r in value)
    return ", ".join(value)

