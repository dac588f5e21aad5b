"""Every admin page of reps, leads and routing: who may open it."""

import pytest
from django.contrib import admin
from django.urls import reverse

from leads.models import Account, AccountDomain, ApiToken, IntakeForm, Lead, LeadEvent
from reps.models import AvailabilityCalendar, Holiday, Rep, RepSkill, Skill, Team, Territory, TimeOff, WorkingHours
from routing.models import (
    Assignment,
    Pool,
    RotationState,
    RoutingDecision,
    RoutingExperiment,
    RoutingRule,
    RuleCondition,
    RuleSkillRequirement,
)
from tests import factories
from tests.admin_support import REPS, staff_user_in
from tests.factories import sales_manager

pytestmark = pytest.mark.django_db

OUR_APPS = {"reps", "leads", "routing"}
INSTANCE_FACTORIES = {
    Team: factories.TeamFactory,
    Skill: factories.SkillFactory,
    AvailabilityCalendar: factories.AvailabilityCalendarFactory,
    WorkingHours: factories.WorkingHoursFactory,
    Holiday: factories.HolidayFactory,
    Rep: factories.RepFactory,
    RepSkill: factories.RepSkillFactory,
    TimeOff: factories.TimeOffFactory,
    Territory: factories.TerritoryFactory,
    Account: factories.AccountFactory,
    AccountDomain: factories.AccountDomainFactory,
    Lead: factories.LeadFactory,
    LeadEvent: factories.LeadEventFactory,
    IntakeForm: factories.IntakeFormFactory,
    ApiToken: factories.ApiTokenFactory,
    Pool: factories.PoolFactory,
    RoutingRule: factories.RoutingRuleFactory,
    RuleCondition: factories.RuleConditionFactory,
    RuleSkillRequirement: factories.RuleSkillRequirementFactory,
    RotationState: factories.RotationStateFactory,
    Assignment: factories.AssignmentFactory,
    RoutingDecision: factories.RoutingDecisionFactory,
    RoutingExperiment: factories.RoutingExperimentFactory,
}
# Written only by the routing services: the audit trail and the fairness state.
READ_ONLY_MODELS = {LeadEvent, RotationState, Assignment, RoutingDecision}
EDITABLE_MODELS = [model for model in INSTANCE_FACTORIES if model not in READ_ONLY_MODELS]
# What the "Reps" group may look at; everything else is configuration.
REP_VISIBLE_MODELS = {Lead, Account, Rep}


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def manager_client(client):
    client.force_login(sales_manager(is_staff=True, sees_every_team=True))
    return client


@pytest.fixture
def rep_client(client):
    client.session_user = staff_user_in(REPS)
    client.force_login(client.session_user)
    return client


def test_every_model_is_in_the_admin_except_the_config_version_counter():
    registered = {model for model in admin.site._registry if model._meta.app_label in OUR_APPS}
    assert registered == set(INSTANCE_FACTORIES)


@pytest.mark.parametrize("model", INSTANCE_FACTORIES, ids=lambda model: model.__name__)
def test_manager_opens_every_changelist(manager_client, model):
    INSTANCE_FACTORIES[model]()
    assert manager_client.get(admin_url(model, "changelist")).status_code == 200


@pytest.mark.parametrize("model", EDITABLE_MODELS, ids=lambda model: model.__name__)
def test_manager_opens_every_add_page(manager_client, model):
    assert manager_client.get(admin_url(model, "add")).status_code == 200


@pytest.mark.parametrize("model", INSTANCE_FACTORIES, ids=lambda model: model.__name__)
def test_manager_opens_every_change_page(manager_client, model):
    instance = INSTANCE_FACTORIES[model]()
    assert manager_client.get(admin_url(model, "change", instance.pk)).status_code == 200


@pytest.mark.parametrize("model", sorted(READ_ONLY_MODELS, key=str), ids=lambda model: model.__name__)
def test_audit_rows_cannot_be_added_or_deleted_by_hand(manager_client, model):
    instance = INSTANCE_FACTORIES[model]()
    assert manager_client.get(admin_url(model, "add")).status_code == 403
    assert manager_client.post(admin_url(model, "delete", instance.pk), {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=instance.pk).exists()


@pytest.mark.parametrize("model", INSTANCE_FACTORIES, ids=lambda model: model.__name__)
def test_rep_cannot_add_anything_in_the_admin(rep_client, model):
    assert rep_client.get(admin_url(model, "add")).status_code == 403


@pytest.mark.parametrize(
    "model", [model for model in INSTANCE_FACTORIES if model not in REP_VISIBLE_MODELS], ids=lambda model: model.__name__
)
def test_rep_is_refused_configuration_and_audit_lists(rep_client, model):
    assert rep_client.get(admin_url(model, "changelist")).status_code == 403


@pytest.mark.parametrize("model", sorted(REP_VISIBLE_MODELS, key=str), ids=lambda model: model.__name__)
def test_rep_may_read_leads_accounts_and_reps_but_not_change_them(rep_client, model):
    instance = INSTANCE_FACTORIES[model]()
    if model is Lead:  # a rep sees only their own leads (tests/test_access.py)
        Lead.objects.filter(pk=instance.pk).update(owner=factories.RepFactory(user=rep_client.session_user))
    assert rep_client.get(admin_url(model, "changelist")).status_code == 200
    page = rep_client.get(admin_url(model, "change", instance.pk))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert rep_client.post(admin_url(model, "delete", instance.pk), {"post": "yes"}).status_code == 403


def test_rep_sees_only_leads_accounts_and_reps_on_the_admin_index(rep_client):
    app_list = rep_client.get(reverse("admin:index")).context["app_list"]
    assert {model["object_name"] for app in app_list for model in app["models"]} == {"Lead", "Account", "Rep"}


def test_anonymous_visitor_is_sent_to_the_login_page(client):
    response = client.get(admin_url(RoutingRule, "changelist"))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


@pytest.mark.parametrize("url, data", [
    ("/admin/reps/team/add/", {"name": "Junk parent", "parent": "abc"}),
    ("/admin/leads/account/add/", {"name": "Junk owner", "owner": "' OR 1=1 --", "parent": "{}"}),
    ("/admin/reps/territory/add/", {"name": "Junk", "parent": "x"}),
])
def test_an_autocomplete_value_that_is_no_id_comes_back_as_a_form_error(manager_client, url, data):
    # Found by bench/fuzz_app.py: Django's autocomplete widget looked the submitted text up as an id (a 500).
    response = manager_client.post(url, data)

    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()


def test_every_admin_with_autocomplete_fields_tolerates_values_that_are_no_id():
    from leadrouting.admin_autocomplete import AutocompleteIdsOnlyMixin

    admins = [*admin.site._registry.values()]
    admin_classes = [type(model_admin) for model_admin in admins]
    admin_classes += [inline for model_admin in admins for inline in model_admin.inlines]
    missing = [cls.__name__ for cls in admin_classes
               if cls.autocomplete_fields and not issubclass(cls, AutocompleteIdsOnlyMixin)]
    assert missing == []
