"""Admin pages of the simulation: the form reached from the rules list, and the result page it shares with the Leads action."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from leads.models import Lead
from reps.scoping import leads_visible_to
from routing.forms import SimulationForm
from routing.simulation import MAX_SIMULATED_LEADS, routing_simulate, simulation_leads

# Whoever may change the rules may test changes to them.
SIMULATE_PERMISSION = "routing.change_routingrule"
TEMPLATE = "admin/routing/routingrule/simulate.html"


def may_simulate(user) -> bool:
    return user.has_perm(SIMULATE_PERMISSION)


def rule_simulation_view(model_admin, request):
    """The form; with `run` in the query string, the result below it (a GET: a simulation changes nothing)."""
    if not may_simulate(request.user):
        raise PermissionDenied
    form = SimulationForm(request.GET if "run" in request.GET else None)
    simulation = None
    if form.is_valid():
        now = timezone.now()
        choice = simulation_leads(leads=leads_visible_to(request.user, Lead.objects.all()), now=now,
                                  **form.lead_filters())
        try:
            simulation = routing_simulate(leads=choice.leads, switch_on=form.cleaned_data["switch_on"],
                                          switch_off=form.cleaned_data["switch_off"], at=now)
        except ValidationError as error:
            form.add_error(None, error)
        if simulation is not None and choice.left_out:
            messages.warning(request, _(
                "%(total)s leads match: the %(max)s most recent were replayed (at most %(max)s at once). "
                "Choose fewer days, or only one source or country.")
                % {"total": number_format(choice.left_out + MAX_SIMULATED_LEADS, force_grouping=True),
                   "max": number_format(MAX_SIMULATED_LEADS, force_grouping=True)})
    return simulation_response(model_admin, request, title=_("Simulate rule changes"), form=form,
                               simulation=simulation)


def lead_simulation_response(model_admin, request, leads):
    """The Leads action: the selected leads through the current rules; None (back to the list) if there are too many."""
    try:
        simulation = routing_simulate(leads=leads, at=timezone.now())
    except ValidationError as error:
        model_admin.message_user(request, " ".join(error.messages), messages.ERROR)
        return None
    return simulation_response(model_admin, request, title=_("Simulate routing"), simulation=simulation)


def simulation_response(model_admin, request, *, title, form=None, simulation=None):
    context = {**model_admin.admin_site.each_context(request), "title": title, "opts": model_admin.model._meta,
               "form": form, "simulation": simulation}
    return TemplateResponse(request, TEMPLATE, context)
