"""Numbers in languages with a decimal comma: localised where a person reads them, never inside machine formats.

Every app page is rendered in German, Russian and Portuguese (decimal comma; "." or a space between thousands).
SVG coordinates written "400,0" draw no bar at all, so every number in an SVG attribute must parse as a number; a
deal value must read "324.960" to a German.
"""

import csv
import io
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from leads.models import Lead
from routing.models import Assignment
from tests.factories import (
    AssignmentFactory, IntakeFormFactory, LeadFactory, PoolFactory, RoutingExperimentFactory, RoutingRuleFactory,
    TeamFactory, rep_named, sales_manager,
)

LANGUAGES = ["de", "ru", "pt"]
DEAL_VALUE_READ_AS = {"en": "324,960", "de": "324.960", "ru": "324\xa0960", "pt": "324.960"}
# SVG attributes that hold numbers (a length may end in a unit or %), and those that hold lists of numbers.
SVG_NUMBER = re.compile(r"-?\d+(\.\d+)?(%|px|em)?")
SVG_NUMBER_ATTRIBUTES = {"x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "rx", "ry", "width", "height",
                         "stroke-width", "font-size", "dx", "dy"}
SVG_NUMBER_LIST_ATTRIBUTES = {"viewbox", "points", "transform", "d"}


class SvgNumbers(HTMLParser):
    """Collects (tag, attribute, value) of every number-holding attribute inside an <svg>."""

    def __init__(self):
        super().__init__()
        self.depth, self.svgs, self.attributes = 0, 0, []

    def handle_starttag(self, tag, attrs):
        if tag == "svg":
            self.depth += 1
            self.svgs += 1
        if self.depth:
            self.attributes += [(tag, name, value) for name, value in attrs
                                if name in SVG_NUMBER_ATTRIBUTES | SVG_NUMBER_LIST_ATTRIBUTES]

    def handle_endtag(self, tag):
        if tag == "svg":
            self.depth -= 1


def svg_number_errors(content: str) -> tuple[int, list]:
    """How many SVGs the page has, and each attribute value in them that is not made of plain numbers."""
    parser = SvgNumbers()
    parser.feed(content)
    errors = []
    for tag, name, value in parser.attributes:
        if name in SVG_NUMBER_ATTRIBUTES:
            ok = SVG_NUMBER.fullmatch(value.strip()) is not None
        elif name == "transform":
            ok = all(SVG_NUMBER.fullmatch(number) for call in re.findall(r"\(([^)]*)\)", value)
                     for number in re.split(r"[\s]+", call.strip()) if number)
            ok = ok and "," not in "".join(re.findall(r"\(([^)]*)\)", value)).replace(", ", " ")
        else:
            ok = re.fullmatch(r"[\sA-Za-z\-\d.,]*", value) is not None and not re.search(r"\d,\d", value)
        if not ok:
            errors.append(f'<{tag} {name}="{value}">')
    return parser.svgs, errors


@pytest.fixture
def office(db):
    """A manager's team of three reps whose lead counts (3, 2, 0) give bars of fractional length."""
    team = TeamFactory(name="Inside sales")
    anna, ben = rep_named("Anna", teams=[team]), rep_named("Ben", teams=[team])
    rep_named("Carla", teams=[team])
    manager = sales_manager(manages=[team], username="maria")
    rule = RoutingRuleFactory(name="Web leads", target_team=team)
    for rep, count in ((anna, 3), (ben, 2)):
        for _ in range(count):
            lead = LeadFactory(owner=rep, status=Lead.Status.ASSIGNED, deal_value=Decimal("324960"),
                               routing_requested_at=None)
            AssignmentFactory(lead=lead, rep=rep, rule=rule, kind=Assignment.Kind.INITIAL)
    pool = PoolFactory(name="Overflow")
    pool.reps.add(anna)
    LeadFactory(pool=pool, routing_requested_at=None)
    experiment = RoutingExperimentFactory(control_rule=rule)
    IntakeFormFactory(slug="contact", fields=["first_name", "email", "company"], required_fields=["email"])
    return {"anna": anna, "manager": manager, "lead": Lead.objects.filter(owner=anna).first(),
            "experiment": experiment}


def app_pages(office) -> list:
    """(who, url) of every page of the app a person reads, the intake form's included."""
    lead = office["lead"]
    return [
        (None, reverse("routing:login")),
        (None, "/f/contact/"), (None, "/f/contact/thanks/"),
        (office["anna"].user, reverse("routing:queue")), (office["anna"].user, reverse("routing:pool")),
        (office["anna"].user, reverse("routing:lead_detail", args=[lead.pk])),
        (office["manager"], reverse("routing:dashboard")),
        (office["manager"], reverse("routing:dashboard") + "?period=30d"),
        (office["manager"], reverse("routing:lead_detail", args=[lead.pk])),
        (office["manager"], reverse("routing:reassignments")),
        (office["manager"], reverse("routing:experiment_results", args=[office["experiment"].pk])),
    ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_renders_and_its_svg_numbers_parse_in_a_decimal_comma_language(client, office, language):
    svgs = 0
    for user, url in app_pages(office):
        client.logout()
        if user is not None:
            client.force_login(user)
        response = client.get(url, headers={"Accept-Language": language})
        assert response.status_code == 200, url
        assert response.headers["Content-Language"] == language, url
        count, errors = svg_number_errors(response.content.decode())
        assert errors == [], f"{url} in {language}: {errors}"
        svgs += count
    assert svgs >= 2  # the dashboard's chart, twice: the check above did look at a chart


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_dashboard_bars_have_fractional_lengths_written_with_a_point(client, office, language):
    client.force_login(office["manager"])

    content = client.get(reverse("routing:dashboard"), headers={"Accept-Language": language}).content.decode()

    widths = re.findall(r'<rect class="bar-fill"[^>]* width="([^"]+)"', content)
    assert widths == ["400.0", "266.7", "0.0"]  # 3, 2 and 0 leads against the busiest rep's 3


@pytest.mark.parametrize("language", ["en", *LANGUAGES])
def test_a_deal_value_reads_in_the_readers_number_format(client, office, language):
    client.force_login(office["anna"].user)
    lead = office["lead"]

    for url in (reverse("routing:queue"), reverse("routing:lead_detail", args=[lead.pk])):
        content = client.get(url, headers={"Accept-Language": language}).content.decode()
        assert DEAL_VALUE_READ_AS[language] in content, url


def test_the_reassignment_export_keeps_machine_numbers_in_german(client, office):
    moved = AssignmentFactory(rep=office["anna"], kind=Assignment.Kind.MANUAL)
    client.force_login(office["manager"])

    response = client.get(reverse("routing:reassignments_csv"), headers={"Accept-Language": "de"})

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    when, lead_id = rows[1][0], rows[1][1]
    assert lead_id == str(moved.lead_id)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00", when)


def test_experiment_figures_use_the_readers_decimal_comma():
    from django.utils import translation

    from routing.experiments import format_p_value, format_rate

    with translation.override("de"):
        assert (format_rate(0.1234), format_p_value(0.0412), format_p_value(0.31)) == ("12,3%", "p = 0,041", "p = 0,31")
    with translation.override("en"):
        assert (format_rate(0.1234), format_p_value(0.0004)) == ("12.3%", "p < 0.001")
