"""Pages for people: the rep's queue and pool, the lead's timeline, the manager dashboard, the reassignment log."""

import datetime as dt
import itertools
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from leadrouting.pagination import CappedCountPaginator
from leadrouting.csv_export import csv_stream
from leads import lifecycle
from leads.models import Lead
from reps import scoping
from reps.services import rep_set_available, rep_set_away
from routing import (
    capacity_board, charts, daily_stats, dashboard_figures, experiments, pool_ageing, reassignment_log, selectors,
)
from routing.claims import LeadAlreadyClaimed, lead_claim, leads_claim_next
from routing.fairness import NOTICEABLE_POINTS, fairness_by_rule
from routing.forms import LeadReassignForm
from routing.models import RoutingExperiment
from routing.reassignment import lead_reassign
from routing.view_forms import (
    AwayForm, ClaimNextForm, DashboardFilterForm, LostForm, NoteForm, PoolAgeingForm, PoolFilterForm,
    QueueRefreshForm, ReassignmentFilterForm, minutes_label,
)

# action in the URL -> (service, form with its extra argument, message on success)
LEAD_ACTIONS = {
    "accept": (lifecycle.lead_accept, None, gettext_lazy("%(lead)s accepted.")),
    "contacted": (lifecycle.lead_mark_contacted, None, gettext_lazy("%(lead)s marked contacted: the SLA clock stopped.")),
    "qualified": (lifecycle.lead_qualify, None, gettext_lazy("%(lead)s marked qualified.")),
    "converted": (lifecycle.lead_convert, None, gettext_lazy("%(lead)s marked converted.")),
    "lost": (lifecycle.lead_lose, LostForm, gettext_lazy("%(lead)s marked lost.")),
    "note": (lifecycle.lead_add_note, NoteForm, gettext_lazy("Note added to %(lead)s.")),
}
# Rows the reassignment CSV reads from the database's cursor at a time (and looks up their previous reps for).
CSV_CHUNK = 1000
REASSIGNMENT_PAGE_SIZE = 50
QUEUE_PAGE_SIZE, POOL_PAGE_SIZE, CAPACITY_PAGE_SIZE = 25, 50, 50
# Distribution chart, in SVG units: one row per rep, names left of the bars.
CHART_ROW_HEIGHT, CHART_LABEL_WIDTH, CHART_BAR_MAX = 28, 180, 400


def rep_required(view):
    """Logged in and a rep: the queue and the pool belong to reps."""
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        rep = scoping.rep_for(request.user)
        if rep is None:
            raise PermissionDenied(_("Only reps have a lead queue."))
        return view(request, rep, *args, **kwargs)
    return wrapper


def manager_required(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not scoping.is_sales_manager(request.user):
            raise PermissionDenied(_("Only sales managers can open this page."))
        return view(request, *args, **kwargs)
    return wrapper


def lead_in_reach(view):
    """For the pages of one lead: finds the lead among those the user may see before anything reads the request.

    A missing id and a lead out of reach both answer 404, before any form is checked: a form error
    names the lead, so checking it first would show anyone the name of any lead by its id.
    """
    @login_required
    @wraps(view)
    def wrapper(request, lead_id, *args, **kwargs):
        lead = scoping.lead_for_viewer(request.user, lead_id, leads=Lead.objects.select_related(
            "owner__user", "pool", "account"))
        if lead is None:
            raise Http404
        return view(request, lead, *args, **kwargs)
    return wrapper


def home(request):
    """A rep's home is the queue, a manager's the dashboard, an administrator's the admin; others log in first."""
    if not request.user.is_authenticated:
        return redirect("routing:login")
    if scoping.rep_for(request.user) is not None:
        return redirect("routing:queue")
    if scoping.is_sales_manager(request.user):
        return redirect("routing:dashboard")
    if request.user.is_staff:
        return redirect("admin:index")
    raise PermissionDenied(_("Your account is neither a rep nor a sales manager; ask an administrator to make it one."))


@rep_required
def queue(request, rep):
    """The rep's open leads, a page at a time; htmx polls it for the list alone (`_queue_live.html`)."""
    now = timezone.now()
    refresh = QueueRefreshForm(request.GET)
    seen = (refresh.cleaned_data["seen"] if refresh.is_valid() else None) or now
    page = Paginator(selectors.rep_open_leads(rep), QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "rep": rep, "page": page, "leads": selectors.with_routing_reasons(page.object_list), "now": now,
        "seen": seen, "new_count": selectors.rep_leads_received_since(rep, seen) if seen < now else 0,
        "poll_seconds": settings.LIVE_POLL_SECONDS,
        "routing_status": selectors.rep_routing_status(rep, at=now),
        "back": f"{reverse('routing:queue')}?page={page.number}",
    }
    if request.htmx:
        return render(request, "routing/_queue_live.html", context)
    return render(request, "routing/queue.html", context | {
        "pool_count": selectors.pool_leads_for(rep).count(), "away_form": AwayForm(), "tab": "queue"})


@rep_required
def pool(request, rep):
    form = PoolFilterForm(request.GET or None, pools=selectors.claimable_pools_for(rep))
    filters = form.cleaned_data if form.is_valid() else {}
    leads = selectors.pool_leads_for(rep, search=filters.get("q", ""), pool=filters.get("pool"),
                                     waiting=filters.get("waiting", ""))
    page = Paginator(leads, POOL_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "routing/pool.html", {
        "rep": rep, "form": form, "page": page, "leads": page.object_list, "query": _query_without_page(request),
        "filtered": any(filters.values()),
        "pool_count": selectors.pool_leads_for(rep).count(), "tab": "pool", "claim_next_form": ClaimNextForm(),
    })


@require_POST
@lead_in_reach
def lead_action(request, lead, action):
    if action not in LEAD_ACTIONS:
        raise Http404
    service, form_class, done = LEAD_ACTIONS[action]
    form = form_class(request.POST) if form_class else None
    if form is not None and not form.is_valid():
        messages.error(request, _("%(lead)s: %(errors)s") % {"lead": lead, "errors": " ".join(
            str(error) for errors in form.errors.values() for error in errors)})
        return redirect(_back(request))
    try:
        service(lead_id=lead.pk, actor=request.user, **(form.cleaned_data if form else {}))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done % {"lead": lead})
    return redirect(_back(request))


@require_POST
@rep_required
def claim(request, rep, lead_id):
    # Not lead_in_reach: the reach here is the rep's pools, and the claim's own conditional update decides it.
    # A missing id, a lead of a pool the rep may not claim from and one another rep took first answer alike.
    try:
        lead = lead_claim(lead_id=lead_id, rep=rep, actor=request.user)
    except LeadAlreadyClaimed:
        messages.warning(request, _("Another rep claimed this lead first. Pick another one from the pool."))
        return redirect("routing:pool")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("routing:pool")
    messages.success(request, _("%(lead)s is yours now; it is in your queue.") % {"lead": lead})
    return redirect("routing:queue")


@require_POST
@rep_required
def claim_next(request, rep):
    form = ClaimNextForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["count"]))
        return redirect("routing:pool")
    claimed, stopped_by = leads_claim_next(rep=rep, count=form.cleaned_data["count"], actor=request.user)
    if claimed:
        messages.success(request, ngettext("%(count)s lead is yours now; it is in your queue.",
                                           "%(count)s leads are yours now; they are in your queue.",
                                           len(claimed)) % {"count": len(claimed)})
    if stopped_by:
        messages.warning(request, _("Stopped: %(why)s") % {"why": stopped_by})
    return redirect("routing:queue" if claimed else "routing:pool")


@require_POST
@rep_required
def away(request, rep):
    form = AwayForm(request.POST)
    try:
        if request.POST.get("state") == "available":
            rep_set_available(rep=rep, actor=request.user)
            messages.success(request, _("Welcome back: new leads can be routed to you again."))
        elif form.is_valid():
            rep_set_away(rep=rep, until=form.cleaned_data["until"], actor=request.user)
            messages.success(request, _("You are away: new leads go to other reps meanwhile."))
        else:
            messages.error(request, " ".join(form.errors.get("until", [])))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("routing:queue")


@lead_in_reach
def lead_detail(request, lead):
    is_owner = lead.owner is not None and lead.owner.user_id == request.user.pk
    can_reassign = scoping.is_sales_manager(request.user) and lead.status not in Lead.CLOSED_STATUSES
    reassign_form = LeadReassignForm(scope=scoping.manager_scope(request.user)) if can_reassign else None
    return render(request, "routing/lead_detail.html", {
        "lead": lead, "timeline": selectors.lead_timeline(lead), "is_owner": is_owner, "reassign_form": reassign_form,
    })


@manager_required
@require_POST
@lead_in_reach
def lead_reassign_view(request, lead):
    """A manager moves the lead to a chosen rep of their teams, or through the rules again, with a reason."""
    form = LeadReassignForm(request.POST, scope=scoping.manager_scope(request.user))
    if not form.is_valid():
        messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
        return redirect("routing:lead_detail", lead_id=lead.pk)
    try:
        lead_reassign(lead_id=lead.pk, to_rep=form.cleaned_data["to_rep"], actor=request.user,
                      reason=form.cleaned_data["reason"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        lead.refresh_from_db(fields=["owner", "pool"])  # "route again" lets the rules choose: say whom they chose
        messages.success(request, _reassigned_message(lead))
    return redirect("routing:lead_detail", lead_id=lead.pk)


def _period_and_scope(request, scope):
    """The dashboard's and the trends' filters: a period (7 days unless chosen) and one of the manager's teams."""
    form = DashboardFilterForm(request.GET or None, scope=scope)
    filters = form.cleaned_data if form.is_valid() else {}
    team = filters.get("team")  # one of the manager's own teams: the form offers no other
    return form, filters.get("period") or "7d", scoping.team_scope([team.pk]) if team else scope


@manager_required
def dashboard(request):
    scope = scoping.manager_scope(request.user)
    form, period, shown_scope = _period_and_scope(request, scope)
    now = timezone.now()
    first_day = dashboard_figures.period_first_day(period, now=now)
    board = dashboard_figures.dashboard(scope=shown_scope, first_day=first_day, now=now)
    return render(request, "routing/dashboard.html", {
        "form": form, "board": board, "period": period, "chart": _bar_chart(board.reps),
        "manages_no_team": scope == scoping.NO_TEAM,
    })


@manager_required
def trends(request):
    scope = scoping.manager_scope(request.user)
    form, period, shown_scope = _period_and_scope(request, scope)
    now = timezone.now()
    days = dashboard_figures.trends(scope=shown_scope, first_day=dashboard_figures.period_first_day(period, now=now),
                                    now=now)
    return render(request, "routing/trends.html", {
        "form": form, "days": days, "charts": charts.trend_charts(days), "manages_no_team": scope == scoping.NO_TEAM,
    })


@manager_required
def capacity(request):
    """Each rep of the manager's teams: available or why not, load against caps, next available; polled by htmx."""
    scope = scoping.manager_scope(request.user)
    reps = capacity_board.reps_for_capacity_board(scope)
    page = Paginator(reps, CAPACITY_PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    context = {"page": page, "rows": capacity_board.capacity_board(reps=list(page.object_list), at=now), "now": now,
               "query": _query_without_page(request), "poll_seconds": settings.LIVE_POLL_SECONDS,
               "manages_no_team": scope == scoping.NO_TEAM}
    return render(request, "routing/_capacity_live.html" if request.htmx else "routing/capacity.html", context)


@manager_required
def reassignments(request):
    scope = scoping.manager_scope(request.user)
    form = ReassignmentFilterForm(request.GET or None, scope=scope)
    log = reassignment_log.reassignment_log(scope=scope, **(form.cleaned_data if form.is_valid() else {}))
    # A year of moves is counted up to a cap: an exact count joined every move to its lead (0.6 s on a year).
    page = CappedCountPaginator(log, REASSIGNMENT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "routing/reassignments.html", {
        "form": form, "page": page, "entries": reassignment_log.with_from_reps(page.object_list),
        "query": _query_without_page(request),
        "manages_no_team": scope == scoping.NO_TEAM,
    })


@manager_required
def reassignments_csv(request):
    scope = scoping.manager_scope(request.user)
    form = ReassignmentFilterForm(request.GET or None, scope=scope)
    log = reassignment_log.reassignment_log(scope=scope, **(form.cleaned_data if form.is_valid() else {}))
    header = [_("When"), _("Lead ID"), _("Lead"), _("From"), _("To"), _("Kind"), _("Reason"), _("Rule"), _("By")]
    rows = _reassignment_rows(log, language=translation.get_language())
    # Streamed: a year of reassignments never sits in memory, and the first rows leave at once.
    response = StreamingHttpResponse(csv_stream(itertools.chain([header], rows)),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="reassignments.csv"'
    return response


def _reassignment_rows(log, *, language):
    # The rows are written after the view has returned: keep the reader's language for kind, reason, "system".
    with translation.override(language):
        system = _("system")
        for row in reassignment_log.reassignment_log_rows(log, chunk=CSV_CHUNK):
            # Machine-read: an ISO instant and a plain id, never the reader's date or number format.
            yield [row.created_at.isoformat(), row.lead_id, row.lead, row.from_rep, row.rep, row.kind, row.reason,
                   row.rule, row.actor if row.actor is not None else system]


@manager_required
def experiment_results(request, experiment_id):
    experiment = get_object_or_404(RoutingExperiment.objects.select_related("control_rule", "variant_rule"),
                                   pk=experiment_id)
    scope = scoping.manager_scope(request.user)
    return render(request, "routing/experiment_results.html", {
        "results": experiments.experiment_results(experiment=experiment, scope=scope), "scoped": scope is not None,
        "can_choose_winner": experiments.can_have_winner(experiment) and request.user.has_perm(
            "routing.change_routingrule"),
    })


@manager_required
@require_POST
def experiment_make_variant_default(request, experiment_id):
    """The manager declares the test variant the winner: the control rule routes like the variant from now on."""
    experiment = get_object_or_404(RoutingExperiment, pk=experiment_id)
    if not request.user.has_perm("routing.change_routingrule"):
        raise PermissionDenied(_("Only managers who may change routing rules can make a variant the default."))
    try:
        experiments.experiment_make_variant_default(experiment_id=experiment.pk, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Rule '%(control)s' now assigns like '%(variant)s'; the experiment is over.") % {
            "control": experiment.control_rule, "variant": experiment.variant_rule})
    return redirect("routing:experiment_results", experiment_id=experiment.pk)


def _reassigned_message(lead) -> str:
    if lead.owner is not None:
        return _("%(lead)s reassigned to %(rep)s.") % {"lead": lead, "rep": lead.owner}
    if lead.pool is not None:
        return _("%(lead)s is waiting in pool %(pool)s: no rep could take it now.") % {"lead": lead, "pool": lead.pool}
    return _("%(lead)s has no owner: no rule found a rep for it.") % {"lead": lead}


def _back(request):
    target = request.POST.get("next", "")
    # Only a path: redirect() would take a bare word such as "null" for a view name and fail (a 500).
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("routing:queue")


def _query_without_page(request) -> str:
    """The list's filters as a query string, for the links to its other pages."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _bar_chart(rows):
    """Geometry of the distribution chart (SVG units): bar lengths relative to the busiest rep."""
    top = max((row.assigned for row in rows), default=0) or 1
    bars = []
    for index, row in enumerate(rows):
        width = round(row.assigned * CHART_BAR_MAX / top, 1)
        # Formatted here with a dot: the template would localise a float ("98,8" in German) and break the SVG.
        bars.append({"row": row, "y": index * CHART_ROW_HEIGHT, "width": charts.svg_number(width),
                     "value_x": charts.svg_number(CHART_LABEL_WIDTH + width + 6)})
    return {"bars": bars, "height": max(len(rows), 1) * CHART_ROW_HEIGHT, "label_width": CHART_LABEL_WIDTH,
            "bar_max": CHART_BAR_MAX, "width": CHART_LABEL_WIDTH + CHART_BAR_MAX + 50}


@manager_required
def fairness(request):
    scope = scoping.manager_scope(request.user)
    form, period, shown_scope = _period_and_scope(request, scope)
    first_day = dashboard_figures.period_first_day(period, now=timezone.now())
    reports = fairness_by_rule(scope=shown_scope, since=daily_stats.day_start(first_day))
    return render(request, "routing/fairness.html", {
        "form": form, "rules": [(report, charts.share_chart(report.reps)) for report in reports],
        "noticeable_points": NOTICEABLE_POINTS, "manages_no_team": scope == scoping.NO_TEAM,
    })


@manager_required
def pool_ageing_view(request):
    scope = scoping.manager_scope(request.user)
    form = PoolAgeingForm(request.GET or None, scope=scope)
    filters = form.cleaned_data if form.is_valid() else {}
    minutes = filters.get("older_than") or pool_ageing.DEFAULT_AGE_MINUTES
    older_than = dt.timedelta(minutes=minutes)
    pool = filters.get("pool")
    now = timezone.now()
    leads = pool_ageing.leads_waiting_longer_than(scope=scope, older_than=older_than, now=now,
                                                  pool_id=pool.pk if pool else None)
    return render(request, "routing/pool_ageing.html", {
        "form": form, "pools": pool_ageing.pool_ages(scope=scope, older_than=older_than, now=now),
        "page": Paginator(leads, 50).get_page(request.GET.get("page")), "query": _query_without_page(request),
        "age_label": minutes_label(minutes), "manages_no_team": scope == scoping.NO_TEAM,
    })
