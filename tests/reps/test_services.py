import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from reps.availability import rep_unavailability
from reps.models import Rep, RepStatusChange
from reps.services import rep_set_available, rep_set_away
from tests.factories import RepFactory, UserFactory

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
NOW = dt.datetime(2026, 6, 10, 10, 0, tzinfo=BERLIN)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def test_rep_set_away_until_a_time_is_back_by_itself_then():
    rep = RepFactory(time_zone="Europe/Berlin")
    until = NOW + dt.timedelta(hours=4)
    returned = rep_set_away(rep=rep, until=until, actor=UserFactory())
    assert returned is rep and rep.status == Rep.Status.AWAY and rep.away_until == until
    rep.refresh_from_db()
    assert (rep.status, rep.away_until) == (Rep.Status.AWAY, until)
    assert rep_unavailability(rep, timezone.now()).text == "away until 14:00 Europe/Berlin"
    assert rep_unavailability(rep, until) is None


def test_rep_set_away_without_a_time_stays_away():
    rep = RepFactory()
    rep_set_away(rep=rep)
    rep.refresh_from_db()
    assert (rep.status, rep.away_until) == (Rep.Status.AWAY, None)
    assert rep_unavailability(rep, NOW + dt.timedelta(days=30)).code == "away"


@pytest.mark.parametrize(
    ("until", "message"),
    [
        (NOW, "The return time has already passed; pick a later time or leave it empty."),
        (NOW - dt.timedelta(minutes=1), "The return time has already passed; pick a later time or leave it empty."),
        (dt.datetime(2026, 6, 10, 15, 0), "The return time needs a time zone."),
    ],
    ids=["now", "past", "naive"],
)
def test_rep_set_away_refuses_a_return_time_that_cannot_work(until, message):
    rep = RepFactory()
    with pytest.raises(ValidationError) as error:
        rep_set_away(rep=rep, until=until)
    assert error.value.message_dict == {"away_until": [message]}
    rep.refresh_from_db()
    assert rep.status == Rep.Status.AVAILABLE


def test_rep_set_available_drops_the_return_time():
    rep = RepFactory(status=Rep.Status.AWAY, away_until=NOW + dt.timedelta(days=2))
    rep_set_available(rep=rep, actor=UserFactory())
    assert (rep.status, rep.away_until) == (Rep.Status.AVAILABLE, None)
    rep.refresh_from_db()
    assert (rep.status, rep.away_until) == (Rep.Status.AVAILABLE, None)
    assert rep_unavailability(rep, NOW) is None


def test_rep_set_available_twice_changes_nothing_the_second_time():
    rep = RepFactory(status=Rep.Status.AWAY)
    rep_set_available(rep=rep)
    rep_set_available(rep=rep)
    rep.refresh_from_db()
    assert (rep.status, rep.away_until) == (Rep.Status.AVAILABLE, None)


def test_status_change_of_an_invalid_rep_is_refused_and_saves_nothing():
    rep = RepFactory(max_open_leads=-1)  # saved without validation
    with pytest.raises(ValidationError) as error:
        rep_set_away(rep=rep)
    assert "max_open_leads" in error.value.message_dict
    rep.refresh_from_db()
    assert rep.status == Rep.Status.AVAILABLE


def test_services_take_keyword_arguments_only():
    rep = RepFactory()
    with pytest.raises(TypeError):
        rep_set_away(rep)
    with pytest.raises(TypeError):
        rep_set_available(rep)


def test_every_switch_away_and_back_leaves_an_audit_row_with_who_and_until():
    rep, manager = RepFactory(), UserFactory(username="morgan")
    until = NOW + dt.timedelta(hours=3)
    rep_set_away(rep=rep, until=until, actor=manager)
    rep_set_available(rep=rep, actor=rep.user)
    rep_set_available(rep=rep, actor=rep.user)  # already available: no second row
    history = [(c.status, c.away_until, c.actor) for c in RepStatusChange.objects.filter(rep=rep).order_by("id")]
    assert history == [(Rep.Status.AWAY, until, manager), (Rep.Status.AVAILABLE, None, rep.user)]
