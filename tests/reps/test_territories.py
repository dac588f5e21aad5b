import pytest
from django.core.exceptions import ValidationError

from reps.selectors import territory_index
from reps.territories import PostalRange, parse_postal_codes, postal_code_matches
from tests.factories import TerritoryFactory

# Postal specs


def test_postal_spec_accepts_prefixes_separated_by_commas_semicolons_and_lines():
    assert parse_postal_codes("80, 81;82\r\n 83 \n\n,") == ["80", "81", "82", "83"]


def test_postal_spec_accepts_ranges_with_or_without_spaces():
    assert parse_postal_codes("80000-87999, 90000 - 91999") == [PostalRange("80000", "87999"), PostalRange("90000", "91999")]


def test_postal_spec_upper_cases_and_joins_letter_prefixes():
    assert parse_postal_codes("sw1a 1, ec1") == ["SW1A1", "EC1"]


@pytest.mark.parametrize("empty", ["", "  ", None, ",;\n"])
def test_empty_postal_spec_has_no_entries(empty):
    assert parse_postal_codes(empty) == []


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("80000-8799", "Postal range 80000-8799: both ends need the same number of characters."),
        ("87999-80000", "Postal range 87999-80000: the start is after the end."),
        ("80, 8*", "8* is not a postal prefix (letters and digits) or a range such as 80000-89999."),
        ("80000--87999", "80000--87999 is not a postal prefix"),
    ],
)
def test_bad_postal_spec_is_refused_naming_the_entry(spec, message):
    with pytest.raises(ValueError) as error:
        parse_postal_codes(spec)
    assert str(error.value).startswith(message)


@pytest.mark.django_db
def test_territory_with_a_bad_postal_spec_does_not_validate():
    territory = TerritoryFactory(postal_codes="80, 8*")
    with pytest.raises(ValidationError) as error:
        territory.full_clean()
    assert "8* is not a postal prefix" in error.value.message_dict["postal_codes"][0]


@pytest.mark.parametrize(
    ("code", "expected"),
    [("80331", True), ("8 0331", True), ("81", True), ("82000", False), ("8", False), ("", False)],
)
def test_postal_prefix_matches_the_start_of_the_code(code, expected):
    assert postal_code_matches(["80", "81"], code) is expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [("80000", True), ("85123", True), ("87999", True), ("88000", False), ("79999", False), ("8000", False), ("850001", True)],
)
def test_postal_range_matches_codes_inside_it(code, expected):
    assert postal_code_matches(parse_postal_codes("80000-87999"), code) is expected


def test_two_digit_postal_range_matches_by_prefix():
    entries = parse_postal_codes("80-87")
    assert postal_code_matches(entries, "87654") and not postal_code_matches(entries, "88000")


def test_letter_postal_codes_match_regardless_of_case_and_spaces():
    assert postal_code_matches(parse_postal_codes("SW1A"), "sw1a 1aa")


# Finding the territory of a lead


@pytest.fixture
def emea(db):
    """EMEA (no criteria) > DACH (DE, AT, CH) > Bavaria (DE, postal 80–87)."""
    emea = TerritoryFactory(name="EMEA")
    dach = TerritoryFactory(name="DACH", parent=emea, countries=["DE", "AT", "CH"])
    bavaria = TerritoryFactory(name="Bavaria", parent=dach, countries=["DE"], postal_codes="80-87")
    return {"EMEA": emea, "DACH": dach, "Bavaria": bavaria}


def matched_name(**location):
    territory = territory_index().match(**location)
    return territory.name if territory else None


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ({"country": "DE", "postal_code": "80331"}, "Bavaria"),
        ({"country": "DE", "postal_code": "10115"}, "DACH"),
        ({"country": "DE"}, "DACH"),
        ({"country": "AT", "postal_code": "80331"}, "DACH"),  # Bavaria's postal codes only count in Germany
        ({"country": "de", "postal_code": "80331"}, "Bavaria"),
        ({"country": " DE ", "postal_code": "80331"}, "Bavaria"),
        ({"country": "FR", "postal_code": "80000"}, None),  # EMEA sets no criteria: it only groups
        ({"country": ""}, None),
    ],
)
def test_the_most_specific_matching_territory_wins(emea, location, expected):
    assert matched_name(**location) == expected


def test_bavaria_by_postal_range_matches_like_its_prefixes(emea):
    emea["Bavaria"].postal_codes = "80000-87999"
    emea["Bavaria"].save()
    assert matched_name(country="DE", postal_code="87999") == "Bavaria"
    assert matched_name(country="DE", postal_code="88000") == "DACH"


def test_child_is_only_reached_through_a_matching_parent(emea):
    TerritoryFactory(name="Paris", parent=emea["DACH"], postal_codes="75")  # misplaced under DACH
    assert matched_name(country="FR", postal_code="75001") is None
    assert matched_name(country="DE", postal_code="75001") == "Paris"


def test_grouping_below_a_match_passes_the_search_on_to_its_children(emea):
    south = TerritoryFactory(name="South", parent=emea["DACH"])
    TerritoryFactory(name="Vienna", parent=south, countries=["AT"], postal_codes="1")
    assert matched_name(country="AT", postal_code="1010") == "Vienna"
    assert matched_name(country="AT", postal_code="5020") == "DACH"


def test_sibling_with_narrower_criteria_wins_a_tie_at_the_same_depth(db):
    europe = TerritoryFactory(name="Europe")
    TerritoryFactory(name="A Germany", parent=europe, countries=["DE"])
    TerritoryFactory(name="B Munich", parent=europe, countries=["DE"], postal_codes="80, 81")
    TerritoryFactory(name="C Upper Bavaria", parent=europe, countries=["DE"], regions="BY")
    assert matched_name(country="DE", region="BY", postal_code="80331") == "B Munich"
    assert matched_name(country="DE", region="BY", postal_code="90402") == "C Upper Bavaria"
    assert matched_name(country="DE", region="BE", postal_code="10115") == "A Germany"


def test_exact_tie_is_broken_by_name(db):
    europe = TerritoryFactory(name="Europe")
    for name in ["Germany B", "Germany A", "Germany C"]:
        TerritoryFactory(name=name, parent=europe, countries=["DE"])
    assert matched_name(country="DE") == "Germany A"


@pytest.fixture
def us(db):
    """AMER > US (US) > West (CA, OR, WA) and East (NY, NJ, MA)."""
    amer = TerritoryFactory(name="AMER")
    united_states = TerritoryFactory(name="US", parent=amer, countries=["US"])
    TerritoryFactory(name="West", parent=united_states, regions="CA, OR, WA")
    TerritoryFactory(name="East", parent=united_states, regions="ny,NJ , MA")
    return amer


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ({"country": "US", "region": "CA"}, "West"),
        ({"country": "US", "region": " wa "}, "West"),
        ({"country": "US", "region": "NY"}, "East"),
        ({"country": "US", "region": "US-MA"}, "East"),  # ISO 3166-2 as web forms send it
        ({"country": "US", "region": "TX"}, "US"),
        ({"country": "US", "region": ""}, "US"),
        ({"country": "CA", "region": "CA"}, None),  # Canada is not California
    ],
)
def test_us_leads_match_by_state(us, location, expected):
    assert matched_name(**location) == expected


def test_territory_region_in_iso_form_matches_a_plain_state(us):
    TerritoryFactory(name="Texas", parent=us.children.get(name="US"), regions="US-TX")
    assert matched_name(country="US", region="TX") == "Texas"


def test_ancestors_and_self_lists_ids_up_to_the_root(emea):
    index = territory_index()
    bavaria = index.by_id[emea["Bavaria"].pk]
    assert index.ancestors_and_self(bavaria) == [emea["Bavaria"].pk, emea["DACH"].pk, emea["EMEA"].pk]
    assert index.ancestors_and_self(index.by_id[emea["EMEA"].pk]) == [emea["EMEA"].pk]


def test_ancestors_and_self_stops_on_a_cycle(emea):
    index = territory_index()
    index.by_id[emea["EMEA"].pk].parent_id = emea["Bavaria"].pk  # as if saved without validation
    assert index.ancestors_and_self(index.by_id[emea["DACH"].pk]) == [emea["DACH"].pk, emea["EMEA"].pk, emea["Bavaria"].pk]
