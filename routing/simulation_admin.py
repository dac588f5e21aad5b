"""Admin pages of the simulation: the form reached from the rules list, a run's page, and the Leads action's result."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from routing.forms import SimulationForm
from routing.simulation import routing_simulate
from routing.simulation_runs import failure_message, run_result, simulation_run_start, simulation_runs_visible_to

# Whoever may change the rules may test changes to them.
SIMULATE_PERMISSION = "routing.change_routingrule"
TEMPLATE = "admin/routing/routingrule/simulate.html"
RUN_TEMPLATE = "admin/routing/routingrule/simulation_run.html"
RUNS_PER_PAGE = 20
CHANGES_PER_PAGE = 100
REFRESH_SECONDS = 2  # the run's page reloads itself this often until the run ends


def may_simulate(user) -> bool:
    return user.has_perm(SIMULATE_PERMISSION)


def rule_simulation_view(model_admin, request):
    """The form and the user's runs; a valid POST queues a run and opens its page."""
    if not may_simulate(request.user):
        raise PermissionDenied
    form = SimulationForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        run = simulation_run_start(user=request.user, parameters=form.run_parameters(), language=get_language())
        return redirect("admin:routing_routingrule_simulation", run_id=run.pk)
    runs = Paginator(simulation_runs_visible_to(request.user), RUNS_PER_PAGE).get_page(request.GET.get("page"))
    return _response(model_admin, request, TEMPLATE, title=_("Simulate rule changes"), form=form, runs=runs)


def simulation_run_view(model_admin, request, run_id):
    """A run: its progress while it runs (the page reloads itself), then its results or why it failed."""
    if not may_simulate(request.user):
        raise PermissionDenied
    run = simulation_runs_visible_to(request.user).filter(pk=run_id).first()
    if run is None:
        raise Http404(_("No such simulation, or it is someone else's."))
    result = run_result(run)
    changes = Paginator(result.changes, CHANGES_PER_PAGE).get_page(request.GET.get("page")) if result else None
    return _response(model_admin, request, RUN_TEMPLATE, title=str(run), run=run, result=result, changes=changes,
                     failure=failure_message(run) if run.status == run.Status.FAILED else "",
                     refresh_seconds=None if run.is_finished else REFRESH_SECONDS)


def lead_simulation_response(model_admin, request, leads):
    """The Leads action: the selected leads through the current rules; None (back to the list) if there are too many."""
    try:
        simulation = routing_simulate(leads=leads, at=timezone.now())
    except ValidationError as error:
        model_admin.message_user(request, " ".join(error.messages), messages.ERROR)
        return None
    changes = Paginator(simulation.result.changes, len(simulation.result.changes) or 1).get_page(1)
    return _response(model_admin, request, RUN_TEMPLATE, title=_("Simulate routing"), result=simulation.result,
                     changes=changes)


def _response(model_admin, request, template, **context):
    context = {**model_admin.admin_site.each_context(request), "opts": model_admin.model._meta, **context}
    return TemplateResponse(request, template, context)
