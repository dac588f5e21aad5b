import pytest
from django.core.exceptions import ValidationError

from reps.models import Rep, TimeOff
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
