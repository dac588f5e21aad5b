"""Simulation runs: a manager's simulation queued, replayed by a worker of the `simulations` queue, kept as data.

A run is claimed with a conditional UPDATE (queued -> running): a job delivered twice, or a run the
sweeper already failed, changes nothing. The worker moves the run's progress after every batch of
leads (`routing.simulation.REPLAY_BATCH`), which is also its heartbeat: the sweep fails a run whose
heartbeat stopped (its worker died) and deletes runs past their retention. Why a run failed is a
code and parameters, said in the reader's language when shown.
"""

import datetime as dt
import logging

import django_rq
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from redis.exceptions import RedisError

from leads.models import Lead
from reps.scoping import leads_visible_to, manager_scope
from routing.models import RoutingRule, SimulationRun
from routing.simulation import SimulationResult, routing_replay, simulation_leads

logger = logging.getLogger("routing")
Status = SimulationRun.Status
SIMULATIONS_QUEUE = "simulations"
# The job by its path, as notifications name theirs: routing.jobs imports this module, never the other way round.
RUN_SIMULATION_JOB = "routing.jobs.run_simulation"


def simulation_run_start(*, user, parameters: dict, language: str) -> SimulationRun:
    """Saves a queued run of `parameters` (`SimulationForm.run_parameters`); its job is queued on commit."""
    with transaction.atomic():
        run = SimulationRun.objects.create(started_by=user, parameters={**parameters, "language": language})
        transaction.on_commit(lambda: enqueue_simulation(run.pk))
    return run


def enqueue_simulation(run_id: int) -> None:
    """Queues a run's job (run in process without Redis); a run that cannot be queued fails with that cause."""
    if settings.ROUTING_EMBEDDED:
        import_string(RUN_SIMULATION_JOB)(run_id)
        return
    try:
        django_rq.get_queue(SIMULATIONS_QUEUE).enqueue(RUN_SIMULATION_JOB, run_id, result_ttl=60, failure_ttl=24 * 3600)
    except RedisError as error:
        logger.warning("Could not queue simulation run %s (Redis: %s).", run_id, error)
        simulation_run_fail(run_id=run_id, code="queue_unavailable", params={})


def simulation_run_fail(*, run_id: int, code: str, params: dict, from_statuses=(Status.QUEUED, Status.RUNNING)) -> bool:
    """Marks a live run failed with its cause; False if it had ended already."""
    return bool(SimulationRun.objects.filter(pk=run_id, status__in=from_statuses).update(
        status=Status.FAILED, failure_code=code, failure_params=params, finished_at=timezone.now()))


def simulation_run_execute(*, run_id: int) -> None:
    """Replays a queued run's leads and stores its results; a run not queued any more is left as it is."""
    now = timezone.now()
    claimed = SimulationRun.objects.filter(pk=run_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=now, heartbeat_at=now)
    if not claimed:
        return  # done, failed, deleted, or running in another worker: another process won
    run = SimulationRun.objects.select_related("started_by").get(pk=run_id)
    # Rule names and refusals in the messages of a failed run are said in the language of the manager who started it.
    with translation.override(run.parameters.get("language") or settings.LANGUAGE_CODE):
        try:
            results = _replay(run)
        except ValidationError as error:
            simulation_run_fail(run_id=run_id, code="invalid", params={"messages": error.messages},
                                from_statuses=[Status.RUNNING])
            return
        except Exception as error:
            logger.exception("Simulation run %s failed", run_id)
            simulation_run_fail(run_id=run_id, code="error", params={"error": error.__class__.__name__},
                                from_statuses=[Status.RUNNING])
            raise
    # Only a run still running: one the sweeper gave up on stays failed.
    SimulationRun.objects.filter(pk=run_id, status=Status.RUNNING).update(
        status=Status.DONE, results=results, progress_done=results["replayed"], finished_at=timezone.now())


def _replay(run: SimulationRun) -> dict:
    parameters = run.parameters
    at = timezone.now()
    choice = simulation_leads(
        leads=leads_visible_to(run.started_by, Lead.objects.all()), now=at, limit=settings.SIMULATION_MAX_LEADS,
        days=parameters.get("days"), last=parameters.get("last"), source=parameters.get("source", ""),
        country=parameters.get("country", ""),
    )
    lead_ids = choice.ids_oldest_first()
    SimulationRun.objects.filter(pk=run.pk).update(progress_total=len(lead_ids), heartbeat_at=timezone.now())

    def progress(done):
        SimulationRun.objects.filter(pk=run.pk).update(progress_done=done, heartbeat_at=timezone.now())

    totals = routing_replay(lead_ids=lead_ids, switch_on=_rules(parameters.get("switch_on", [])),
                            switch_off=_rules(parameters.get("switch_off", [])), at=at, on_progress=progress)
    return {**totals.as_data(), "left_out": choice.left_out}


def _rules(rule_ids) -> list:
    rules = list(RoutingRule.objects.filter(pk__in=rule_ids).order_by("priority", "pk"))
    missing = set(rule_ids) - {rule.pk for rule in rules}
    if missing:
        raise ValidationError(_("Rule %(ids)s was deleted after the simulation was started: start it again.")
                              % {"ids": ", ".join(str(pk) for pk in sorted(missing))})
    return rules


def simulation_runs_sweep(*, now: dt.datetime) -> int:
    """Fails live runs whose progress stopped for SIMULATION_STALLED_SECONDS and deletes runs past their retention;
    how many runs it failed or deleted."""
    seconds = settings.SIMULATION_STALLED_SECONDS
    cutoff = now - dt.timedelta(seconds=seconds)
    live = SimulationRun.objects.filter(heartbeat_at__lt=cutoff)
    failed = 0
    for status, code in ((Status.RUNNING, "stalled"), (Status.QUEUED, "not_started")):
        failed += live.filter(status=status).update(status=Status.FAILED, failure_code=code,
                                                    failure_params={"seconds": seconds}, finished_at=now)
    deleted, _by_model = SimulationRun.objects.filter(
        created_at__lt=now - dt.timedelta(days=settings.SIMULATION_RETENTION_DAYS)).delete()
    return failed + deleted


# --- Reads --------------------------------------------------------------------------------------


def simulation_runs_visible_to(user) -> QuerySet:
    """Runs the user started; every run for whoever sees every team. A run's leads are its starter's scope."""
    runs = SimulationRun.objects.select_related("started_by")
    return runs if manager_scope(user) is None else runs.filter(started_by=user)


def failure_message(run: SimulationRun) -> str:
    """Why a run failed, in the reader's language."""
    params = run.failure_params
    if run.failure_code == "invalid":
        return " ".join(params.get("messages", []))
    if run.failure_code == "stalled":
        return _("The simulation made no progress for %(seconds)s seconds: its worker stopped. Start it again.") % {
            "seconds": number_format(params["seconds"], force_grouping=True)}
    if run.failure_code == "not_started":
        return _("No worker started the simulation within %(seconds)s seconds: is a worker running the "
                 "simulations queue? Start it again once one is.") % {
            "seconds": number_format(params["seconds"], force_grouping=True)}
    if run.failure_code == "queue_unavailable":
        return _("The simulation could not be queued: Redis did not answer. Start it again in a moment.")
    return _("The simulation stopped on an unexpected error (%(error)s). Start it again; if it fails again, "
             "tell your administrator.") % {"error": params.get("error", "?")}


def run_result(run: SimulationRun) -> SimulationResult | None:
    return SimulationResult(run.results) if run.status == Status.DONE else None
