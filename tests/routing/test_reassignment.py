"""Manual reassignment, "route again" and deactivating a rep: every move ends the old assignment and is recorded."""

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse

from leads.models import Lead, LeadEvent
from reps.models import Rep
from reps.services import rep_set_away
from routing.models import Assignment, RoutingRule
from routing.reassignment import lead_reassign, rep_deactivate
from routing.services import route_pending_leads
from tests.factories import LeadFactory, RoutingRuleFactory, TeamFactory, UserFactory, rep_named, sales_manager

pytestmark = pytest.mark.django_db


@pytest.fixture
def sales():
    """A team of three routed round robin; one lead already owned by Anna."""
    team = TeamFactory(name="Sales")
    anna, ben, carla = (rep_named(name, teams=[team]) for name in ("Anna", "Ben", "Carla"))
    RoutingRuleFactory(name="Everyone", target_team=team, strategy=RoutingRule.Strategy.ROUND_ROBIN)
    lead = LeadFactory()
    route_pending_leads(limit=10, worker="test")
    lead.refresh_from_db()
    Lead.objects.filter(pk=lead.pk).update(owner=anna, last_owner=anna)
    Assignment.objects.filter(lead=lead).update(rep=anna)
    lead.refresh_from_db()
    return {"team": team, "anna": anna, "ben": ben, "carla": carla, "lead": lead}


def current_owner_assignment(lead):
    return Assignment.objects.get(lead=lead, is_current=True)


def test_manual_reassignment_records_old_owner_new_owner_reason_and_actor(sales):
    manager = UserFactory()
    lead = lead_reassign(lead_id=sales["lead"].pk, to_rep=sales["carla"], actor=manager, reason="Speaks Portuguese")

    assert lead.owner == sales["carla"]
    current = current_owner_assignment(lead)
    assert (current.kind, current.reason, current.actor) == (Assignment.Kind.MANUAL, "Speaks Portuguese", manager)
    ended = Assignment.objects.get(lead=lead, rep=sales["anna"])
    assert not ended.is_current and ended.ended_at is not None
    event = LeadEvent.objects.filter(lead=lead).last()
    assert event.kind == LeadEvent.Kind.REASSIGNED
    assert event.message == "Anna → Carla, Speaks Portuguese."
    assert Lead.objects.get(pk=lead.pk).reassignment_count == 1


@pytest.mark.parametrize("status", [Lead.Status.ACCEPTED, Lead.Status.CONTACTED, Lead.Status.QUALIFIED])
def test_a_lead_being_worked_keeps_its_status_when_a_manager_hands_it_over(sales, status):
    Lead.objects.filter(pk=sales["lead"].pk).update(status=status)

    lead = lead_reassign(lead_id=sales["lead"].pk, to_rep=sales["carla"], actor=UserFactory(), reason="Holiday cover")

    assert (lead.owner, Lead.objects.get(pk=lead.pk).status) == (sales["carla"], status)


def test_a_lead_not_yet_worked_is_assigned_to_its_new_owner(sales):
    lead = lead_reassign(lead_id=sales["lead"].pk, to_rep=sales["carla"], actor=UserFactory(), reason="Holiday cover")

    assert Lead.objects.get(pk=lead.pk).status == Lead.Status.ASSIGNED


def test_route_again_goes_through_the_rules_without_the_current_owner(sales):
    lead = lead_reassign(lead_id=sales["lead"].pk, actor=None, reason="Anna is overloaded")

    assert lead.owner in (sales["ben"], sales["carla"])
    current = current_owner_assignment(lead)
    assert (current.kind, current.reason) == (Assignment.Kind.REASSIGN, "Anna is overloaded")
    assert lead.decisions.first().trace["excluded_previous_owners"] == [sales["anna"].pk]
    event = LeadEvent.objects.filter(lead=lead).last()
    assert event.kind == LeadEvent.Kind.REASSIGNED
    assert event.message.startswith(f"Anna → {lead.owner.name}, Anna is overloaded. Chosen: {lead.owner.name}")


@pytest.mark.parametrize("reason", ["", "   "])
def test_reassignment_without_a_reason_is_refused_and_changes_nothing(sales, reason):
    with pytest.raises(ValidationError, match="Say why the lead is reassigned"):
        lead_reassign(lead_id=sales["lead"].pk, to_rep=sales["ben"], actor=None, reason=reason)
    assert Lead.objects.get(pk=sales["lead"].pk).owner == sales["anna"]


def test_reassigning_to_the_current_owner_or_an_inactive_rep_is_refused(sales):
    Rep.objects.filter(pk=sales["ben"].pk).update(is_active=False)
    sales["ben"].refresh_from_db()
    with pytest.raises(ValidationError, match="already owns"):
        lead_reassign(lead_id=sales["lead"].pk, to_rep=sales["anna"], actor=None, reason="x")
    with pytest.raises(ValidationError, match="inactive"):
        lead_reassign(lead_id=sales["lead"].pk, to_rep=sales["ben"], actor=None, reason="x")
    assert Assignment.objects.filter(lead=sales["lead"]).count() == 1


def test_closed_lead_cannot_be_reassigned(sales):
    Lead.objects.filter(pk=sales["lead"].pk).update(status=Lead.Status.CONVERTED)
    with pytest.raises(ValidationError, match="closed leads keep their owner"):
        lead_reassign(lead_id=sales["lead"].pk, to_rep=sales["ben"], actor=None, reason="x")


def test_deactivating_a_rep_routes_all_their_open_leads_to_others(sales):
    second = LeadFactory()
    route_pending_leads(limit=10, worker="test")
    Lead.objects.filter(pk=second.pk).update(owner=sales["anna"], last_owner=sales["anna"])
    Assignment.objects.filter(lead=second).update(rep=sales["anna"])
    converted = LeadFactory(owner=sales["anna"], status=Lead.Status.CONVERTED, routing_requested_at=None)

    moved = rep_deactivate(rep=sales["anna"], actor=None)

    assert moved == 2
    assert not Rep.objects.get(pk=sales["anna"].pk).is_active
    for lead in (sales["lead"], second):
        current = current_owner_assignment(lead)
        assert current.rep in (sales["ben"], sales["carla"])
        assert (current.kind, current.reason) == (Assignment.Kind.REASSIGN, "rep deactivated")
    assert Lead.objects.get(pk=converted.pk).owner == sales["anna"]


def test_deactivated_reps_lead_is_released_when_nobody_else_is_eligible(sales):
    Rep.objects.filter(pk__in=[sales["ben"].pk, sales["carla"].pk]).update(is_active=False)

    rep_deactivate(rep=sales["anna"], actor=None)

    lead = Lead.objects.get(pk=sales["lead"].pk)
    assert (lead.owner, lead.status) == (None, Lead.Status.UNROUTABLE)
    assert not Assignment.objects.filter(lead=lead, is_current=True).exists()
    assert LeadEvent.objects.filter(lead=lead).last().message.startswith("Anna → nobody, rep deactivated.")


def test_admin_action_reassigns_selected_leads_after_asking_for_a_reason(sales, client):
    client.force_login(sales_manager(is_staff=True, sees_every_team=True))
    url = reverse("admin:leads_lead_changelist")
    selection = {"action": "reassign_leads", "_selected_action": [sales["lead"].pk]}

    form_page = client.post(url, selection)
    assert form_page.status_code == 200
    assert "Route again through the rules" in form_page.content.decode()

    missing_reason = client.post(url, {**selection, "apply": "1", "to_rep": sales["ben"].pk, "reason": ""})
    assert "This field is required" in missing_reason.content.decode()
    assert Lead.objects.get(pk=sales["lead"].pk).owner == sales["anna"]

    done = client.post(url, {**selection, "apply": "1", "to_rep": sales["ben"].pk, "reason": "Holiday cover"})
    assert done.status_code == 302
    assert Lead.objects.get(pk=sales["lead"].pk).owner == sales["ben"]
    assert "1 lead reassigned." in [str(m) for m in get_messages(done.wsgi_request)]


def test_unticking_active_in_the_rep_admin_routes_their_open_leads_again(sales, admin_client):
    anna = sales["anna"]
    page = admin_client.get(reverse("admin:reps_rep_change", args=[anna.pk]))
    data = {
        key: value for key, value in page.context["adminform"].form.initial.items() if value is not None
    }
    data.update({
        "user": anna.user_id, "teams": [sales["team"].pk], "seniority": anna.seniority, "weight": "1",
        "status": anna.status, "time_zone": anna.time_zone, "calendar": "", "max_open_leads": "",
        "max_new_leads_per_day": "", "max_new_leads_per_hour": "", "away_until": "",
    })
    data.pop("is_active", None)
    for prefix in ("skill_levels", "time_off", "status_changes"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0",
                     f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"})

    response = admin_client.post(reverse("admin:reps_rep_change", args=[anna.pk]), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert current_owner_assignment(sales["lead"]).reason == "rep deactivated"


def test_rep_set_away_keeps_their_leads_by_default(sales, settings):
    settings.ROUTING_REASSIGN_WHEN_AWAY = False
    rep_set_away(rep=sales["anna"])
    assert Lead.objects.get(pk=sales["lead"].pk).owner == sales["anna"]


def test_rep_set_away_routes_their_untouched_leads_again_when_configured(sales, settings):
    settings.ROUTING_REASSIGN_WHEN_AWAY = True
    contacted = LeadFactory(owner=sales["anna"], status=Lead.Status.CONTACTED, routing_requested_at=None)

    rep_set_away(rep=sales["anna"], actor=UserFactory(username="lead-manager"))

    lead = Lead.objects.get(pk=sales["lead"].pk)
    assert lead.owner in (sales["ben"], sales["carla"])
    current = current_owner_assignment(lead)
    assert (current.kind, current.reason, current.actor.username) == (Assignment.Kind.REASSIGN, "rep away",
                                                                      "lead-manager")
    assert Lead.objects.get(pk=contacted.pk).owner == sales["anna"]  # being worked on: stays
    assert Rep.objects.get(pk=sales["anna"].pk).status == Rep.Status.AWAY
