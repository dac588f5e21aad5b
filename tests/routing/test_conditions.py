import pytest

from routing.conditions import ConditionError, compile_condition


def facts(**values):
    return values


@pytest.mark.parametrize(
    ("field", "operator", "value", "lead_value", "expected"),
    [
        ("country", "equals", "de", "DE", True),
        ("country", "not_equals", "DE", "AT", True),
        ("industry", "in", "Finance, Healthcare", "healthcare", True),
        ("industry", "not_in", "Finance, Healthcare", "Retail", True),
        ("company", "contains", "gmbh", "ACME GmbH", True),
        ("postal_code", "starts_with", "80", "80331", True),
        ("email", "regex", r"@acme\.(de|com)$", "a@acme.de", True),
        ("score", "gte", "80", 80, True),
        ("score", "gt", "80", 80, False),
        ("employee_count", "between", "100,500", 250, True),
        ("employee_count", "between", "100..500", 501, False),
        ("deal_value", "lt", "1000", "999.99", True),
        ("phone", "is_empty", "", "", True),
        ("phone", "is_not_empty", "", "+4930123", True),
        ("account.is_customer", "equals", "true", True, True),
        ("score", "gte", "80", None, False),
    ],
)
def test_operators_compare_the_leads_value(field, operator, value, lead_value, expected):
    condition = compile_condition(field, operator, value, territories={})
    assert condition.evaluate({field: lead_value})[0] is expected


def test_nested_attribute_values_are_reachable():
    from routing.facts import AttributeFacts

    condition = compile_condition("attributes.plan.tier", "equals", "gold", territories={})
    assert condition.evaluate(AttributeFacts({}, {"plan": {"tier": "Gold"}}))[0] is True
    assert condition.evaluate(AttributeFacts({}, {"plan": "flat"}))[0] is False


def test_in_territory_includes_sub_territories():
    condition = compile_condition("territory", "in_territory", "DACH", territories={"dach": 7})
    assert condition.evaluate({"territory": "Bavaria", "territory_chain": [9, 7, 1]})[0] is True
    assert condition.evaluate({"territory": "Nordics", "territory_chain": [5, 1]})[0] is False


@pytest.mark.parametrize(
    ("field", "operator", "value", "message", "at"),
    [
        ("colour", "equals", "red", "Unknown field 'colour'", "field"),
        ("score", "gt", "abc", "must be a number", "value"),
        ("country", "gt", "5", "is not a number field", "operator"),
        ("email", "regex", "(unclosed", "regular expression is invalid", "value"),
        # Python's re, which tells an invalid pattern from one RE2 cannot run, overflows and recurses on these.
        ("email", "regex", "a{99999999999999999999}(", "regular expression is invalid: missing ):", "value"),
        ("email", "regex", "(" * 5000 + ")" * 4999, "regular expression is invalid: missing ): (((", "value"),
        ("employee_count", "between", "500,100", "low bound", "value"),
        ("employee_count", "between", "500", "two numbers", "value"),
        ("territory", "in_territory", "Atlantis", "no territory named 'Atlantis'", "value"),
        ("score", "contains", "8", "compares text", "operator"),
        ("country", "equals", "", "needs a value", "value"),
        ("country", "bogus", "DE", "Unknown operator", "operator"),
        ("account.is_customer", "equals", "maybe", "true or false", "value"),
        ("attributes.", "equals", "x", "Name the custom attribute", "field"),
    ],
)
def test_invalid_conditions_say_what_is_wrong(field, operator, value, message, at):
    with pytest.raises(ConditionError) as error:
        compile_condition(field, operator, value, territories={"dach": 1})
    assert message in error.value.message
    assert error.value.field == at


def test_a_catastrophic_regex_answers_correctly_without_backtracking():
    # Python's re took 20 s on this pattern and 27 a's and a "!" (issue 12), far longer on longer values.
    condition = compile_condition("company", "regex", "^(a+)+$", territories={})
    assert condition.evaluate({"company": "a" * 27 + "!"})[0] is False
    assert condition.evaluate({"company": "A" * 27})[0] is True  # case-insensitive, as regex conditions always were


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"^(\w+)@\1\.com$", r"invalid escape sequence: \1"),
        (r"(?P<x>a)(?P=x)", "invalid perl operator: (?P"),
        (r"^(?=.*@acme)", "invalid perl operator: (?="),
        (r"^(?!.*@gmail)", "invalid perl operator: (?!"),
        (r"(?<=@)acme", "invalid perl operator: (?<"),
    ],
)
def test_regex_features_that_need_backtracking_are_refused_with_the_reason(pattern, reason):
    with pytest.raises(ConditionError) as error:
        compile_condition("email", "regex", pattern, territories={})
    assert reason in error.value.message
    assert "must run in linear time" in error.value.message
    assert "backreferences" in error.value.message and "lookarounds" in error.value.message
    assert error.value.field == "value"
