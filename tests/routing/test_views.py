"""The people's pages: rep queue and pool, lead timeline, manager dashboard, reassignment log; who may see what."""

import csv
import datetime as dt
import io

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from leads.models import Lead, LeadEvent
from reps.models import Rep
from routing.models import Assignment, RoutingRule
from routing.reassignment import lead_reassign
from routing.services import route_pending_leads
from tests.factories import (
    LeadFactory, PoolFactory, RepFactory, RoutingRuleFactory, RuleConditionFactory, TeamFactory, UserFactory,
    sales_manager,
)
from tests.routing.support import csv_rows

pytestmark = pytest.mark.django_db


def rep_named(name, **kwargs):
    return RepFactory(user=UserFactory(username=name.lower(), first_name=name, last_name=""), **kwargs)


def routed_lead_for(rep, **fields):
    """A lead routed to `rep` by the real engine (a rule per rep, on the lead's source), with its decision and timeline."""
    source = f"for-{rep.user.username}"
    if not RoutingRule.objects.filter(target_rep=rep).exists():
        rule = RoutingRuleFactory(name=f"To {rep.name}", target_type=RoutingRule.TargetType.REP, target_rep=rep)
        RuleConditionFactory(rule=rule, field="source", operator="equals", value=source)
    lead = LeadFactory(source=source, **fields)
    route_pending_leads(limit=10, worker="test")
    lead.refresh_from_db()
    assert lead.owner == rep
    return lead


def flash(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def anna():
    return rep_named("Anna")


@pytest.fixture
def ben():
    return rep_named("Ben")


# --- Queue -------------------------------------------------------------------

def test_the_queue_needs_a_login(client):
    response = client.get(reverse("routing:queue"))

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=/queue/")


def test_a_user_who_is_not_a_rep_gets_403_on_the_queue(client):
    client.force_login(UserFactory())

    assert client.get(reverse("routing:queue")).status_code == 403


def test_the_queue_lists_only_the_reps_open_leads_most_urgent_first_with_the_routing_reason(client, anna, ben):
    later = routed_lead_for(anna, first_name="Later", last_name="Lead")
    sooner = routed_lead_for(anna, first_name="Sooner", last_name="Lead")
    Lead.objects.filter(pk=sooner.pk).update(sla_due_at=timezone.now() + dt.timedelta(minutes=1))
    closed = routed_lead_for(anna, first_name="Closed", last_name="Lead")
    Lead.objects.filter(pk=closed.pk).update(status=Lead.Status.CONVERTED)
    routed_lead_for(ben, first_name="Bens", last_name="Lead")
    client.force_login(anna.user)

    response = client.get(reverse("routing:queue"))

    assert [lead.pk for lead in response.context["leads"]] == [sooner.pk, later.pk]
    html = response.content.decode()
    assert "Rule 1 &#x27;To Anna&#x27; matched: source equals" in html
    assert "Bens Lead" not in html and "Closed Lead" not in html


def test_marking_contacted_from_the_queue_records_the_first_touch(client, anna):
    lead = routed_lead_for(anna)
    client.force_login(anna.user)

    response = client.post(reverse("routing:lead_action", args=[lead.pk, "contacted"]), {"next": "/queue/"})

    assert response.status_code == 302 and response["Location"] == "/queue/"
    lead.refresh_from_db()
    assert lead.status == Lead.Status.CONTACTED and lead.first_touch_at is not None
    assert "SLA clock stopped" in flash(response)[0]


def test_losing_without_a_reason_says_what_is_missing(client, anna):
    lead = routed_lead_for(anna)
    client.force_login(anna.user)

    response = client.post(reverse("routing:lead_action", args=[lead.pk, "lost"]), {"reason": ""})

    assert Lead.objects.get(pk=lead.pk).status == Lead.Status.ASSIGNED
    assert "This field is required." in flash(response)[0]


def test_a_note_from_the_queue_lands_on_the_timeline(client, anna):
    lead = routed_lead_for(anna)
    client.force_login(anna.user)

    client.post(reverse("routing:lead_action", args=[lead.pk, "note"]), {"text": "Call back Tuesday"})

    assert LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.NOTE, message="Call back Tuesday").exists()


def test_a_rep_cannot_act_on_another_reps_lead(client, anna, ben):
    lead = routed_lead_for(anna)
    client.force_login(ben.user)

    response = client.post(reverse("routing:lead_action", args=[lead.pk, "contacted"]))

    assert response.status_code == 404
    assert Lead.objects.get(pk=lead.pk).first_touch_at is None


def test_actions_need_a_post(client, anna):
    lead = routed_lead_for(anna)
    client.force_login(anna.user)

    assert client.get(reverse("routing:lead_action", args=[lead.pk, "accept"])).status_code == 405


def test_the_away_toggle_uses_the_rep_services(client, anna):
    client.force_login(anna.user)

    client.post(reverse("routing:away"), {"state": "away"})
    assert Rep.objects.get(pk=anna.pk).status == Rep.Status.AWAY
    client.post(reverse("routing:away"), {"state": "available"})
    assert Rep.objects.get(pk=anna.pk).status == Rep.Status.AVAILABLE


def test_a_return_time_in_the_past_is_refused_with_a_message(client, anna):
    client.force_login(anna.user)

    response = client.post(reverse("routing:away"), {"state": "away", "until": "2000-01-01T09:00"})

    assert Rep.objects.get(pk=anna.pk).status == Rep.Status.AVAILABLE
    assert "already passed" in flash(response)[0]


# --- Pool ------------------------------------------------------------------------

@pytest.fixture
def pools(anna, ben):
    team = TeamFactory(name="Inbound")
    ben.teams.add(team)
    by_rep, by_team, foreign = PoolFactory(name="Anna's pool"), PoolFactory(name="Team pool"), PoolFactory(name="Other")
    by_rep.reps.add(anna)
    by_team.teams.add(team)
    leads = {name: LeadFactory(first_name=name, last_name="Waiting", pool=pool, routing_requested_at=None)
             for name, pool in (("Rep", by_rep), ("Team", by_team), ("Foreign", foreign))}
    return {"team": team, "leads": leads}


def test_the_pool_tab_lists_leads_in_pools_the_rep_belongs_to(client, anna, ben, pools):
    client.force_login(ben.user)
    ben_sees = {lead.first_name for lead in client.get(reverse("routing:pool")).context["leads"]}
    client.force_login(anna.user)
    anna_sees = {lead.first_name for lead in client.get(reverse("routing:pool")).context["leads"]}

    assert (anna_sees, ben_sees) == ({"Rep"}, {"Team"})


def test_claiming_makes_the_rep_the_owner_with_an_assignment_and_an_event(client, ben, pools):
    lead = pools["leads"]["Team"]
    client.force_login(ben.user)

    response = client.post(reverse("routing:claim", args=[lead.pk]))

    assert response["Location"] == reverse("routing:queue")
    lead.refresh_from_db()
    assert (lead.owner, lead.pool, lead.status) == (ben, None, Lead.Status.ASSIGNED)
    assert lead.sla_due_at is not None
    assignment = Assignment.objects.get(lead=lead, is_current=True)
    assert (assignment.kind, assignment.actor, assignment.reason) == (
        Assignment.Kind.CLAIM, ben.user, "Claimed from pool 'Team pool'")
    assert LeadEvent.objects.get(lead=lead).message == "Ben claimed the lead from pool 'Team pool'."


def test_claiming_from_a_pool_the_rep_is_not_in_answers_as_if_it_was_taken(client, anna, pools):
    lead = pools["leads"]["Team"]
    client.force_login(anna.user)

    response = client.post(reverse("routing:claim", args=[lead.pk]))

    assert response["Location"] == reverse("routing:pool")
    assert flash(response)[-1] == "Another rep claimed this lead first. Pick another one from the pool."
    assert Lead.objects.get(pk=lead.pk).owner is None


def test_the_second_claim_gets_a_clear_message(client, anna, pools):
    lead = pools["leads"]["Rep"]
    other = rep_named("Carla")
    lead.pool.reps.add(other)
    client.force_login(other.user)
    client.post(reverse("routing:claim", args=[lead.pk]))
    client.force_login(anna.user)

    response = client.post(reverse("routing:claim", args=[lead.pk]))

    assert response["Location"] == reverse("routing:pool")
    assert flash(response)[-1] == "Another rep claimed this lead first. Pick another one from the pool."
    assert Lead.objects.get(pk=lead.pk).owner == other
    assert Assignment.objects.filter(lead=lead).count() == 1


@pytest.mark.parametrize(("cap", "message"), [
    ("max_open_leads",
     "You already have 1 open leads, your limit. Close or hand over one before claiming another."),
    ("max_new_leads_per_day", "You already received 1 new lead today, your daily limit. Claim again tomorrow."),
    ("max_new_leads_per_hour",
     "You reached your limit of new leads for the last hour (1). Claim again a little later."),
])
def test_a_rep_at_a_cap_cannot_claim_and_is_told_which(client, anna, pools, cap, message):
    Rep.objects.filter(pk=anna.pk).update(**{cap: 1})
    routed_lead_for(anna)
    client.force_login(anna.user)

    response = client.post(reverse("routing:claim", args=[pools["leads"]["Rep"].pk]))

    assert flash(response)[0] == message
    assert Lead.objects.get(pk=pools["leads"]["Rep"].pk).owner is None


# --- Lead timeline ----------------------------------------------------------------

def test_the_owner_sees_the_timeline_with_the_full_routing_explanation(client, anna):
    lead = routed_lead_for(anna)
    client.force_login(anna.user)

    response = client.get(reverse("routing:lead_detail", args=[lead.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Chosen: Anna by rule &#x27;To Anna&#x27;." in html
    assert "Anna: chosen" in html  # the candidate lines of the explanation


def test_another_reps_lead_page_is_not_found_even_for_a_previous_owner(client, anna, ben):
    lead = routed_lead_for(anna)
    lead_reassign(lead_id=lead.pk, to_rep=ben, actor=None, reason="Anna is on leave")
    client.force_login(anna.user)

    assert client.get(reverse("routing:lead_detail", args=[lead.pk])).status_code == 404


@pytest.mark.parametrize("who", ["manager", "superuser"])
def test_org_wide_managers_and_superusers_see_every_lead_with_its_reassignments(client, anna, ben, who):
    lead = routed_lead_for(anna)
    boss = sales_manager(sees_every_team=True, first_name="Maria", last_name="Boss")
    lead_reassign(lead_id=lead.pk, to_rep=ben, actor=boss, reason="Speaks Italian")
    client.force_login(boss if who == "manager" else UserFactory(is_superuser=True, is_staff=True))

    response = client.get(reverse("routing:lead_detail", args=[lead.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Anna → Ben, Speaks Italian." in html and "by Maria Boss" in html


# --- Dashboard ------------------------------------------------------------------------

def test_the_dashboard_is_for_sales_managers_only(client, anna):
    client.force_login(anna.user)

    assert client.get(reverse("routing:dashboard")).status_code == 403


def test_the_dashboard_shows_volume_speed_to_lead_distribution_and_conversion(client, anna, ben):
    team = TeamFactory(name="Field")
    anna.teams.add(team)
    leads = [routed_lead_for(anna) for _ in range(3)]
    routed_lead_for(ben)
    for minutes, lead in zip((2, 10, 30), leads):
        Lead.objects.filter(pk=lead.pk).update(first_touch_at=lead.created_at + dt.timedelta(minutes=minutes))
    Lead.objects.filter(pk=leads[0].pk).update(status=Lead.Status.CONVERTED)
    client.force_login(sales_manager(sees_every_team=True))

    response = client.get(reverse("routing:dashboard"), {"team": team.pk, "period": "today"})

    board = response.context["board"]
    assert (board.received, board.routed, board.touched) == (3, 3, 3)
    assert board.median_to_first_touch == dt.timedelta(minutes=10)
    assert board.p90_to_first_touch == dt.timedelta(minutes=30)
    assert [(row.name, row.assigned, row.converted) for row in board.reps] == [("Anna", 3, 1)]
    assert [(row["name"], row["owned"], row["converted"]) for row in board.rules] == [("To Anna", 3, 1)]
    html = response.content.decode()
    assert "<svg" in html and 'class="bar-fill"' in html and "10 min" in html and "33 %" in html


def test_the_dashboard_lists_waiting_and_unroutable_leads_with_links(client):
    waiting = LeadFactory(pool=PoolFactory(), routing_requested_at=None)
    stuck = LeadFactory(status=Lead.Status.UNROUTABLE, routing_requested_at=None)
    client.force_login(sales_manager(sees_every_team=True))

    html = client.get(reverse("routing:dashboard")).content.decode()

    assert reverse("routing:lead_detail", args=[waiting.pk]) in html
    assert reverse("routing:lead_detail", args=[stuck.pk]) in html


# --- Reassignment log ------------------------------------------------------------------

@pytest.fixture
def moves(anna, ben):
    first, second = routed_lead_for(anna), routed_lead_for(anna)
    boss = sales_manager(username="boss", sees_every_team=True)
    lead_reassign(lead_id=first.pk, to_rep=ben, actor=boss, reason="Speaks Italian")
    lead_reassign(lead_id=second.pk, to_rep=ben, actor=boss, reason="Anna on leave")
    # The second one as the SLA sweep would have moved it: a cause of its own.
    Assignment.objects.filter(lead=second, is_current=True).update(
        kind=Assignment.Kind.REASSIGN, actor=None, cause={"code": "sla_breach", "params": {"minutes": 30}})
    return {"boss": boss, "first": first, "second": second}


def test_the_reassignment_log_shows_old_and_new_owner_and_filters_by_cause(client, moves):
    client.force_login(moves["boss"])

    response = client.get(reverse("routing:reassignments"), {"cause": "manual"})

    entries = response.context["entries"]
    assert [(e.lead_id, e.from_rep.name, e.rep.name, e.reason_for_reader) for e in entries] == [
        (moves["first"].pk, "Anna", "Ben", "Speaks Italian")]
    assert "Anna → Ben" in response.content.decode()


def test_a_log_longer_than_the_count_cap_says_more_than_and_pages_on(client, moves, monkeypatch):
    """A year of moves is counted up to a cap (10,000): the page says "more than" and still offers older pages."""
    from leadrouting.pagination import CappedCountPaginator

    monkeypatch.setattr(CappedCountPaginator, "COUNT_CAP", 1)
    monkeypatch.setattr("routing.views.REASSIGNMENT_PAGE_SIZE", 1)
    client.force_login(moves["boss"])

    html = client.get(reverse("routing:reassignments")).content.decode()

    assert "Page 1 of more than 1 moves: choose dates to reach older ones" in html
    assert "page=2" in html


def test_an_unknown_cause_in_the_reassignment_url_says_so_and_lists_everything(client, moves):
    client.force_login(moves["boss"])

    response = client.get(reverse("routing:reassignments"), {"cause": "'; DROP TABLE"})

    assert response.status_code == 200
    assert len(response.context["entries"]) == 2
    assert "is not one of the available choices" in response.content.decode()


def test_the_reassignment_log_filters_by_rep_on_either_side(client, moves, anna):
    client.force_login(moves["boss"])

    response = client.get(reverse("routing:reassignments"), {"rep": anna.pk})

    assert len(response.context["entries"]) == 2


def test_the_reassignment_log_exports_csv_with_the_same_filters(client, moves):
    client.force_login(moves["boss"])

    response = client.get(reverse("routing:reassignments_csv"), {"cause": "sla_breach"})

    assert response["Content-Type"].startswith("text/csv")
    rows = csv_rows(response)
    assert rows[0][:5] == ["When", "Lead ID", "Lead", "From", "To"]
    assert [(row[1], row[3], row[4], row[5], row[8]) for row in rows[1:]] == [
        (str(moves["second"].pk), "Anna", "Ben", "Reassignment", "system")]


# Values a prospect can type that a spreadsheet would run as a formula (OWASP: = + - @, tab, CR first).
FORMULA_NAMES = ['=HYPERLINK("http://x","y")', "+SUM(1)", "@cmd", "-2+3", "\t=1+1", "\r=1+1"]


def test_the_reassignment_csv_neutralises_names_a_spreadsheet_would_run_as_formulas(client, anna, ben):
    boss = sales_manager(username="boss", sees_every_team=True)
    # The company is the lead's name when it has no person's name or email; it is kept as typed, tab and all.
    leads = [routed_lead_for(anna, first_name="", last_name="", email="", company=name) for name in FORMULA_NAMES]
    for lead in leads:
        lead_reassign(lead_id=lead.pk, to_rep=ben, actor=boss, reason="-1 Anna on leave")
    client.force_login(boss)

    rows = csv_rows(client.get(reverse("routing:reassignments_csv")))

    names = {row[1]: (row[2], row[6]) for row in rows[1:]}
    assert names == {str(lead.pk): ("'" + name, "'-1 Anna on leave") for lead, name in zip(leads, FORMULA_NAMES)}


def test_the_reassignment_csv_opens_in_excel_as_utf8_and_keeps_the_readers_language(client, moves):
    client.force_login(moves["boss"])

    response = client.get(reverse("routing:reassignments_csv"), HTTP_ACCEPT_LANGUAGE="de")

    content = b"".join(response.streaming_content).decode("utf-8")
    assert content.startswith("\ufeff")  # without it Excel reads UTF-8 as the Windows code page
    rows = list(csv.reader(io.StringIO(content[1:])))
    assert rows[0][:3] == ["Zeitpunkt", "Lead-ID", "Lead"]
    assert sorted(row[5] for row in rows[1:]) == ["Manuell", "Neuzuweisung"]  # written after the view returned, in German


def test_the_reassignment_log_is_403_for_reps(client, anna):
    client.force_login(anna.user)

    assert client.get(reverse("routing:reassignments")).status_code == 403
    assert client.get(reverse("routing:reassignments_csv")).status_code == 403


# --- Login ---------------------------------------------------------------------------

def test_a_rep_logs_in_on_the_app_page_and_lands_on_the_queue(client, anna):
    response = client.post(reverse("routing:login"), {"username": "anna", "password": "pass-1234"}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("routing:queue")
    assert response.context["rep"] == anna


def test_an_action_whose_next_is_not_a_path_returns_to_the_queue(client, anna):
    # Found by bench/fuzz_app.py: redirect("null") took the word for a view name and failed.
    lead = routed_lead_for(anna)
    client.force_login(anna.user)

    response = client.post(reverse("routing:lead_action", args=[lead.pk, "accept"]), {"next": "null"})

    assert response.status_code == 302 and response["Location"] == reverse("routing:queue")


# --- Taking several leads from the pool at once ---------------------------------------

def test_take_the_longest_waiting_claims_that_many_oldest_first(client, ben, pools):
    team_pool = pools["leads"]["Team"].pool
    more = [LeadFactory(first_name=f"More{i}", pool=team_pool, routing_requested_at=None) for i in range(3)]
    client.force_login(ben.user)

    response = client.post(reverse("routing:claim_next"), {"count": "3"})

    assert response["Location"] == reverse("routing:queue")
    assert flash(response) == ["3 leads are yours now; they are in your queue."]
    owned = set(Lead.objects.filter(owner=ben).values_list("first_name", flat=True))
    assert owned == {"Team", "More0", "More1"}
    assert Lead.objects.get(pk=more[2].pk).owner is None
    assert Assignment.objects.filter(rep=ben, kind=Assignment.Kind.CLAIM).count() == 3


def test_take_the_longest_waiting_stops_at_the_reps_cap_and_says_why(client, anna, pools):
    Rep.objects.filter(pk=anna.pk).update(max_open_leads=2)
    rep_pool = pools["leads"]["Rep"].pool
    LeadFactory.create_batch(3, pool=rep_pool, routing_requested_at=None)
    client.force_login(anna.user)

    response = client.post(reverse("routing:claim_next"), {"count": "10"})

    assert flash(response)[0] == "2 leads are yours now; they are in your queue."
    assert flash(response)[1].startswith("Stopped: You already have 2 open leads, your limit.")
    assert Lead.objects.filter(owner=anna).count() == 2


def test_take_the_longest_waiting_with_an_empty_pool_says_so(client, anna):
    client.force_login(anna.user)
    response = client.post(reverse("routing:claim_next"), {"count": "5"})
    assert response["Location"] == reverse("routing:pool")
    assert flash(response) == ["Stopped: no lead waits in your pools"]


@pytest.mark.parametrize(("count", "message"), [
    ("0", "Take at least 1 lead."), ("101", "Take at most 100 leads at once."),
    ("lots", "Say how many leads to take, from 1 to 100."), ("", "Say how many leads to take, from 1 to 100."),
])
def test_take_the_longest_waiting_refuses_a_bad_count_and_claims_nothing(client, ben, pools, count, message):
    client.force_login(ben.user)
    response = client.post(reverse("routing:claim_next"), {"count": count})
    assert flash(response) == [message]
    assert not Lead.objects.filter(owner=ben).exists()
