"""The routing configuration file's shape: its keys, and a reader that checks every value's type and place.

Problems name where they are (rule 'DACH enterprise', conditions 2, operator) and what to write instead;
nothing here writes to the database: routing.config_file.importer does that.
"""

import json

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from reps.models import Territory
from routing.models import RoutingRule, RuleCondition, RuleSkillRequirement

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



def skill_order(requirement: dict) -> tuple:
    return requirement["kind"], requirement["name"]


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


def shown(value) -> str:
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
            self.problem(None, _("expected an object {...}, got %(value)s.") % {"value": shown(item)})

    def check_keys(self):
        """A key the file misspells would otherwise be ignored, and its default used without a word."""
        for key in self.item:
            if key not in self.keys:
                self.problem(None, _("unknown key '%(key)s'; use: %(keys)s.")
                             % {"key": key, "keys": ", ".join(self.keys)})

    def problem(self, key, message: str):
        self.ok = False
        self.problems.append(where_text(self.where, key, message))

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
            self.problem(key, _("expected %(wanted)s, got %(value)s.") % {"wanted": wanted, "value": shown(value)})
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
            self.problem(key, _("expected a list of names (text), got %(value)s.") % {"value": shown(names)})
            return []
        return sorted(set(names))


def object_label(kind: str, name: str) -> str:
    """How a problem names the object it is in: rule 'DACH enterprise'."""
    return f"{kind} '{name}'"


def condition_label(rule_label: str, index: int) -> str:
    return _("%(rule)s, condition %(index)s") % {"rule": rule_label, "index": index}


def where_text(where: str, key, message: str) -> str:
    return f"{where}, {key}: {message}" if key else f"{where}: {message}"


def config_from_file(data) -> dict:
    """The file's content checked for shape and types, every entry in the shape the export writes."""
    if not isinstance(data, dict):
        raise ConfigFileError([_("The file must hold one JSON object with version, territories, pools and rules; "
                                 "it holds %(value)s.") % {"value": shown(data)}])
    version = data.get("version")
    if "version" not in data:
        raise ConfigFileError([_('The file has no "version": a routing configuration file starts with '
                                 '"version": %(version)s.') % {"version": FORMAT_VERSION}])
    if not _has_type(version, int) or version != FORMAT_VERSION:
        raise ConfigFileError([_("The file is version %(found)s; this leadrouting reads version %(version)s files.")
                               % {"found": shown(version), "version": FORMAT_VERSION}])
    problems = [_("unknown key '%(key)s' at the top of the file; use: version, %(sections)s.")
                % {"key": key, "sections": ", ".join(SECTIONS)} for key in data if key not in ["version", *SECTIONS]]
    config = {}
    for section, read_entry in (("territories", _territory_from_file), ("pools", _pool_from_file),
                                ("rules", _rule_from_file)):
        items = data.get(section)
        if not isinstance(items, list):
            problems.append(_('The file needs "%(section)s": a list (write [] for none), got %(value)s.')
                            % {"section": section, "value": shown(items) if section in data else _("nothing")})
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
        entry.where = object_label(kind, name)
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
        entry = _Entry(item, condition_label(rule.where, index), CONDITION_KEYS, rule.problems)
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
        if entry.ok and any(skill_order(other) == skill_order(requirement) for other in requirements):
            entry.problem(None, _("skill '%(name)s' of kind '%(kind)s' is listed twice.") % requirement)
        requirements.append(requirement)
        rule.ok = rule.ok and entry.ok
    # In the export's order (by kind and name), so that an unchanged rule compares equal.
    return sorted(requirements, key=skill_order) if rule.ok else []


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

