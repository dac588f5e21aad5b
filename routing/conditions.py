"""Rule conditions: which fields and operators exist, how a condition is validated and compiled.

A condition row (field, operator, value) is compiled once into a `CompiledCondition`
that tests a lead's facts (see `routing.facts`). Compilation is also the validation
the admin shows: every error names the field at fault and says what to write instead.
"""

import re
from dataclasses import dataclass, field as dataclass_field
from decimal import Decimal, InvalidOperation

import re2
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

TEXT, NUMBER, BOOLEAN, TERRITORY, ANY = "text", "number", "boolean", "territory", "any"

# Every field a condition may test, with its type. "attributes.<key>" is added dynamically.
FIELD_TYPES = {
    "first_name": TEXT,
    "last_name": TEXT,
    "email": TEXT,
    "phone": TEXT,
    "company": TEXT,
    "website": TEXT,
    "domain": TEXT,
    "job_title": TEXT,
    "country": TEXT,
    "region": TEXT,
    "postal_code": TEXT,
    "city": TEXT,
    "industry": TEXT,
    "employee_count": NUMBER,
    "deal_value": NUMBER,
    "seats": NUMBER,
    "product_interest": TEXT,
    "use_case": TEXT,
    "source": TEXT,
    "score": NUMBER,
    "language": TEXT,
    # Derived facts
    "territory": TERRITORY,
    "account": TEXT,
    "account.is_customer": BOOLEAN,
    "account.parent": TEXT,
    "account.has_owner": BOOLEAN,
}
ATTRIBUTE_PREFIX = "attributes."

OPERATORS = {
    "equals": gettext_lazy("equals"),
    "not_equals": gettext_lazy("does not equal"),
    "in": gettext_lazy("is one of"),
    "not_in": gettext_lazy("is none of"),
    "contains": gettext_lazy("contains"),
    "starts_with": gettext_lazy("starts with"),
    "regex": gettext_lazy("matches regex"),
    "gt": ">",
    "gte": "≥",
    "lt": "<",
    "lte": "≤",
    "between": gettext_lazy("is between"),
    "is_empty": gettext_lazy("is empty"),
    "is_not_empty": gettext_lazy("is not empty"),
    "in_territory": gettext_lazy("is in territory (or a sub-territory)"),
}
OPERATOR_CHOICES = list(OPERATORS.items())
NUMERIC_OPERATORS = {"gt", "gte", "lt", "lte", "between"}
TEXT_ONLY_OPERATORS = {"contains", "starts_with", "regex"}
NO_VALUE_OPERATORS = {"is_empty", "is_not_empty"}
INDEXABLE_OPERATORS = {"equals", "in", "in_territory"}
TRUE_WORDS, FALSE_WORDS = {"true", "yes", "1"}, {"false", "no", "0"}


class ConditionError(Exception):
    def __init__(self, message, field="value"):
        super().__init__(message)
        self.message = message
        self.field = field


def field_type(name: str) -> str:
    if name.startswith(ATTRIBUTE_PREFIX):
        if not name[len(ATTRIBUTE_PREFIX):].strip():
            raise ConditionError(_("Name the custom attribute after 'attributes.', e.g. attributes.plan."), "field")
        return ANY
    try:
        return FIELD_TYPES[name]
    except KeyError:
        raise ConditionError(
            _("Unknown field '%(name)s'. Use one of: %(fields)s, or attributes.<key>.")
            % {"name": name, "fields": ", ".join(FIELD_TYPES)},
            "field",
        ) from None


def normalise_text(value) -> str:
    return str(value).strip().casefold()


def _parse_number(text: str, what: str) -> Decimal:
    try:
        number = Decimal(text.strip().replace(" ", ""))
    except (InvalidOperation, AttributeError):
        raise ConditionError(_("%(what)s must be a number, got '%(text)s'.") % {"what": what, "text": text}) from None
    if not number.is_finite():
        raise ConditionError(_("%(what)s must be a finite number.") % {"what": what})
    return number


def to_number(value):
    """A fact as a number, or None when it is not one (then numeric conditions fail)."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _re2_options():
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False  # a refused pattern is reported to the manager, not written to the worker's stderr
    return options


_REGEX_OPTIONS = _re2_options()


def compile_regex(pattern: str):
    """A regex condition's pattern, compiled by RE2 (case-insensitive); every regex condition goes through here.

    RE2 matches in time linear in the value, so no pattern can hold a worker: Python's re took
    20 s on `^(a+)+$` against 27 a's and a "!". The price is that RE2 has no backreferences and
    no lookarounds; such patterns are refused with the reason.
    """
    try:
        return re2.compile(pattern, _REGEX_OPTIONS)
    except re2.error as error:
        reason = error.args[0].decode(errors="replace") if isinstance(error.args[0], bytes) else str(error)
    reason = reason if len(reason) <= 120 else reason[:119] + "…"  # RE2 quotes the rest of the pattern
    try:
        re.compile(pattern)  # only to tell a broken pattern from one RE2 cannot run; never used to match
    except (re.error, OverflowError, RecursionError):
        raise ConditionError(_("This regular expression is invalid: %(error)s.") % {"error": reason}) from None
    raise ConditionError(
        _("This regular expression cannot be used (%(error)s): regex conditions must run in linear time so that "
          "no lead can stall routing, which rules out backreferences such as \\1 or (?P=name) and lookarounds "
          "such as (?=...), (?!...), (?<=...) or (?<!...). Rewrite the pattern without them, or split it into "
          "two conditions.") % {"error": reason}
    ) from None


def split_list(text: str) -> list:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


def _is_empty(value) -> bool:
    return value is None or value == "" or value == [] or value == {}


@dataclass
class CompiledCondition:
    field: str
    operator: str
    value: str
    test: callable
    # For the rule index: the normalised values this condition requires (equals / in / in_territory).
    index_keys: tuple = dataclass_field(default=())
    # Why a saved condition that no longer compiles never matches (see `refused_condition`); empty when it compiled.
    refused: str = ""

    def evaluate(self, facts) -> tuple:
        """(matched, the lead's value) for the audit trail."""
        actual = facts.get(self.field)
        return bool(self.test(actual, facts)), actual

    def describe(self) -> str:
        return condition_text(self.field, self.operator, self.value)


def condition_text(field_name: str, operator: str, value: str) -> str:
    """A condition as a manager wrote it: field, the operator's label, value ("country is one of DE,AT")."""
    label = OPERATORS.get(operator, operator)
    if operator in NO_VALUE_OPERATORS:
        return f"{field_name} {label}"
    return f"{field_name} {label} {value}"


def refused_condition(field_name: str, operator: str, value: str, *, reason: str) -> CompiledCondition:
    """A saved condition that does not compile (any more): it never matches, and every trace says why.

    The admin and the import refuse such a condition, but one saved before a check existed (a
    backreference from before regex conditions ran on RE2) or around it must cost its own rule,
    not stop the routing of every lead.
    """
    return CompiledCondition(field_name, operator, value, lambda actual, facts: False, refused=reason)


def compile_condition(field_name: str, operator: str, value: str, *, territories=None) -> CompiledCondition:
    """Validate and compile one condition. `territories` maps lower-cased territory names to ids (loaded if None)."""
    field_name = (field_name or "").strip()
    value = (value or "").strip()
    kind = field_type(field_name)
    if operator not in OPERATORS:
        raise ConditionError(
            _("Unknown operator '%(op)s'. Use one of: %(ops)s.") % {"op": operator, "ops": ", ".join(OPERATORS)},
            "operator",
        )
    if operator in NO_VALUE_OPERATORS:
        if operator == "is_empty":
            return CompiledCondition(field_name, operator, value, lambda actual, facts: _is_empty(actual))
        return CompiledCondition(field_name, operator, value, lambda actual, facts: not _is_empty(actual))
    if not value:
        raise ConditionError(_("This operator needs a value."))
    if operator == "in_territory" or kind == TERRITORY:
        return _compile_territory(field_name, operator, value, territories)
    if operator in NUMERIC_OPERATORS:
        return _compile_numeric(field_name, operator, value, kind)
    if operator in TEXT_ONLY_OPERATORS and kind in (NUMBER, BOOLEAN):
        raise ConditionError(
            _("'%(op)s' compares text, but %(field)s is a %(kind)s field; use equals, >, < or between.")
            % {"op": OPERATORS[operator], "field": field_name, "kind": kind},
            "operator",
        )
    if kind == BOOLEAN:
        return _compile_boolean(field_name, operator, value)
    if kind == NUMBER:
        return _compile_number_equality(field_name, operator, value)
    return _compile_text(field_name, operator, value)


def _compile_text(field_name, operator, value):
    if operator == "regex":
        pattern = compile_regex(value)
        return CompiledCondition(
            field_name, operator, value,
            lambda actual, facts: actual is not None and pattern.search(str(actual)) is not None,
        )
    wanted = normalise_text(value)
    if operator == "equals":
        return CompiledCondition(
            field_name, operator, value, lambda actual, facts: actual is not None and normalise_text(actual) == wanted,
            index_keys=(wanted,),
        )
    if operator == "not_equals":
        return CompiledCondition(
            field_name, operator, value, lambda actual, facts: actual is None or normalise_text(actual) != wanted
        )
    if operator in ("in", "not_in"):
        options = frozenset(normalise_text(item) for item in split_list(value))
        if not options:
            raise ConditionError(_("List at least one value, separated by commas."))
        if operator == "in":
            return CompiledCondition(
                field_name, operator, value,
                lambda actual, facts: actual is not None and normalise_text(actual) in options,
                index_keys=tuple(sorted(options)),
            )
        return CompiledCondition(
            field_name, operator, value, lambda actual, facts: actual is None or normalise_text(actual) not in options
        )
    if operator == "contains":
        return CompiledCondition(
            field_name, operator, value, lambda actual, facts: actual is not None and wanted in normalise_text(actual)
        )
    if operator == "starts_with":
        return CompiledCondition(
            field_name, operator, value,
            lambda actual, facts: actual is not None and normalise_text(actual).startswith(wanted),
        )
    raise ConditionError(_("Operator %(op)s cannot be used here.") % {"op": operator}, "operator")


def _compile_number_equality(field_name, operator, value):
    if operator in ("in", "not_in"):
        numbers = frozenset(_parse_number(item, field_name) for item in split_list(value))
        if operator == "in":
            return CompiledCondition(field_name, operator, value, lambda actual, facts: to_number(actual) in numbers)
        return CompiledCondition(field_name, operator, value, lambda actual, facts: to_number(actual) not in numbers)
    number = _parse_number(value, field_name)
    if operator == "equals":
        return CompiledCondition(field_name, operator, value, lambda actual, facts: to_number(actual) == number)
    return CompiledCondition(field_name, operator, value, lambda actual, facts: to_number(actual) != number)


def _compile_numeric(field_name, operator, value, kind):
    if kind in (TEXT, BOOLEAN):
        raise ConditionError(
            _("%(field)s is not a number field; '%(op)s' needs a number field such as score or employee_count.")
            % {"field": field_name, "op": OPERATORS[operator]},
            "operator",
        )
    if operator == "between":
        bounds = split_list(value.replace("..", ","))
        if len(bounds) != 2:
            raise ConditionError(_("Between needs two numbers: low,high (e.g. 100,500)."))
        low, high = (_parse_number(bound, field_name) for bound in bounds)
        if low > high:
            raise ConditionError(_("Between: the low bound %(low)s is above the high bound %(high)s.") % {"low": low, "high": high})

        def test(actual, facts):
            number = to_number(actual)
            return number is not None and low <= number <= high

        return CompiledCondition(field_name, operator, value, test)
    number = _parse_number(value, field_name)
    compare = {
        "gt": lambda a: a > number,
        "gte": lambda a: a >= number,
        "lt": lambda a: a < number,
        "lte": lambda a: a <= number,
    }[operator]

    def test(actual, facts):
        actual_number = to_number(actual)
        return actual_number is not None and compare(actual_number)

    return CompiledCondition(field_name, operator, value, test)


def _compile_boolean(field_name, operator, value):
    word = value.casefold()
    if word not in TRUE_WORDS | FALSE_WORDS:
        raise ConditionError(_("%(field)s is yes or no: write true or false.") % {"field": field_name})
    if operator not in ("equals", "not_equals"):
        raise ConditionError(_("%(field)s is yes or no: use equals or does not equal.") % {"field": field_name}, "operator")
    wanted = word in TRUE_WORDS
    if operator == "equals":
        return CompiledCondition(field_name, operator, value, lambda actual, facts: bool(actual) == wanted)
    return CompiledCondition(field_name, operator, value, lambda actual, facts: bool(actual) != wanted)


def _territory_ids_by_name(territories):
    if territories is not None:
        return territories
    from reps.models import Territory

    return {name.casefold(): pk for pk, name in Territory.objects.values_list("pk", "name")}


def _compile_territory(field_name, operator, value, territories):
    if field_name != "territory":
        raise ConditionError(_("'is in territory' works on the field territory."), "field")
    if operator not in ("in_territory", "equals", "not_equals", "in", "not_in"):
        raise ConditionError(_("For territory use: is in territory, equals, is one of, or their negations."), "operator")
    known = _territory_ids_by_name(territories)
    names = split_list(value) if operator in ("in", "not_in") else [value]
    ids = []
    for name in names:
        if name.casefold() not in known:
            raise ConditionError(_("There is no territory named '%(name)s'.") % {"name": name})
        ids.append(known[name.casefold()])
    wanted = frozenset(ids)
    if operator == "in_territory":
        # facts["territory_chain"] holds the lead's territory and all its parents.
        return CompiledCondition(
            field_name, operator, value,
            lambda actual, facts: bool(wanted & set(facts.get("territory_chain", ()))),
            index_keys=tuple(sorted(wanted)),
        )
    if operator in ("equals", "in"):
        return CompiledCondition(
            field_name, operator, value, lambda actual, facts: facts.get("territory_id") in wanted
        )
    return CompiledCondition(field_name, operator, value, lambda actual, facts: facts.get("territory_id") not in wanted)
