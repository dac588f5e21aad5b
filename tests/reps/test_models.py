import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from reps.models import Rep, TimeOff, WorkingHours
from tests.factories import RepFactory, TeamFactory, TimeOffFactory

pytestmark = pytest.mark.django_db


def test_team_cannot_become_its_own_ancestor():
    emea = TeamFactory(name="EMEA")
    dach = TeamFactory(name="DACH", parent=emea)
    emea.parent = dach
    with pytest.raises(ValidationError) as error:
        emea.full_clean()
    assert "parent" in error.value.message_dict


def test_negative_capacity_is_refused_with_a_message():
    rep = RepFactory(max_open_leads=-1)
    with pytest.raises(ValidationError) as error:
        rep.full_clean()
    assert "cannot be negative" in error.value.message_dict["max_open_leads"][0]


def test_time_off_ending_before_it_starts_is_refused():
    time_off = TimeOffFactory()
    time_off.end = time_off.start
    with pytest.raises(ValidationError) as error:
        time_off.full_clean()
    assert "after its start" in error.value.message_dict["end"][0]


def test_rep_is_stored_in_postgresql():
    from django.db import connection

    RepFactory()
    assert connection.vendor == "postgresql"
    assert Rep.objects.count() == 1 and TimeOff.objects.count() == 0


def _shift(weekday, start, end):
    return WorkingHours(weekday=weekday, start=dt.time(*start), end=dt.time(*end))


@pytest.mark.parametrize(
    ("first", "second", "overlap"),
    [
        ((0, (9,), (12,)), (0, (12,), (17,)), False),
        ((0, (9,), (13,)), (0, (12,), (17,)), True),
        ((0, (22,), (6,)), (1, (5,), (9,)), True),
        ((0, (22,), (6,)), (1, (6,), (9,)), False),
        ((6, (22,), (2,)), (0, (1,), (3,)), True),
        ((0, (9,), (17,)), (1, (9,), (17,)), False),
    ],
)
def test_working_hours_overlap_across_midnight_and_the_week_end(first, second, overlap):
    assert _shift(*first).overlaps(_shift(*second)) is overlap
    assert _shift(*second).overlaps(_shift(*first)) is overlap


def test_shift_that_ends_when_it_starts_is_refused():
    hours = _shift(0, (9,), (9,))
    with pytest.raises(ValidationError) as error:
        hours.clean()
    assert "A shift needs a length" in error.value.message_dict["end"][0]
