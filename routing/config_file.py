"""Routing configuration as a file: territories, pools and rules as JSON that reads well in a git diff.

The file holds every territory (criteria, parent, covering reps and teams), every pool (who may
claim) and every rule, active or not, in priority order with its conditions and required skills.
Other objects are named by natural key, never by database id: a rep by username, a team, pool or
territory by name, a skill by kind and name. Reps, teams, skills and calendars are people data kept
in the admin: the file names them but never creates them.

Import matches territories, pools and rules by name: it creates, updates and (with
`delete_missing`) deletes, in one transaction, checking every rule with the admin's own
validation. One problem anywhere and nothing is changed. Objects the file leaves as they are
are not written at all, so a rule's rotation (who is next) survives the import.
"""

import json
from dataclasses import dataclass, field
from functools import partial

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Count, ProtectedError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from reps.models import Rep, Skill, Team, Territory
from routing.models import Pool, RoutingRule, RuleCondition, RuleSkillRequirement
from routing.validation import (
    is_rule_priority_clash,
    rule_priorities_check_now,
    rule_priorities_lock,
    rule_skill_errors,
)

FORMAT_VERSION = 1
SECTIONS = ["territories", "pools", "rules"]
REQUIRED = object()
MISSING = object()  # a name the file uses that names nothing; the problem is already recorded

# What a name in the file refers to.
REP, TEAM, POOL, TERRITORY, SKILL = "rep", "team", "pool", "territory", "skill"
UNKNOWN_NAME = {
    REP: gettext_lazy("no rep has the username '%(name)s'."),
    TEAM: gettext_lazy("there is no team named '%(name)s'."),
    POOL: gettext_lazy("there is no pool named '%(name)s'."),
    TERRITORY: gettext_lazy("there is no territory named '%(name)s'."),
    SKILL: gettext_lazy("there is no skill '%(name)s' of kind '%(kind)s'."),
}

# Each object's keys in the order they are written. A key the file leaves out takes the admin's default;
# only names and rule priorities are required.
TERRITORY_KEYS = ["name", "parent", "countries", "regions", "postal_codes", "reps", "teams"]
POOL_KEYS = ["name", "teams", "reps"]
RULE_KEYS = [
    "name", "priority", "is_active", "description", "match_mode", "conditions",
    "target_type", "target_rep", "target_team", "include_sub_teams", "use_parent_account_owner", "pool",
    "skill_requirements", "strategy", "when_none_eligible", "performance_window_days", "performance_outcome_days",
    "performance_new_rep_share",
    "sla_minutes", "sla_working_time_only", "sla_breach_action", "sla_escalation_team", "sla_escalation_pool",
]
RULE_REFERENCES = {
    "target_rep": REP, "target_team": TEAM, "pool": POOL, "sla_escalation_team": TEAM, "sla_escalation_pool": POOL,
}
RULE_LISTS = ["conditions", "skill_requirements"]
RULE_VALUES = [key for key in RULE_KEYS if key not in RULE_REFERENCES and key not in RULE_LISTS]
CONDITION_KEYS = ["field", "operator", "value"]
SKILL_KEYS = ["kind", "name", "min_level"]
# Lists of names in the file, and what they name.
NAME_LISTS = {"reps": REP, "teams": TEAM}


class ConfigFileError(Exception):
    """The file cannot be imported; `messages` say where and why. Nothing was changed."""

    def __init__(self, messages):
        super().__init__("\n".join(messages))
        self.messages = list(messages)


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
        return any(section.has_changes for _label, _kind, section in self.sections)

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


# --- Export ------------------------------------------------------------------


def routing_config_export() -> dict:
    """The whole routing configuration as the file holds it; write it with routing_config_json."""
    territories = Territory.objects.select_related("parent").prefetch_related("reps__user", "teams").order_by("name")
    pools = Pool.objects.prefetch_related("teams", "reps__user").order_by("name")
    return {
        "version": FORMAT_VERSION,
        "territories": [_territory_entry(territory) for territory in territories],
        "pools": [_pool_entry(pool) for pool in pools],
        "rules": [_rule_entry(rule) for rule in _rules_with_everything()],
    }


def routing_config_json(config: dict) -> str:
    """The file's text: keys in a fixed order, 2-space indent, a trailing newline, so git diffs show only changes."""
    return json.dumps(config, indent=2, ensure_ascii=False) + "\n"


def _natural_key(obj):
    if obj is None:
        return None
    return obj.user.username if isinstance(obj, Rep) else obj.name


def _names(objects) -> list:
    return sorted(_natural_key(obj) for obj in objects)


def _territory_entry(territory) -> dict:
    return {
        "name": territory.name,
        "parent": _natural_key(territory.parent),
        "countries": sorted(country.code for country in territory.countries),
        "regions": territory.regions,
        "postal_codes": territory.postal_codes,
        "reps": _names(territory.reps.all()),
        "teams": _names(territory.teams.all()),
    }


def _pool_entry(pool) -> dict:
    return {"name": pool.name, "teams": _names(pool.teams.all()), "reps": _names(pool.reps.all())}


def _skill_order(requirement: dict) -> tuple:
    return requirement["kind"], requirement["name"]


def _rule_entry(rule) -> dict:
    entry = {}
    for key in RULE_KEYS:
        if key == "conditions":
            entry[key] = [{"field": c.field, "operator": c.operator, "value": c.value} for c in rule.conditions.all()]
        elif key == "skill_requirements":
            requirements = rule.skill_requirements.all()
            entry[key] = sorted(({"kind": r.skill.kind, "name": r.skill.name, "min_level": r.min_level}
                                 for r in requirements), key=_skill_order)
        elif key in RULE_REFERENCES:
            entry[key] = _natural_key(getattr(rule, key))
        else:
            entry[key] = getattr(rule, key)
    return entry


def _rules_with_everything():
    return (
        RoutingRule.objects.select_related(
            "target_rep__user", "target_team", "pool", "sla_escalation_team", "sla_escalation_pool"
        )
        .prefetch_related("conditions", "skill_requirements__skill")
        # The name breaks ties before the id, so two databases with the same rules export the same file.
        .order_by("priority", "name", "id")
    )


# --- Reading a file ------------------------------------------------------------


def routing_config_from_json(text) -> object:
    """The file's content (bytes or text) as Python data; ConfigFileError when it is not JSON."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ConfigFileError([_("The file is not UTF-8 text: save it as UTF-8 JSON.")]) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigFileError([_("The file is not valid JSON: %(problem)s (line %(line)s, column %(column)s).")
                               % {"problem": error.msg, "line": error.lineno, "column": error.colno}]) from None
    except RecursionError:
        raise ConfigFileError([_("The file is not a routing configuration: it is nested too deeply.")]) from None


def _shown(value) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


TYPE_NAMES = {bool: gettext_lazy("true or false"), int: gettext_lazy("a whole number"), str: gettext_lazy("text"),
              list: gettext_lazy("a list")}


def _has_type(value, expected) -> bool:
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, expected)


class _Entry:
    """One object of the file: each value checked for its JSON type, each problem recorded with where it is."""

    def __init__(self, item, where: str, keys: list, problems: list):
        self.where, self.keys, self.problems, self.ok = where, keys, problems, True
        self.is_object = isinstance(item, dict)
        self.item = item if self.is_object else {}
        if not self.is_object:
            self.problem(None, _("expected an object {...}, got %(value)s.") % {"value": _shown(item)})

    def check_keys(self):
        """A key the file misspells would otherwise be ignored, and its default used without a word."""
        for key in self.item:
            if key not in self.keys:
                self.problem(None, _("unknown key '%(key)s'; use: %(keys)s.")
                             % {"key": key, "keys": ", ".join(self.keys)})

    def problem(self, key, message: str):
        self.ok = False
        self.problems.append(_where(self.where, key, message))

    def get(self, key: str, expected: type, *, default=REQUIRED, nullable: bool = False):
        if not self.is_object:
            return None if default is REQUIRED else default  # said once, not once for each key
        if key not in self.item:
            if default is REQUIRED:
                self.problem(key, _("missing: it is required."))
                return None
            return default
        value = self.item[key]
        if value is None and nullable:
            return None
        if not _has_type(value, expected):
            wanted = str(TYPE_NAMES[expected]) + (_(" or null") if nullable else "")
            self.problem(key, _("expected %(wanted)s, got %(value)s.") % {"wanted": wanted, "value": _shown(value)})
            return None
        if isinstance(value, str) and "\x00" in value:
            self.problem(key, _("contains a NUL character; remove it."))
            return None
        return value

    def get_value_of(self, model, key: str, *, required: bool = False):
        """A value for a model field, typed as the field is, defaulting to the field's default."""
        model_field = model._meta.get_field(key)
        expected = bool if isinstance(model_field, models.BooleanField) else (
            int if isinstance(model_field, models.IntegerField) else str)
        default = REQUIRED if required else model_field.get_default()
        return self.get(key, expected, default=default, nullable=model_field.null)

    def get_names(self, key: str) -> list:
        """A list of names, sorted and without repeats, as the export writes them."""
        names = self.get(key, list, default=[]) or []
        if not all(isinstance(name, str) and "\x00" not in name for name in names):
            self.problem(key, _("expected a list of names (text), got %(value)s.") % {"value": _shown(names)})
            return []
        return sorted(set(names))


def _label(kind: str, name: str) -> str:
    """How a problem names the object it is in: rule 'DACH enterprise'."""
    return f"{kind} '{name}'"


def _condition_label(rule_label: str, index: int) -> str:
    return _("%(rule)s, condition %(index)s") % {"rule": rule_label, "index": index}


def _where(where: str, key, message: str) -> str:
    return f"{where}, {key}: {message}" if key else f"{where}: {message}"


def _config_from_file(data) -> dict:
    """The file's content checked for shape and types, every entry in the shape the export writes."""
    if not isinstance(data, dict):
        raise ConfigFileError([_("The file must hold one JSON object with version, territories, pools and rules; "
                                 "it holds %(value)s.") % {"value": _shown(data)}])
    version = data.get("version")
    if "version" not in data:
        raise ConfigFileError([_('The file has no "version": a routing configuration file starts with '
                                 '"version": %(version)s.') % {"version": FORMAT_VERSION}])
    if not _has_type(version, int) or version != FORMAT_VERSION:
        raise ConfigFileError([_("The file is version %(found)s; this leadrouting reads version %(version)s files.")
                               % {"found": _shown(version), "version": FORMAT_VERSION}])
    problems = [_("unknown key '%(key)s' at the top of the file; use: version, %(sections)s.")
                % {"key": key, "sections": ", ".join(SECTIONS)} for key in data if key not in ["version", *SECTIONS]]
    config = {}
    for section, read_entry in (("territories", _territory_from_file), ("pools", _pool_from_file),
                                ("rules", _rule_from_file)):
        items = data.get(section)
        if not isinstance(items, list):
            problems.append(_('The file needs "%(section)s": a list (write [] for none), got %(value)s.')
                            % {"section": section, "value": _shown(items) if section in data else _("nothing")})
            continue
        entries = [read_entry(item, index, problems) for index, item in enumerate(items, 1)]
        config[section] = [entry for entry in entries if entry is not None]
    for section, kind in (("territories", _("territory")), ("pools", _("pool")), ("rules", _("rule"))):
        _check_names_unique(config.get(section, []), kind, problems)
    _check_rule_order(config.get("rules", []), problems)
    if problems:
        raise ConfigFileError(problems)
    return config


def _named_entry(item, index: int, kind: str, keys: list, problems: list):
    entry = _Entry(item, f"{kind} {index}", keys, problems)
    name = entry.get("name", str)
    if name is not None:
        entry.where = _label(kind, name)
    entry.check_keys()
    return entry, name


def _territory_from_file(item, index: int, problems: list):
    entry, name = _named_entry(item, index, _("territory"), TERRITORY_KEYS, problems)
    territory = {"name": name, "parent": entry.get("parent", str, default=None, nullable=True),
                 "countries": entry.get_names("countries")}
    territory.update({key: entry.get_value_of(Territory, key) for key in ["regions", "postal_codes"]})
    territory.update({key: entry.get_names(key) for key in NAME_LISTS})
    return territory if entry.ok else None


def _pool_from_file(item, index: int, problems: list):
    entry, name = _named_entry(item, index, _("pool"), POOL_KEYS, problems)
    pool = {"name": name, **{key: entry.get_names(key) for key in ["teams", "reps"]}}
    return pool if entry.ok else None


def _rule_from_file(item, index: int, problems: list):
    entry, name = _named_entry(item, index, _("rule"), RULE_KEYS, problems)
    rule = {}
    for key in RULE_KEYS:
        if key == "name":
            rule[key] = name
        elif key == "conditions":
            rule[key] = _conditions_from_file(entry)
        elif key == "skill_requirements":
            rule[key] = _skill_requirements_from_file(entry)
        elif key in RULE_REFERENCES:
            rule[key] = entry.get(key, str, default=None, nullable=True)
        else:
            rule[key] = entry.get_value_of(RoutingRule, key, required=key == "priority")
    return rule if entry.ok else None


def _conditions_from_file(rule: _Entry) -> list:
    conditions = []
    for index, item in enumerate(rule.get("conditions", list, default=[]) or [], 1):
        entry = _Entry(item, _condition_label(rule.where, index), CONDITION_KEYS, rule.problems)
        entry.check_keys()
        conditions.append({"field": entry.get("field", str),
                           **{key: entry.get_value_of(RuleCondition, key) for key in ["operator", "value"]}})
        rule.ok = rule.ok and entry.ok
    return conditions


def _skill_requirements_from_file(rule: _Entry) -> list:
    requirements = []
    for index, item in enumerate(rule.get("skill_requirements", list, default=[]) or [], 1):
        entry = _Entry(item, _("%(rule)s, skill requirement %(index)s") % {"rule": rule.where, "index": index},
                       SKILL_KEYS, rule.problems)
        entry.check_keys()
        requirement = {"kind": entry.get("kind", str), "name": entry.get("name", str),
                       "min_level": entry.get_value_of(RuleSkillRequirement, "min_level")}
        if entry.ok and any(_skill_order(other) == _skill_order(requirement) for other in requirements):
            entry.problem(None, _("skill '%(name)s' of kind '%(kind)s' is listed twice.") % requirement)
        requirements.append(requirement)
        rule.ok = rule.ok and entry.ok
    # In the export's order (by kind and name), so that an unchanged rule compares equal.
    return sorted(requirements, key=_skill_order) if rule.ok else []


def _check_names_unique(entries: list, kind: str, problems: list):
    seen = set()
    for entry in entries:
        if entry["name"] in seen:
            problems.append(_("%(kind)s '%(name)s' appears more than once in the file; names must be unique: "
                              "the import finds each one by its name.") % {"kind": kind, "name": entry["name"]})
        seen.add(entry["name"])


def _check_rule_order(rules: list, problems: list):
    """Rules are listed by priority, so the file reads in the order the engine tries them."""
    for previous, rule in zip(rules, rules[1:]):
        if rule["priority"] == previous["priority"]:
            problems.append(_("rule '%(name)s', priority: %(priority)s is also the priority of rule '%(other)s'; "
                              "give each rule its own.") % {**rule, "other": previous["name"]})
        elif rule["priority"] < previous["priority"]:
            problems.append(_("rule '%(name)s' (priority %(priority)s) is listed after rule '%(other)s' (priority "
                              "%(other_priority)s): list the rules in priority order, lowest first.")
                            % {**rule, "other": previous["name"], "other_priority": previous["priority"]})


# --- Import ----------------------------------------------------------------------


def routing_config_import(data, *, dry_run: bool = False, delete_missing: bool = False, actor=None) -> ImportReport:
    """Make the routing configuration match the file's content (from routing_config_from_json), all or nothing.

    Raises ConfigFileError listing every problem (nothing changed). A dry run checks and reports
    everything an import would do, then rolls it back. With an `actor`, each change is written to
    the admin history of what it changed.
    """
    config = _config_from_file(data)
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
            self.problems.append(_where(where, key, _(
                "'%(name)s' is not in the file, so deleting what the file leaves out would delete it: add it to the "
                "file, or name another.") % {"name": name}))
        elif found is MISSING:
            kind_name = {"kind": name[0], "name": name[1]} if kind == SKILL else {"name": name}
            self.problems.append(_where(where, key, str(UNKNOWN_NAME[kind]) % kind_name))
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
                    self.problems.append(_where(where, None if key == NON_FIELD_ERRORS else key,
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
            self.problems.append(_where(where, None, _("is not in the file but cannot be deleted: %(users)s "
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
        parents = {name: _natural_key(territory.parent) for name, territory in kept.items()}
        parents.update({name: entry["parent"] for name, entry in wanted.items()})
        depths = self._territory_depths(parents, wanted)
        # Parents first, so each territory is saved under a parent that is already final.
        for name in sorted(depths, key=depths.get):
            entry, territory = wanted[name], existing.get(name)
            where = _label(_("territory"), name)
            if entry["parent"] in wanted and entry["parent"] not in self.known[TERRITORY]:
                continue  # the parent's own problem is reported
            parent = self._lookup(where, "parent", TERRITORY, entry["parent"])
            current = _territory_entry(territory) if territory else None
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
            current = _pool_entry(pool) if pool else None
            if current == entry:
                self.known[POOL][name] = pool
                self.report.pools.unchanged.append(name)
                continue
            where = _label(_("pool"), name)
            members = self._lookup_names(where, entry)
            pool = pool or Pool(name=name)
            if _has_missing(members) or not self._valid(where, pool):
                continue
            self._save_with_members(POOL, pool, members, current, entry)

    # Rules

    def _import_rules(self):
        existing = {}
        for rule in _rules_with_everything():
            existing.setdefault(rule.name, []).append(rule)
        for entry in self.config["rules"]:
            where = _label(_("rule"), entry["name"])
            same_name = existing.get(entry["name"], [])
            if len(same_name) > 1:
                self.problems.append(_where(where, None, _(
                    "%(count)s rules in the database have this name, so the import cannot tell which one the file "
                    "means: rename all but one in the admin, then import again.") % {"count": len(same_name)}))
                continue
            # Looked up even for an unchanged rule: a pool it uses may be about to be deleted.
            references = {key: self._lookup(where, key, kind, entry[key]) for key, kind in RULE_REFERENCES.items()}
            skills = [self._lookup(where, "skill_requirements", SKILL, _skill_order(requirement))
                      for requirement in entry["skill_requirements"]]
            if MISSING in [*references.values(), *skills]:
                continue
            rule = same_name[0] if same_name else None
            current = _rule_entry(rule) if rule else None
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
        valid = [self._valid(_condition_label(where, index), row, partial(_check_condition, row))
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
                self.problems.append(_where(where, "skill_requirements", message))
        if self.report.territories.deleted:
            self._check_territory_conditions()

    def _check_territory_conditions(self):
        """A deleted territory must not leave a rule testing for it, written by this file or not."""
        for rule in RoutingRule.objects.prefetch_related("conditions"):
            for index, condition in enumerate(rule.conditions.all(), 1):
                if condition.field.strip() == "territory":
                    self._valid(_condition_label(_label(_("rule"), rule.name), index), condition, condition.clean)

    # Deleting what the file leaves out

    def _delete_missing(self):
        names = {section: {entry["name"] for entry in self.config[section]} for section in SECTIONS}
        for rule in RoutingRule.objects.exclude(name__in=names["rules"]).order_by("priority", "id"):
            self._delete(self.report.rules, _label(_("rule"), rule.name), rule)
        pools = Pool.objects.exclude(name__in=names["pools"]).annotate(waiting=Count("leads")).order_by("name")
        for pool in pools:
            where = _label(_("pool"), pool.name)
            if pool.waiting:
                self.problems.append(_where(where, None, _(
                    "is not in the file, but %(count)s leads wait in it: keep it in the file, or let them be claimed "
                    "first.") % {"count": pool.waiting}))
                continue
            self._delete(self.report.pools, where, pool)
        missing = list(Territory.objects.exclude(name__in=names["territories"]).select_related("parent"))
        # Children before their parents, which protect against being deleted under them.
        for territory in sorted(missing, key=lambda t: (-len(list(t.ancestors())), t.name)):
            self._delete(self.report.territories, _label(_("territory"), territory.name), territory)


def _choices_hint(obj, key: str, errors: list) -> str:
    """For a value that is not one of a short list of choices, the list: a file has no drop-down to pick from."""
    if key == NON_FIELD_ERRORS or not any(error.code == "invalid_choice" for error in errors):
        return ""
    choices = list(type(obj)._meta.get_field(key).choices or [])
    if len(choices) > 20:
        return ""  # countries: the message is clear enough without 250 codes
    return _(" Use one of: %(choices)s.") % {"choices": ", ".join(str(value) for value, _label in choices)}


def _has_missing(members: dict) -> bool:
    return any(MISSING in objects for objects in members.values())


def _check_condition(condition):
    # The admin's own message first (what is wrong and what to write), then the column limits.
    condition.clean()
    condition.clean_fields(exclude=["rule"])


def _summary(value) -> str:
    """A value of the file as the report shows it: conditions and skills as a manager writes them."""
    if not isinstance(value, list):
        return _shown(value)
    if not value:
        return _("none")
    if isinstance(value[0], dict) and "operator" in value[0]:
        return "; ".join(f"{c['field']} {c['operator']} {c['value']}".strip() for c in value)
    if isinstance(value[0], dict):
        return "; ".join(f"{r['kind']} '{r['name']}' ≥ {r['min_level']}" for r in value)
    return ", ".join(value)
