"""The dashboard's chart in a language with a decimal comma: the bars are drawn, as long as their counts say."""

import pytest

from routing.models import Assignment
from tests.browser.conftest import log_in_any_language
from tests.factories import AssignmentFactory, TeamFactory, rep_named, sales_manager

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("language", ["de", "ru"])
def test_the_dashboard_draws_its_bars_in_a_decimal_comma_language(page_in, live_server, language):
    team = TeamFactory(name="Inside sales")
    anna, ben = rep_named("Anna", teams=[team]), rep_named("Ben", teams=[team])
    sales_manager(manages=[team], username="maria")
    AssignmentFactory.create_batch(3, rep=anna, kind=Assignment.Kind.INITIAL)
    AssignmentFactory.create_batch(2, rep=ben, kind=Assignment.Kind.INITIAL)
    page = page_in(language)
    log_in_any_language(page, live_server, username="maria")

    page.goto(f"{live_server.url}/dashboard/")

    track = page.locator(".bar-track").first.bounding_box()
    anna_bar, ben_bar = (page.locator(".bar-fill").nth(index).bounding_box() for index in (0, 1))
    assert anna_bar["width"] == pytest.approx(track["width"], abs=1)  # the busiest rep fills the track
    assert ben_bar["width"] == pytest.approx(track["width"] * 2 / 3, abs=1)  # 266.7 of 400 units
    assert ben_bar["x"] == pytest.approx(track["x"], abs=1)
