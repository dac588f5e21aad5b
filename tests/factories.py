"""factory-boy factories for every model."""

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from leads.models import Account, AccountDomain, Lead, LeadEvent
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


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pass-1234")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def sales_manager(*, manages=(), sees_every_team=False, **fields):
    """A user in the "Sales managers" group (made by the migration) who manages the teams in `manages`.

    `sees_every_team` gives them reps.view_all_teams, as an organisation-wide manager has.
    """
    user = UserFactory(**fields)
    user.groups.add(Group.objects.get(name="Sales managers"))
    for team in manages:
        team.managers.add(user)
    if sees_every_team:
        user.user_permissions.add(Permission.objects.get(content_type__app_label="reps", codename="view_all_teams"))
    return user


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")


class SkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Skill
        django_get_or_create = ("kind", "name")

    name = factory.Sequence(lambda n: f"Skill {n}")
    kind = Skill.Kind.PRODUCT


class AvailabilityCalendarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AvailabilityCalendar

    name = factory.Sequence(lambda n: f"Calendar {n}")
    time_zone = "Europe/Berlin"


class WorkingHoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkingHours

    calendar = factory.SubFactory(AvailabilityCalendarFactory)
    weekday = 0
    start = dt.time(9, 0)
    end = dt.time(17, 0)


class HolidayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Holiday

    calendar = factory.SubFactory(AvailabilityCalendarFactory)
    date = dt.date(2026, 12, 25)
    name = "Christmas"


class RepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rep
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    seniority = Rep.Seniority.MID
    weight = Decimal("1")
    time_zone = "UTC"

    @factory.post_generation
    def teams(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.teams.add(*extracted)


def rep_named(name, **kwargs):
    """A rep whose name, username and email follow from one first name: rep_named("Anna") is anna@example.com."""
    return RepFactory(user=UserFactory(username=name.lower(), first_name=name, last_name=""), **kwargs)


class RepSkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RepSkill

    rep = factory.SubFactory(RepFactory)
    skill = factory.SubFactory(SkillFactory)
    level = 3


class TimeOffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimeOff

    rep = factory.SubFactory(RepFactory)
    start = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
    end = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=1))
    reason = "Vacation"


class TerritoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Territory
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Territory {n}")

    @factory.post_generation
    def reps(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.reps.add(*extracted)


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Faker("company")


class AccountDomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccountDomain

    account = factory.SubFactory(AccountFactory)
    domain = factory.Sequence(lambda n: f"company{n}.example")


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"lead{n}@prospect{n}.example")
    company = factory.Faker("company")
    country = "DE"
    industry = "Software"
    employee_count = 250
    score = 50
    source = "web"


class LeadEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeadEvent

    lead = factory.SubFactory(LeadFactory)
    kind = LeadEvent.Kind.NOTE
    message = "Called, left a voicemail."


class PoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pool

    name = factory.Sequence(lambda n: f"Pool {n}")


class RoutingRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoutingRule

    name = factory.Sequence(lambda n: f"Rule {n}")
    priority = factory.Sequence(lambda n: (n + 1) * 10)
    target_type = RoutingRule.TargetType.TEAM
    strategy = RoutingRule.Strategy.ROUND_ROBIN


class RuleConditionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RuleCondition

    rule = factory.SubFactory(RoutingRuleFactory)
    field = "country"
    operator = "equals"
    value = "DE"


class RuleSkillRequirementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RuleSkillRequirement

    rule = factory.SubFactory(RoutingRuleFactory, target_type=RoutingRule.TargetType.SKILLS)
    skill = factory.SubFactory(SkillFactory)
    min_level = 3


class RotationStateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RotationState

    rule = factory.SubFactory(RoutingRuleFactory)
    rep = factory.SubFactory(RepFactory)


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assignment

    lead = factory.SubFactory(LeadFactory)
    rep = factory.SubFactory(RepFactory)
    kind = Assignment.Kind.INITIAL

    @factory.lazy_attribute
    def from_rep(self):
        """As routing.ownership writes it: the rep of the lead's previous assignment, if it had one."""
        previous = Assignment.objects.filter(lead=self.lead).order_by("-pk").first() if self.lead.pk else None
        return previous.rep if previous else None


class RoutingDecisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoutingDecision

    lead = factory.SubFactory(LeadFactory)
    outcome = RoutingDecision.Outcome.ASSIGNED
    explanation = "Chosen by test."


class RoutingExperimentFactory(factory.django.DjangoModelFactory):
    """A draft experiment; its variant is an inactive rule (its own conditions never match on their own)."""

    class Meta:
        model = RoutingExperiment

    name = factory.Sequence(lambda n: f"Experiment {n}")
    control_rule = factory.SubFactory(RoutingRuleFactory)
    variant_rule = factory.SubFactory(RoutingRuleFactory, is_active=False)
    test_share = 50


# --- Intake ----------------------------------------------------------------
from leads.models import ApiToken, IntakeForm  # noqa: E402


class IntakeFormFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IntakeForm
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Contact form {n}")
    slug = factory.Sequence(lambda n: f"contact-{n}")
    fields = ["first_name", "last_name", "email", "phone", "company", "country"]
    required_fields = ["email"]
    hidden_values = {"source": "website"}


class ApiTokenFactory(factory.django.DjangoModelFactory):
    """Build with ApiTokenFactory.create_with_secret() to get the secret a client sends."""

    class Meta:
        model = ApiToken

    name = factory.Sequence(lambda n: f"Chat widget {n}")
    source = "chat"
    can_read_routing = False

    @classmethod
    def _create(cls, model_class, *args, name, source, can_read_routing, **kwargs):
        from leads.services import api_token_create

        token, raw_token = api_token_create(name=name, source=source, can_read_routing=can_read_routing)
        token.secret = raw_token
        return token
