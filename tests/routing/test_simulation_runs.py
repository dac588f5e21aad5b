"""Simulation runs: queued by the form, replayed by a worker of the `simulations` queue, shown with their progress,
results or the cause of their failure, swept when stalled or old, and seen only by who may see them."""

import datetime as dt
import io
import re

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from routing import simulation as simulation_module
from routing import simulation_runs
from routing.jobs import run_simulation
from routing.models import SimulationRun
from routing.services import route_pending_leads
from routing.simulation_runs import simulation_run_execute
from tests.admin_support import REPS, staff_user_in
from tests.factories import (
    LeadFactory,
    RoutingRuleFactory,
    RuleConditionFactory,
    TeamFactory,
    UserFactory,
    rep_named,
    sales_manager,
)
from tests.routing.support import work_the_simulations_queue

SIMULATE_URL = reverse("admin:routing_routingrule_simulate")
NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)
Status = SimulationRun.Status


def run_url(run):
    return reverse("admin:routing_routingrule_simulation", args=[run.pk])


def text_of(response):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def org():
    """Three DE leads routed by "Everyone" to Anna and Ben; a draft rule would send them to Dora."""
    sales, dach = TeamFactory(name="Sales"), TeamFactory(name="DACH")
    rep_named("Anna", teams=[sales])
    rep_named("Ben", teams=[sales])
    rep_named("Dora", teams=[dach])
    RoutingRuleFactory(name="Everyone", target_team=sales, priority=20)
    leads = [LeadFactory(country="DE") for _ in range(3)]
    route_pending_leads(limit=100, worker="test")
    draft = RoutingRuleFactory(name="Germany to DACH", target_team=dach, priority=10, is_active=False)
    RuleConditionFactory(rule=draft, field="country", value="DE")
    return {"sales": sales, "dach": dach, "draft": draft, "leads": leads}


def start(client, **params):
    data = {"leads_from": "days", "number": "30", "source": "", "country": "", "run": "Simulate", **params}
    return client.post(SIMULATE_URL, data)


# --- A real worker, end to end ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_worker_replays_a_started_run_and_its_page_shows_progress_then_the_results(client, redis_connection):
    setup = org()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = start(client, switch_on=[setup["draft"].pk])

    run = SimulationRun.objects.get()
    assert response["Location"] == run_url(run)
    waiting = client.get(run_url(run))
    assert "Queued" in text_of(waiting) and "Waiting for a worker" in text_of(waiting)
    assert '<meta http-equiv="refresh" content="2">' in waiting.content.decode()

    work_the_simulations_queue()

    run.refresh_from_db()
    assert (run.status, run.progress_done, run.progress_total) == (Status.DONE, 3, 3)
    page = client.get(run_url(run))
    text = text_of(page)
    assert "3 leads replayed" in text
    assert "3 leads would change rule" in text
    assert "Switched on: Germany to DACH." in text
    assert 'http-equiv="refresh"' not in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_run_whose_job_fails_shows_the_cause(client, redis_connection, monkeypatch):
    org()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    def broken_replay(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(simulation_runs, "routing_replay", broken_replay)
    start(client)
    work_the_simulations_queue()

    run = SimulationRun.objects.get()
    assert (run.status, run.failure_code, run.failure_params) == (Status.FAILED, "error", {"error": "RuntimeError"})
    text = text_of(client.get(run_url(run)))
    assert "The simulation stopped on an unexpected error (RuntimeError)." in text
    assert "What would change" not in text


# --- The job and its page -------------------------------------------------------------------------


@pytest.fixture(autouse=False)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.mark.django_db
def test_progress_moves_batch_by_batch_and_the_page_shows_it(client, monkeypatch, frozen):
    setup = org()
    manager = sales_manager(sees_every_team=True, is_staff=True)
    client.force_login(manager)
    monkeypatch.setattr(simulation_module, "REPLAY_BATCH", 1)
    run = SimulationRun.objects.create(started_by=manager, parameters={"days": 30, "switch_on": [setup["draft"].pk]})
    seen = []
    replay = simulation_runs.routing_replay

    def watched_replay(**kwargs):
        report = kwargs["on_progress"]

        def on_progress(done):
            report(done)
            run.refresh_from_db()
            seen.append((run.status, run.progress_done, run.progress_total))
            if done == 1:
                seen.append(text_of(client.get(run_url(run))))

        return replay(**{**kwargs, "on_progress": on_progress})

    monkeypatch.setattr(simulation_runs, "routing_replay", watched_replay)
    simulation_run_execute(run_id=run.pk)

    assert [entry for entry in seen if isinstance(entry, tuple)] == [
        (Status.RUNNING, 1, 3), (Status.RUNNING, 2, 3), (Status.RUNNING, 3, 3)]
    page = next(entry for entry in seen if isinstance(entry, str))
    assert "Running" in page and "1 of 3 leads replayed" in page


@pytest.mark.django_db
def test_running_the_job_twice_changes_nothing_the_second_time(frozen):
    setup = org()
    run = SimulationRun.objects.create(started_by=UserFactory(is_superuser=True),
                                       parameters={"days": 30, "switch_on": [setup["draft"].pk]})
    simulation_run_execute(run_id=run.pk)
    run.refresh_from_db()
    first = (run.status, run.results, run.finished_at)

    with time_machine.travel(NOW + dt.timedelta(minutes=5), tick=False):
        simulation_run_execute(run_id=run.pk)

    run.refresh_from_db()
    assert (run.status, run.results, run.finished_at) == first


@pytest.mark.django_db
def test_a_draft_rule_that_cannot_be_used_fails_the_run_with_what_to_fix(client, frozen):
    setup = org()
    RuleConditionFactory(rule=setup["draft"], field="score", operator="regex", value="^9")
    client.force_login(sales_manager(sees_every_team=True, is_staff=True))
    start(client, switch_on=[setup["draft"].pk])
    run = SimulationRun.objects.get()

    simulation_run_execute(run_id=run.pk)

    run.refresh_from_db()
    assert run.failure_code == "invalid"
    assert "has a condition that cannot be used (score matches regex ^9)" in text_of(client.get(run_url(run)))


@pytest.mark.django_db
def test_more_leads_than_a_run_may_replay_is_a_form_error_in_the_readers_numbers(client, settings):
    client.force_login(sales_manager(sees_every_team=True, is_staff=True))
    with translation.override("de"):
        response = client.post(SIMULATE_URL, {"leads_from": "leads", "number": "100001"}, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 200
    assert "100.000" in text_of(response)
    assert not SimulationRun.objects.exists()


# --- Who sees which run ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_manager_of_another_team_cannot_see_someone_elses_run(client, frozen):
    setup = org()
    owner = sales_manager(manages=[setup["sales"]], is_staff=True, username="owner")
    run = SimulationRun.objects.create(started_by=owner, parameters={"days": 30})
    simulation_run_execute(run_id=run.pk)

    client.force_login(sales_manager(manages=[setup["dach"]], is_staff=True, username="other"))
    assert client.get(run_url(run)).status_code == 404
    assert run_url(run) not in client.get(SIMULATE_URL).content.decode()

    client.force_login(owner)
    assert client.get(run_url(run)).status_code == 200
    assert run_url(run) in client.get(SIMULATE_URL).content.decode()
    client.force_login(sales_manager(sees_every_team=True, is_staff=True, username="head"))
    assert client.get(run_url(run)).status_code == 200


@pytest.mark.django_db
def test_a_rep_cannot_open_a_run(client):
    run = SimulationRun.objects.create(started_by=UserFactory(), parameters={})
    client.force_login(staff_user_in(REPS))
    assert client.get(run_url(run)).status_code == 403


# --- The sweep -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_sweep_fails_stalled_runs_and_deletes_runs_past_their_retention(settings, redis_connection):
    settings.SIMULATION_STALLED_SECONDS = 600
    settings.SIMULATION_RETENTION_DAYS = 30
    user = UserFactory()
    with time_machine.travel(NOW - dt.timedelta(days=31), tick=False):
        old = SimulationRun.objects.create(started_by=user, status=Status.DONE)
    with time_machine.travel(NOW - dt.timedelta(minutes=11), tick=False):
        stalled = SimulationRun.objects.create(started_by=user, status=Status.RUNNING)
        never_started = SimulationRun.objects.create(started_by=user)
    with time_machine.travel(NOW - dt.timedelta(minutes=9), tick=False):
        moving = SimulationRun.objects.create(started_by=user, status=Status.RUNNING)

    out = io.StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("routing_sweeper", "--once", stdout=out, stderr=io.StringIO())

    assert "Failed or deleted 3 simulation runs" in out.getvalue()
    assert not SimulationRun.objects.filter(pk=old.pk).exists()
    runs = {run.pk: run for run in SimulationRun.objects.all()}
    assert (runs[stalled.pk].status, runs[stalled.pk].failure_code) == (Status.FAILED, "stalled")
    assert (runs[never_started.pk].status, runs[never_started.pk].failure_code) == (Status.FAILED, "not_started")
    assert runs[moving.pk].status == Status.RUNNING
    assert "its worker stopped" in simulation_runs.failure_message(runs[stalled.pk])
    # The job of a run the sweep gave up on changes nothing when it finally runs.
    run_simulation(stalled.pk)
    assert SimulationRun.objects.get(pk=stalled.pk).failure_code == "stalled"
