import datetime as dt
import zoneinfo

import pytest
import time_machine

from leads.models import Lead
from routing.services import route_pending_leads
from tests.factories import (
    AvailabilityCalendarFactory,
    LeadFactory,
    RepFactory,
    RoutingRuleFactory,
    TeamFactory,
    WorkingHoursFactory,
)

pytestmark = pytest.mark.django_db
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


@pytest.fixture
def berlin_rep():
    calendar = AvailabilityCalendarFactory(name="Berlin office", time_zone="Europe/Berlin")
    for weekday in range(5):
        WorkingHoursFactory(calendar=calendar, weekday=weekday, start=dt.time(9), end=dt.time(17))
    team = TeamFactory(name="Berlin")
    RepFactory(teams=[team], calendar=calendar, time_zone="Europe/Berlin")
    return team


@pytest.mark.parametrize(
    ("working_time_only", "due"),
    [(True, dt.datetime(2026, 11, 30, 9, 20, tzinfo=BERLIN)), (False, dt.datetime(2026, 11, 27, 17, 20, tzinfo=BERLIN))],
)
def test_sla_in_working_time_pauses_outside_the_reps_hours(berlin_rep, working_time_only, due):
    RoutingRuleFactory(target_team=berlin_rep, sla_minutes=30, sla_working_time_only=working_time_only)
    # Friday 16:50 in Berlin: ten working minutes left today, the other twenty on Monday morning.
    with time_machine.travel(dt.datetime(2026, 11, 27, 16, 50, tzinfo=BERLIN), tick=False):
        lead = LeadFactory()
        route_pending_leads(limit=10, worker="test")
    lead.refresh_from_db()
    assert lead.status == Lead.Status.ASSIGNED
    assert lead.sla_due_at == due
