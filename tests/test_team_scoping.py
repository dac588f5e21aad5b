"""Managers see only their teams' data, door by door.

Alpha's manager sees Alpha and its sub-team Alpha North, never Bravo; a manager with
reps.view_all_teams and a superuser see both; a manager of no team sees neither.
"""

import datetime as dt
import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from leadrouting.csv_export import csv_cell_neutralise
from leads.models import Lead
from routing.models import Assignment, RoutingDecision, RoutingExperiment, RoutingRule
from routing.reassignment import lead_reassign, rep_deactivate
from routing.services import route_pending_leads
from routing.timeline import timeline_cause
from tests.factories import (
    AssignmentFactory,
    LeadFactory,
    PoolFactory,
    RepFactory,
    RotationStateFactory,
    RoutingDecisionFactory,
    RoutingExperimentFactory,
    RoutingRuleFactory,
    TeamFactory,
    TimeOffFactory,
    UserFactory,
    sales_manager,
)
from tests.routing.support import csv_rows

pytestmark = pytest.mark.django_db

ALPHA_REPS = ["Alice Ames", "Arne Nord"]
BRAVO_REPS = ["Bob Baker", "Bella Brown"]
# Leads by what Alpha's manager may see: owned by Alpha's reps, waiting in a pool Alpha (or one of
# its reps) may claim, or left unowned by an Alpha rep; Bravo's the same way round.
ALPHA_LEADS = ["Alpha Owned", "North Owned", "Alpha Waiting", "Arne Waiting", "Alpha Stuck", "Inside Alpha"]
BRAVO_LEADS = ["Bravo Owned", "Bravo Waiting", "Bravo Stuck", "Inside Bravo", "Across Teams"]
ALPHA_MOVES, BRAVO_MOVES, ACROSS_MOVE = ["kept inside Alpha"], ["kept inside Bravo"], "sent across teams"


def rep_in(team, first_name, last_name):
    user = UserFactory(username=first_name.lower(), first_name=first_name, last_name=last_name)
    return RepFactory(user=user, teams=[team])


def lead_named(name, **fields):
    first_name, last_name = name.split()
    return LeadFactory(first_name=first_name, last_name=last_name, routing_requested_at=None, **fields)


def owned_lead(name, rep):
    lead = lead_named(name, owner=rep, last_owner=rep, status=Lead.Status.ASSIGNED, assigned_at=timezone.now())
    AssignmentFactory(lead=lead, rep=rep)
    return lead


def released_lead(name, last_owner):
    """Unroutable and unowned after its rep left: the assignment is over."""
    lead = lead_named(name, status=Lead.Status.UNROUTABLE, last_owner=last_owner)
    AssignmentFactory(lead=lead, rep=last_owner, is_current=False, ended_at=timezone.now())
    return lead


@pytest.fixture
def org():
    alpha = TeamFactory(name="Alpha")
    alpha_north = TeamFactory(name="Alpha North", parent=alpha)
    bravo = TeamFactory(name="Bravo")
    alice, arne = rep_in(alpha, "Alice", "Ames"), rep_in(alpha_north, "Arne", "Nord")
    bob, bella = rep_in(bravo, "Bob", "Baker"), rep_in(bravo, "Bella", "Brown")
    alpha_pool, arnes_pool, bravo_pool = PoolFactory(name="Alpha pool"), PoolFactory(name="Arne's pool"), \
        PoolFactory(name="Bravo pool")
    alpha_pool.teams.add(alpha)
    arnes_pool.reps.add(arne)
    bravo_pool.teams.add(bravo)
    leads = {
        "Alpha Owned": owned_lead("Alpha Owned", alice),
        "North Owned": owned_lead("North Owned", arne),
        "Bravo Owned": owned_lead("Bravo Owned", bob),
        "Alpha Waiting": lead_named("Alpha Waiting", pool=alpha_pool),
        "Arne Waiting": lead_named("Arne Waiting", pool=arnes_pool),
        "Bravo Waiting": lead_named("Bravo Waiting", pool=bravo_pool),
        "Alpha Stuck": released_lead("Alpha Stuck", alice),
        "Bravo Stuck": released_lead("Bravo Stuck", bob),
        "Inside Alpha": owned_lead("Inside Alpha", alice),
        "Across Teams": owned_lead("Across Teams", alice),
        "Inside Bravo": owned_lead("Inside Bravo", bob),
    }
    boss = sales_manager(sees_every_team=True, username="boss")
    lead_reassign(lead_id=leads["Inside Alpha"].pk, to_rep=arne, actor=boss, reason="kept inside Alpha")
    lead_reassign(lead_id=leads["Across Teams"].pk, to_rep=bob, actor=boss, reason=ACROSS_MOVE)
    lead_reassign(lead_id=leads["Inside Bravo"].pk, to_rep=bella, actor=boss, reason="kept inside Bravo")
    RoutingDecisionFactory(lead=leads["Alpha Owned"], chosen_rep=alice)
    RoutingDecisionFactory(lead=leads["Bravo Owned"], chosen_rep=bob)
    TimeOffFactory(rep=alice, reason="Alpha holiday")
    TimeOffFactory(rep=bob, reason="Bravo holiday")
    RotationStateFactory(rep=alice)
    RotationStateFactory(rep=bob)
    return {"alpha": alpha, "alpha_north": alpha_north, "bravo": bravo, "alice": alice, "arne": arne, "bob": bob,
            "leads": leads}


@pytest.fixture
def alpha_manager(org):
    return sales_manager(manages=[org["alpha"]], is_staff=True, username="ada")


@pytest.fixture
def bravo_manager(org):
    return sales_manager(manages=[org["bravo"]], is_staff=True, username="bruno")


@pytest.fixture(params=["view_all_teams", "superuser"])
def sees_everything(request, org):
    if request.param == "superuser":
        return UserFactory(is_superuser=True, is_staff=True)
    return sales_manager(sees_every_team=True, is_staff=True)


@pytest.fixture
def no_team_manager(org):
    return sales_manager(is_staff=True)


def page(client, user, url, data=None):
    client.force_login(user)
    response = client.get(url, data or {})
    assert response.status_code == 200
    return response.content.decode()


def shown(html, names):
    return {name for name in names if name in html}


def figure(html, label):
    """The number on the dashboard tile with this label."""
    return int(re.search(rf'<span class="figure">(\d+)</span><span class="label">{label}</span>', html).group(1))


def options(html, name):
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return [text.strip() for text in re.findall(r"<option[^>]*>([^<]*)</option>", select)]


def csv_reasons(client, user):
    client.force_login(user)
    rows = csv_rows(client.get(reverse("routing:reassignments_csv")))
    return {row[6] for row in rows[1:]}


def flash(response):
    return " ".join(str(message) for message in get_messages(response.wsgi_request))


# --- Dashboard -----------------------------------------------------------------------

def test_the_dashboard_shows_a_team_manager_their_teams_and_sub_teams_only(client, alpha_manager):
    html = page(client, alpha_manager, reverse("routing:dashboard"))

    assert shown(html, ALPHA_REPS + BRAVO_REPS) == set(ALPHA_REPS)
    assert shown(html, ["Alpha Waiting", "Arne Waiting", "Bravo Waiting"]) == {"Alpha Waiting", "Arne Waiting"}
    assert shown(html, ["Alpha Stuck", "Bravo Stuck"]) == {"Alpha Stuck"}
    # Routed to Alpha's reps: Alpha Owned, North Owned, Alpha Stuck, Inside Alpha, Across Teams.
    assert figure(html, "Leads received") == 5
    assert figure(html, "Reassignments") == 1  # to Alpha's reps: Inside Alpha, to Arne
    assert options(html, "team") == ["All my teams", "Alpha", "Alpha North"]


def test_the_dashboard_filter_narrows_the_figures_and_lists_to_a_sub_team(client, org, alpha_manager):
    html = page(client, alpha_manager, reverse("routing:dashboard"), {"team": org["alpha_north"].pk})

    assert shown(html, ALPHA_REPS + BRAVO_REPS) == {"Arne Nord"}
    assert shown(html, ["Alpha Waiting", "Arne Waiting", "Bravo Waiting", "Alpha Stuck"]) == {"Arne Waiting"}
    assert figure(html, "Leads received") == 2  # North Owned, and Inside Alpha moved to Arne


def test_another_managers_team_in_the_dashboard_url_shows_none_of_its_data(client, org, alpha_manager):
    html = page(client, alpha_manager, reverse("routing:dashboard"), {"team": org["bravo"].pk})

    assert shown(html, BRAVO_REPS + ["Bravo Waiting", "Bravo Stuck"]) == set()
    assert figure(html, "Leads received") == 5  # all of Alpha's, as without a filter


def test_the_dashboard_shows_every_team_to_org_wide_managers_and_superusers(client, org, sees_everything):
    html = page(client, sees_everything, reverse("routing:dashboard"))

    assert shown(html, ALPHA_REPS + BRAVO_REPS) == set(ALPHA_REPS + BRAVO_REPS)
    assert shown(html, ["Alpha Waiting", "Bravo Waiting", "Alpha Stuck", "Bravo Stuck"]) == {
        "Alpha Waiting", "Bravo Waiting", "Alpha Stuck", "Bravo Stuck"}
    assert figure(html, "Leads received") == len(org["leads"])
    assert options(html, "team") == ["All teams", "Alpha", "Alpha North", "Bravo"]


def test_a_manager_of_no_team_sees_an_empty_dashboard_that_says_why(client, no_team_manager):
    html = page(client, no_team_manager, reverse("routing:dashboard"))

    assert shown(html, ALPHA_REPS + BRAVO_REPS + ALPHA_LEADS + BRAVO_LEADS) == set()
    assert figure(html, "Leads received") == 0
    assert options(html, "team") == ["All my teams"]
    assert "You manage no team yet" in html


# --- Reassignment log and its CSV ------------------------------------------------------

def test_the_reassignment_log_shows_moves_within_and_from_or_to_the_managers_teams(client, alpha_manager,
                                                                                   bravo_manager):
    alpha_html = page(client, alpha_manager, reverse("routing:reassignments"))
    bravo_html = page(client, bravo_manager, reverse("routing:reassignments"))

    every_move = ALPHA_MOVES + BRAVO_MOVES + [ACROSS_MOVE]
    assert shown(alpha_html, every_move) == {*ALPHA_MOVES, ACROSS_MOVE}
    assert shown(bravo_html, every_move) == {*BRAVO_MOVES, ACROSS_MOVE}
    assert options(alpha_html, "rep") == ["Any rep", *ALPHA_REPS]
    assert options(alpha_html, "team") == ["Any of my teams", "Alpha", "Alpha North"]


def test_the_csv_export_holds_the_same_rows_as_the_managers_log(client, alpha_manager, bravo_manager):
    assert csv_reasons(client, alpha_manager) == {*ALPHA_MOVES, ACROSS_MOVE}
    assert csv_reasons(client, bravo_manager) == {*BRAVO_MOVES, ACROSS_MOVE}


def log_page_as_csv_rows(client, user):
    """The manager's log page, each entry as the CSV writes it, from the models' own names and texts."""
    client.force_login(user)
    entries = client.get(reverse("routing:reassignments"), headers={"Accept-Language": "en"}).context["entries"]
    return [[entry.created_at.isoformat(), str(entry.lead_id), str(entry.lead),
             entry.from_rep.name if entry.from_rep else "", entry.rep.name, entry.get_kind_display(),
             entry.reason_for_reader, entry.rule.name if entry.rule else "",
             entry.actor.get_username() if entry.actor else "system"] for entry in entries]


def test_the_csv_for_a_team_manager_lists_exactly_the_rows_of_the_log_page(client, org, alpha_manager):
    # Besides the fixture's moves: leads named by their company or by nothing, a rep known by username only, a move
    # by the system under a rule with its cause as data.
    zoe = RepFactory(user=UserFactory(username="zoe", first_name="", last_name=""), teams=[org["alpha"]])
    company_only = LeadFactory(first_name="", last_name="", email="", company="Nameless GmbH",
                               routing_requested_at=None)
    AssignmentFactory(lead=company_only, rep=zoe, is_current=False, ended_at=timezone.now())
    AssignmentFactory(lead=company_only, rep=org["alice"], kind=Assignment.Kind.REASSIGN,
                      rule=RoutingRuleFactory(name="DACH"), cause=timeline_cause("sla_breach", minutes=30),
                      reason="written in German")
    unnamed = LeadFactory(first_name="", last_name="", email="", company="", routing_requested_at=None)
    AssignmentFactory(lead=unnamed, rep=org["arne"], kind=Assignment.Kind.MANUAL, actor=alpha_manager,
                      cause=timeline_cause("manual", note="=1+1 looks like a formula"))
    client.force_login(alpha_manager)

    rows = csv_rows(client.get(reverse("routing:reassignments_csv"), headers={"Accept-Language": "en"}))

    expected = log_page_as_csv_rows(client, alpha_manager)
    assert {row[2] for row in expected} == {"Inside Alpha", "Across Teams", "Nameless GmbH", f"Lead #{unnamed.pk}"}
    # The one cell the CSV writes differently: text a spreadsheet would run as a formula (leadrouting/csv_export.py).
    assert rows[1:] == [[csv_cell_neutralise(cell) for cell in row] for row in expected]


def test_filtering_the_log_by_another_teams_rep_is_refused_and_shows_nothing_of_theirs(client, org, alpha_manager):
    html = page(client, alpha_manager, reverse("routing:reassignments"), {"rep": org["bob"].pk})

    assert "Select a valid choice" in html
    assert shown(html, BRAVO_MOVES) == set()


def test_the_log_and_csv_show_every_move_to_org_wide_managers_and_superusers(client, sees_everything):
    every_move = {*ALPHA_MOVES, *BRAVO_MOVES, ACROSS_MOVE}

    assert shown(page(client, sees_everything, reverse("routing:reassignments")), every_move) == every_move
    assert csv_reasons(client, sees_everything) == every_move


def test_a_manager_of_no_team_sees_no_move_in_the_log_or_csv(client, no_team_manager):
    html = page(client, no_team_manager, reverse("routing:reassignments"))

    assert shown(html, ALPHA_MOVES + BRAVO_MOVES + [ACROSS_MOVE]) == set()
    assert csv_reasons(client, no_team_manager) == set()


# --- The lead page and reassigning from it -------------------------------------------------

def lead_page_status(client, user, lead):
    client.force_login(user)
    return client.get(reverse("routing:lead_detail", args=[lead.pk])).status_code


def test_a_team_manager_opens_their_teams_lead_pages_and_others_are_not_found(client, org, alpha_manager):
    statuses = {name: lead_page_status(client, alpha_manager, lead) for name, lead in org["leads"].items()}

    assert {name for name, status in statuses.items() if status == 200} == set(ALPHA_LEADS)
    assert {name for name, status in statuses.items() if status == 404} == set(BRAVO_LEADS)


def test_org_wide_managers_and_superusers_open_every_lead_page(client, org, sees_everything):
    assert {lead_page_status(client, sees_everything, lead) for lead in org["leads"].values()} == {200}


def test_a_manager_of_no_team_opens_no_lead_page(client, org, no_team_manager):
    assert {lead_page_status(client, no_team_manager, lead) for lead in org["leads"].values()} == {404}


def test_a_lead_its_departing_rep_leaves_in_a_pool_of_no_team_stays_with_that_reps_manager(client, org,
                                                                                          alpha_manager, bravo_manager):
    overflow = PoolFactory(name="Overflow")  # nobody may claim from it: only Arne's leaving ties the lead to Alpha
    RoutingRuleFactory(name="North", priority=1, target_team=org["alpha_north"], pool=overflow,
                       when_none_eligible=RoutingRule.WhenNoneEligible.QUEUE)
    left = LeadFactory(first_name="Left", last_name="Behind")
    route_pending_leads(limit=10, worker="test")
    assert Lead.objects.get(pk=left.pk).owner == org["arne"]

    rep_deactivate(rep=org["arne"], actor=None)

    left.refresh_from_db()
    assert (left.owner, left.pool, left.last_owner) == (None, overflow, org["arne"])
    assert (lead_page_status(client, alpha_manager, left), lead_page_status(client, bravo_manager, left)) == (200, 404)


def test_the_reassign_form_offers_only_reps_of_the_managers_teams(client, org, alpha_manager):
    html = page(client, alpha_manager, reverse("routing:lead_detail", args=[org["leads"]["Alpha Owned"].pk]))

    # Alice is on leave: offered, and marked so (tests/routing/test_lead_page_reassign.py).
    assert [option.split(" (")[0] for option in options(html, "to_rep")[1:]] == ALPHA_REPS


def post_reassign(client, user, lead, to_rep, reason="Knows the account"):
    client.force_login(user)
    return client.post(reverse("routing:lead_reassign", args=[lead.pk]), {"to_rep": to_rep.pk, "reason": reason})


def test_reassigning_to_another_teams_rep_is_refused_with_a_message(client, org, alpha_manager):
    response = post_reassign(client, alpha_manager, org["leads"]["Alpha Owned"], org["bob"])

    assert "That rep is not in a team you manage" in flash(response)
    assert Lead.objects.get(pk=org["leads"]["Alpha Owned"].pk).owner == org["alice"]


def test_reassigning_within_the_managers_teams_works(client, org, alpha_manager):
    response = post_reassign(client, alpha_manager, org["leads"]["Alpha Owned"], org["arne"])

    assert flash(response) == f"{org['leads']['Alpha Owned']} reassigned to {org['arne']}."
    assert Lead.objects.get(pk=org["leads"]["Alpha Owned"].pk).owner == org["arne"]


def test_reassigning_another_teams_lead_is_not_found_and_changes_nothing(client, org, alpha_manager):
    response = post_reassign(client, alpha_manager, org["leads"]["Bravo Owned"], org["alice"])

    assert response.status_code == 404
    assert Lead.objects.get(pk=org["leads"]["Bravo Owned"].pk).owner == org["bob"]


# --- The admin -------------------------------------------------------------------------

# changelist URL, what Alpha's objects show there, what Bravo's show
ADMIN_LISTS = {
    "leads": ("/admin/leads/lead/", ALPHA_LEADS, BRAVO_LEADS),
    "assignments": ("/admin/routing/assignment/", ["Alpha Owned", "Inside Alpha", "Alpha Stuck", "Across Teams"],
                    ["Bravo Owned", "Inside Bravo", "Bravo Stuck"]),
    "decisions": ("/admin/routing/routingdecision/", ["Alpha Owned"], ["Bravo Owned"]),
    "reps": ("/admin/reps/rep/", ALPHA_REPS, BRAVO_REPS),
    "time off": ("/admin/reps/timeoff/", ["Alpha holiday"], ["Bravo holiday"]),
    "rotation state": ("/admin/routing/rotationstate/", ["Alice Ames"], ["Bob Baker"]),
}


def rows_seen(client, user, changelist) -> tuple:
    """How many of Alpha's rows and of Bravo's rows the changelist shows the user: "all", "none" or "some"."""
    url, alpha_rows, bravo_rows = ADMIN_LISTS[changelist]
    html = page(client, user, url)
    return tuple({len(rows): "all", 0: "none"}.get(len(shown(html, rows)), "some") for rows in (alpha_rows, bravo_rows))


@pytest.mark.parametrize("changelist", ADMIN_LISTS)
def test_admin_lists_show_a_team_manager_their_teams_rows_only(client, alpha_manager, changelist):
    assert rows_seen(client, alpha_manager, changelist) == ("all", "none")


@pytest.mark.parametrize("changelist", ADMIN_LISTS)
def test_admin_lists_show_every_row_to_org_wide_managers_and_superusers(client, sees_everything, changelist):
    assert rows_seen(client, sees_everything, changelist) == ("all", "all")


@pytest.mark.parametrize("changelist", ADMIN_LISTS)
def test_admin_lists_show_a_manager_of_no_team_no_row(client, no_team_manager, changelist):
    assert rows_seen(client, no_team_manager, changelist) == ("none", "none")


def waiting_per_pool(client, user):
    client.force_login(user)
    return {pool.name: pool.waiting_leads
            for pool in client.get("/admin/routing/pool/").context["cl"].result_list}


def test_the_pool_list_counts_only_the_waiting_leads_of_the_managers_teams(client, alpha_manager):
    assert waiting_per_pool(client, alpha_manager) == {"Alpha pool": 1, "Arne's pool": 1, "Bravo pool": 0}


def test_the_pool_list_counts_every_waiting_lead_for_org_wide_managers_and_superusers(client, sees_everything):
    assert waiting_per_pool(client, sees_everything) == {"Alpha pool": 1, "Arne's pool": 1, "Bravo pool": 1}


def experiment_leads_per_group(client, user, org):
    """An experiment that put Alpha Owned in the control group and two of Bravo's leads in the test group."""
    experiment = RoutingExperimentFactory()
    for name, group in [("Alpha Owned", RoutingExperiment.Group.CONTROL), ("Bravo Owned", RoutingExperiment.Group.TEST),
                        ("Bravo Waiting", RoutingExperiment.Group.TEST)]:
        RoutingDecision.objects.create(lead=org["leads"][name], outcome=RoutingDecision.Outcome.ASSIGNED,
                                       explanation="Seeded.", experiment=experiment, experiment_group=group)
    client.force_login(user)
    response = client.get(reverse("routing:experiment_results", args=[experiment.pk]))
    return response.context["results"].control.leads, response.context["results"].test.leads, \
        response.content.decode()


def test_the_experiment_results_count_only_the_leads_of_the_managers_teams(client, org, alpha_manager):
    control, test, html = experiment_leads_per_group(client, alpha_manager, org)

    assert (control, test) == (1, 0)
    assert "Only the leads of the teams you manage are counted." in html


def test_the_experiment_results_count_every_lead_for_org_wide_managers_and_superusers(client, org, sees_everything):
    control, test, html = experiment_leads_per_group(client, sees_everything, org)

    assert (control, test) == (1, 2)
    assert "Only the leads of the teams you manage are counted." not in html


def test_a_team_managers_experiment_figures_count_their_teams_leads_and_theirs_only(client, org, alpha_manager):
    """Owned by Alpha's reps, waiting in Alpha's pools, left by an Alpha rep: counted; Bravo's leads change nothing."""
    experiment = RoutingExperimentFactory()
    created = timezone.now() - dt.timedelta(days=1)
    seeded = [  # name, group, minutes to first touch (None: untouched), converted
        ("Alpha Owned", RoutingExperiment.Group.CONTROL, 30, True),
        ("Alpha Stuck", RoutingExperiment.Group.CONTROL, 10, False),
        ("Arne Waiting", RoutingExperiment.Group.CONTROL, 20, False),
        ("Alpha Waiting", RoutingExperiment.Group.CONTROL, None, False),
        ("Bravo Owned", RoutingExperiment.Group.CONTROL, 1, True),
        ("Bravo Stuck", RoutingExperiment.Group.CONTROL, 2, True),
        ("North Owned", RoutingExperiment.Group.TEST, 40, False),
        ("Inside Bravo", RoutingExperiment.Group.TEST, 3, True),
    ]
    for name, group, minutes, converted in seeded:
        lead = org["leads"][name]
        RoutingDecision.objects.create(lead=lead, outcome=RoutingDecision.Outcome.ASSIGNED, explanation="Seeded.",
                                       experiment=experiment, experiment_group=group)
        Lead.objects.filter(pk=lead.pk).update(
            created_at=created, first_touch_at=None if minutes is None else created + dt.timedelta(minutes=minutes),
            status=Lead.Status.CONVERTED if converted else lead.status)
    client.force_login(alpha_manager)

    results = client.get(reverse("routing:experiment_results", args=[experiment.pk])).context["results"]

    figures = [(g.leads, g.assigned, g.contacted, g.converted, g.median_to_first_touch) for g in results.groups]
    # Touched after 10, 20 and 30 minutes: the median is the second of three.
    assert figures == [(4, 1, 3, 1, dt.timedelta(minutes=20)), (1, 1, 1, 0, dt.timedelta(minutes=40))]


def bravo_objects(org):
    bravo_lead = org["leads"]["Bravo Owned"]
    return {
        "lead": ("leads", "lead", bravo_lead),
        "assignment": ("routing", "assignment", Assignment.objects.get(lead=bravo_lead)),
        "decision": ("routing", "routingdecision", bravo_lead.decisions.get()),
        "rep": ("reps", "rep", org["bob"]),
    }


@pytest.mark.parametrize("kind", ["lead", "assignment", "decision", "rep"])
def test_an_admin_page_of_another_teams_object_says_it_does_not_exist(client, org, alpha_manager, kind):
    app, model, obj = bravo_objects(org)[kind]
    client.force_login(alpha_manager)

    response = client.get(reverse(f"admin:{app}_{model}_change", args=[obj.pk]), follow=True)

    assert response.redirect_chain and response.status_code == 200
    assert "doesn’t exist" in flash(response)


@pytest.mark.parametrize("kind", ["lead", "assignment", "decision", "rep"])
def test_org_wide_managers_and_superusers_open_the_admin_page_of_any_teams_object(client, org, sees_everything,
                                                                                    kind):
    app, model, obj = bravo_objects(org)[kind]

    page(client, sees_everything, reverse(f"admin:{app}_{model}_change", args=[obj.pk]))


def test_the_admin_reassign_action_refuses_another_teams_rep(client, org, alpha_manager):
    lead = org["leads"]["Alpha Owned"]
    client.force_login(alpha_manager)

    response = client.post("/admin/leads/lead/", {"action": "reassign_leads", "_selected_action": [lead.pk],
                                                  "apply": "1", "to_rep": org["bob"].pk, "reason": "x"})

    assert "That rep is not in a team you manage" in response.content.decode()
    assert Lead.objects.get(pk=lead.pk).owner == org["alice"]


def test_a_team_manager_cannot_make_themselves_manager_of_another_team(client, org, alpha_manager):
    bravo = org["bravo"]
    client.force_login(alpha_manager)

    response = client.post(reverse("admin:reps_team_change", args=[bravo.pk]),
                           {"name": "Bravo", "description": "", "parent": org["alpha"].pk,
                            "managers": [alpha_manager.pk]})

    assert response.status_code == 302  # saved: the name and description are theirs to edit
    bravo.refresh_from_db()
    assert (bravo.parent, list(bravo.managers.all())) == (None, [])
    assert lead_page_status(client, alpha_manager, org["leads"]["Bravo Owned"]) == 404
