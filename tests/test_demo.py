"""manage.py load_demo: a realistic organisation, loaded once, and the logins it prints; it routes at any hour."""

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction

from leadrouting import demo
from leads.models import Account, AccountDomain, Lead
from reps.models import AvailabilityCalendar, Rep, Team, Territory, TimeOff
from routing.capacity import rep_loads
from routing.experiments import experiment_results
from routing.models import Pool, RoutingRule
from routing.services import route_pending_leads

pytestmark = pytest.mark.django_db


def load_demo(*args) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


# Loaded late on a Saturday night (UTC): the instants below are a Sunday night, a weekday morning and evening.
LOADED_AT = dt.datetime(2026, 2, 28, 23, 30, tzinfo=dt.UTC)
SUNDAY_NIGHT = dt.datetime(2026, 3, 1, 3, 0, tzinfo=dt.UTC)
MONDAY_MORNING = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)  # 10:30 in Berlin
MONDAY_EVENING = dt.datetime(2026, 3, 2, 20, 0, tzinfo=dt.UTC)  # after hours in Europe, afternoon in the Americas


@pytest.fixture(scope="module")
def output(django_db_setup, django_db_blocker):
    """Loaded once for the module (it routes two weeks of history), rolled back after its last test."""
    with django_db_blocker.unblock():
        with transaction.atomic():
            with time_machine.travel(LOADED_AT, tick=False):
                printed = load_demo()
            yield printed
            transaction.set_rollback(True)


def test_three_regions_have_sub_teams_and_managers(output):
    regions = Team.objects.filter(parent=None, sub_teams__isnull=False).distinct()
    assert sorted(regions.values_list("name", flat=True)) == ["APAC", "Americas", "EMEA"]
    assert Team.objects.get(name="DACH").parent.name == "EMEA"
    assert Team.objects.get(name="LATAM").parent.name == "Americas"
    assert Team.objects.get(name="Japan").parent.name == "APAC"
    assert all(team.managers.exists() for team in Team.objects.all())


def test_about_twenty_reps_of_every_seniority_with_calendars_in_several_time_zones(output):
    reps = Rep.objects.all()
    assert 18 <= reps.count() <= 25
    assert set(reps.values_list("seniority", flat=True)) == set(Rep.Seniority.values)
    assert not reps.filter(calendar=None).exists()
    assert reps.values("calendar__time_zone").distinct().count() >= 7
    assert all(rep.time_zone == rep.calendar.time_zone for rep in reps.select_related("calendar"))
    assert all(rep.skill_levels.exists() for rep in reps)
    night_desk = AvailabilityCalendar.objects.get(name="Night desk")
    assert all(hours.is_overnight for hours in night_desk.working_hours.all())
    assert AvailabilityCalendar.objects.get(name="Berlin office").holidays.exists()


def test_some_reps_are_on_leave_now_and_one_is_away(output):
    now = LOADED_AT
    on_leave = Rep.objects.filter(time_off__start__lte=now, time_off__end__gt=now).distinct()
    assert on_leave.count() >= 1
    assert Rep.objects.filter(status=Rep.Status.AWAY, away_until__gt=now).count() == 1
    assert TimeOff.objects.filter(start__gt=now).exists()  # leave ahead, too


def test_territories_by_country_region_and_postal_code_are_covered(output):
    bavaria = Territory.objects.get(name="Bavaria")
    assert [t.name for t in bavaria.ancestors()] == ["DACH", "EMEA"]
    assert bavaria.postal_codes == "80-87" and bavaria.reps.exists()
    us_west = Territory.objects.get(name="US West")
    assert us_west.parent.name == "North America" and "CA" in us_west.regions
    assert Territory.objects.get(name="DACH").teams.filter(name="DACH").exists()


def test_accounts_have_parents_domains_owners_and_customers(output):
    assert Account.objects.filter(parent__isnull=False).count() >= 3
    assert Account.objects.filter(is_customer=True, owner__seniority=Rep.Seniority.ACCOUNT_MANAGER).exists()
    assert AccountDomain.objects.count() >= Account.objects.count()
    assert Pool.objects.get(name="EMEA overflow").teams.filter(name="EMEA").exists()


def test_about_two_hundred_varied_leads_some_from_known_accounts(output):
    leads = Lead.objects.all()
    assert leads.count() == demo.LEAD_COUNT
    assert set(leads.values_list("source", flat=True)) == {"web", "webinar", "ads", "partner", "csv"}
    assert leads.values("country").distinct().count() >= 10
    assert leads.filter(domain__in=AccountDomain.objects.values("domain")).count() >= 10
    assert leads.filter(score__gte=80).exists() and leads.filter(deal_value__lt=1000).exists()
    assert leads.filter(industry__in=["Healthcare", "Finance"]).exists()


def test_rules_follow_the_seeds_chain_in_priority_order(output):
    rules = list(RoutingRule.objects.filter(is_active=True).order_by("priority")
                 .prefetch_related("conditions", "skill_requirements"))
    chain = [(rule.target_type, [str(c) for c in rule.conditions.all()]) for rule in rules]
    assert chain == [
        ("account_owner", ["account.is_customer equals true"]),
        ("team", ["score gte 80"]),
        ("skills", ["industry equals Healthcare"]),
        ("skills", ["industry equals Finance"]),
        ("territory", ["territory in_territory DACH"]),
        ("nurture", ["deal_value lt 1000"]),
        ("team", []),
    ]
    assert rules[1].target_team.name == "Senior reps" and rules[1].strategy == RoutingRule.Strategy.ROUND_ROBIN
    assert [req.skill.name for req in rules[2].skill_requirements.all()] == ["Healthcare"]
    assert rules[4].strategy == RoutingRule.Strategy.LEAST_LOADED
    assert rules[-1].target_team.members.count() >= 10
    for rule in rules:
        rule.full_clean()


def test_manager_and_rep_can_log_in_and_are_printed(output, client):
    User = get_user_model()
    manager = User.objects.get(username=demo.MANAGER_USERNAME)
    assert manager.is_staff and manager.groups.filter(name="Sales managers").exists()
    assert manager.managed_teams.filter(name="EMEA").exists()
    rep_user = User.objects.get(username=demo.REP_USERNAME)
    assert rep_user.rep.is_active and rep_user.groups.filter(name="Reps").exists()
    assert client.login(username=demo.MANAGER_USERNAME, password=demo.MANAGER_PASSWORD)
    assert client.login(username=demo.REP_USERNAME, password=demo.REP_PASSWORD)
    assert "http://127.0.0.1:8000/" in output
    assert f"{demo.MANAGER_USERNAME} / {demo.MANAGER_PASSWORD}" in output
    assert f"{demo.REP_USERNAME} / {demo.REP_PASSWORD}" in output
    assert f"{demo.ADMIN_USERNAME} / {demo.ADMIN_PASSWORD}" in output
    assert client.login(username=demo.ADMIN_USERNAME, password=demo.ADMIN_PASSWORD)
    assert client.get("/admin/auth/user/").status_code == 200


def test_the_printed_intake_form_takes_a_lead(output, client):
    url = f"http://127.0.0.1:8000/f/{demo.INTAKE_FORM_SLUG}/"
    assert url in output
    response = client.post(url, prospect("Grace", "Okoye"), follow=True)
    assert response.status_code == 200
    assert Lead.objects.filter(email="grace.okoye@initech.example", source="web").exists()


def test_the_experiment_runs_and_has_results_for_both_groups(output, client):
    experiment = demo.demo_experiment()
    assert f"/experiments/{experiment.pk}/" in output
    results = experiment_results(experiment=experiment)
    assert results.control.leads > 10 and results.test.leads > 10
    assert results.control.converted + results.test.converted > 0
    client.login(username=demo.MANAGER_USERNAME, password=demo.MANAGER_PASSWORD)
    assert client.get(f"/experiments/{experiment.pk}/").status_code == 200


def test_the_history_leaves_every_cap_free(output):
    reps = list(Rep.objects.all())
    loads = rep_loads(reps, at=LOADED_AT + dt.timedelta(minutes=1))
    assert all(count == 0 for counts in loads.new.values() for count in counts.values())
    assert all(rep.max_open_leads is None or loads.open.get(rep.pk, 0) < rep.max_open_leads for rep in reps)
    assert Lead.objects.filter(status=Lead.Status.CONVERTED).exists()  # worked history, not 200 untouched leads


def prospect(first_name, last_name):
    return {"first_name": first_name, "last_name": last_name, "company": "Initech Inc.", "country": "US",
            "email": f"{first_name}.{last_name}@initech.example".lower(), "employee_count": "40",
            "use_case": "Lead management"}


@pytest.mark.parametrize("instant", [SUNDAY_NIGHT, MONDAY_MORNING, MONDAY_EVENING], ids=["sunday-night", "weekday-morning", "weekday-evening"])
def test_a_new_lead_from_the_form_reaches_a_rep_at_any_hour(output, client, instant, django_capture_on_commit_callbacks):
    with time_machine.travel(instant, tick=False):
        client.post(f"/f/{demo.INTAKE_FORM_SLUG}/", prospect("Ada", "Lovelace"))
        route_pending_leads(limit=10, worker="test")

    lead = Lead.objects.select_related("owner").get(email="ada.lovelace@initech.example")
    assert lead.status == Lead.Status.ASSIGNED and lead.owner is not None, lead.status


def test_the_demo_reps_queue_has_leads_and_says_truly_whether_new_ones_reach_him(output, client):
    client.login(username=demo.REP_USERNAME, password=demo.REP_PASSWORD)
    with time_machine.travel(SUNDAY_NIGHT, tick=False):
        sunday = client.get("/queue/").content.decode()
    with time_machine.travel(MONDAY_MORNING, tick=False):
        monday = client.get("/queue/").content.decode()

    assert "No open leads" not in sunday and 'class="lead-card' in sunday
    assert "Not taking new leads now" in sunday and "Out of hours: works Mon–Fri 09:00–17:00 Europe/Berlin" in sunday
    assert "badge available" not in sunday
    assert "Available" in monday and "Not taking new leads now" not in monday


def test_the_demo_manager_sees_every_team_and_every_demo_lead(output, client):
    manager = get_user_model().objects.get(username=demo.MANAGER_USERNAME)
    assert manager.has_perm("reps.view_all_teams")
    client.force_login(manager)

    response = client.get("/admin/leads/lead/")

    assert response.context["cl"].result_count == demo.LEAD_COUNT


def test_second_run_changes_nothing(output):
    counts = [model.objects.count() for model in (Team, Rep, Territory, Account, RoutingRule, Lead)]
    again = load_demo()
    assert "already loaded" in again
    assert [model.objects.count() for model in (Team, Rep, Territory, Account, RoutingRule, Lead)] == counts


def test_reset_rebuilds_the_demo_without_duplicates(output):
    counts = [model.objects.count() for model in (Team, Rep, Territory, Account, Pool, RoutingRule, Lead)]
    load_demo("--reset")
    assert [model.objects.count() for model in (Team, Rep, Territory, Account, Pool, RoutingRule, Lead)] == counts


def test_lead_specs_are_the_same_on_every_call():
    assert demo.demo_lead_specs() == demo.demo_lead_specs()
    assert len({spec["email"] for spec in demo.demo_lead_specs()}) == demo.LEAD_COUNT
