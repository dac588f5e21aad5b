"""A demo organisation: teams, reps, calendars, territories, accounts, pools, the seeds' rule chain and leads.

The organisation is data in leadrouting/demo_data: people.json (teams, calendars, reps, accounts) and
routing.json (territories, pools, rules), a routing configuration file as `manage.py export_routing`
writes it and `import_routing` reads it. This module loads them and generates the leads.

Everything is fixed or drawn from a seeded random generator, so two loads build the same
organisation. `demo_load` builds it in one transaction; the demo manager user marks it
as loaded, so a second load changes nothing. `demo_delete` removes it again (by the
demo's own names) so `load_demo --reset` can rebuild it.

The leads are history: each came in at an instant of the past two weeks and is routed by the
engine at that instant (who was in hours then, the caps then), and its rows are dated then.
Most were worked since (contacted, qualified, converted or lost). The newest is more than a
day old, so no rep's day (in any time zone) holds one: the caps are free for new leads.
Follow-the-sun desks (the night desk every night, the weekend desk on weekend days) mean a
new lead finds a rep in hours at any hour of any day.
"""

import datetime as dt
import json
import random
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from leads import lifecycle
from leads.models import Account, AccountDomain, IntakeForm, Lead, LeadEvent
from reps.models import AvailabilityCalendar, Holiday, Rep, RepSkill, Skill, Team, Territory, TimeOff, WorkingHours
from routing.config_file import routing_config_import
from routing.experiments import experiment_start
from routing.models import Assignment, Pool, RoutingDecision, RoutingExperiment, RoutingRule
from routing.services import lead_route_locked

MANAGER_USERNAME, MANAGER_PASSWORD = "manager", "demo-manager-2025"
REP_USERNAME, REP_PASSWORD = "rep", "demo-rep-2025"
ADMIN_USERNAME, ADMIN_PASSWORD = "admin", "demo-admin-2025"  # a superuser: users, groups, the queues' dashboard
INTAKE_FORM_SLUG = "contact"
EXPERIMENT_NAME = "Least loaded vs round robin"
MANAGERS_GROUP, REPS_GROUP = "Sales managers", "Reps"
RANDOM_SEED = 20250601
LEAD_COUNT = 200
HISTORY = dt.timedelta(days=14)
# The newest lead of the history is older than any rep's day, so no daily or hourly cap starts the demo filled.
HISTORY_END = dt.timedelta(hours=25)
# What became of a routed lead since, with weights: about a third is still open (contacted or qualified).
OUTCOMES = [(Lead.Status.CONTACTED, 20), (Lead.Status.QUALIFIED, 15), (Lead.Status.CONVERTED, 30),
            (Lead.Status.LOST, 35)]
# A lead parked for want of a rep in hours is tried again this often, up to a weekend long.
BACKLOG_RETRY, BACKLOG_TRIES = dt.timedelta(hours=6), 12
LOST_REASONS = ["No budget this year", "Chose a competitor", "No reply after three attempts"]

DATA = Path(__file__).resolve().parent / "demo_data"


def _read(name: str) -> dict:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


# People data (teams, calendars, reps, accounts): the routing configuration file names these but never creates them.
PEOPLE = _read("people.json")
# Territories, pools and the seeds' rule chain, as `manage.py export_routing` writes them.
ROUTING = _read("routing.json")
ACCOUNTS = PEOPLE["accounts"]


def _skill_names(kind: str) -> list:
    return [skill["name"] for skill in PEOPLE["skills"] if skill["kind"] == kind]


PRODUCTS = _skill_names(Skill.Kind.PRODUCT)
INDUSTRIES = _skill_names(Skill.Kind.INDUSTRY)
USE_CASES = _skill_names(Skill.Kind.USE_CASE)


# --- Leads ------------------------------------------------------------------------

@dataclass(frozen=True)
class Place:
    country: str
    city: str
    region: str
    postal_code: str
    language: str
    phone_prefix: str
    names: str  # key into NAMES
    legal_form: str


PLACES = [  # (place, relative weight)
    (Place("DE", "Munich", "BY", "80331", "de", "+49 89", "de", "GmbH"), 8),
    (Place("DE", "Augsburg", "BY", "86150", "de", "+49 821", "de", "GmbH"), 3),
    (Place("DE", "Berlin", "BE", "10115", "de", "+49 30", "de", "GmbH"), 7),
    (Place("DE", "Hamburg", "HH", "20095", "de", "+49 40", "de", "GmbH"), 5),
    (Place("DE", "Nuremberg", "BY", "90402", "de", "+49 911", "de", "AG"), 3),
    (Place("AT", "Vienna", "W", "1010", "de", "+43 1", "de", "GmbH"), 4),
    (Place("CH", "Zurich", "ZH", "8001", "de", "+41 44", "de", "AG"), 4),
    (Place("GB", "London", "ENG", "EC1A 1BB", "en", "+44 20", "en", "Ltd"), 9),
    (Place("GB", "Manchester", "ENG", "M1 1AE", "en", "+44 161", "en", "Ltd"), 3),
    (Place("IE", "Dublin", "L", "D02 X285", "en", "+353 1", "en", "Ltd"), 3),
    (Place("SE", "Stockholm", "AB", "111 22", "sv", "+46 8", "nordic", "AB"), 4),
    (Place("NO", "Oslo", "03", "0150", "no", "+47 22", "nordic", "AS"), 3),
    (Place("DK", "Copenhagen", "84", "1050", "da", "+45 33", "nordic", "A/S"), 2),
    (Place("FR", "Paris", "IDF", "75001", "fr", "+33 1", "fr", "SAS"), 4),
    (Place("NL", "Amsterdam", "NH", "1012", "nl", "+31 20", "en", "B.V."), 3),
    (Place("US", "San Francisco", "CA", "94105", "en", "+1 415", "en", "Inc."), 8),
    (Place("US", "Seattle", "WA", "98101", "en", "+1 206", "en", "Inc."), 4),
    (Place("US", "Portland", "OR", "97201", "en", "+1 503", "en", "LLC"), 2),
    (Place("US", "New York", "NY", "10001", "en", "+1 212", "en", "Inc."), 9),
    (Place("US", "Boston", "MA", "02108", "en", "+1 617", "en", "Inc."), 4),
    (Place("US", "Austin", "TX", "73301", "en", "+1 512", "en", "LLC"), 4),
    (Place("US", "Chicago", "IL", "60601", "en", "+1 312", "en", "Inc."), 4),
    (Place("CA", "Toronto", "ON", "M5H 2N2", "en", "+1 416", "en", "Inc."), 3),
    (Place("BR", "São Paulo", "SP", "01000-000", "pt", "+55 11", "pt", "Ltda"), 5),
    (Place("MX", "Mexico City", "CMX", "06000", "es", "+52 55", "es", "S.A. de C.V."), 3),
    (Place("AR", "Buenos Aires", "C", "C1000", "es", "+54 11", "es", "S.A."), 2),
    (Place("AU", "Sydney", "NSW", "2000", "en", "+61 2", "en", "Pty Ltd"), 5),
    (Place("AU", "Melbourne", "VIC", "3000", "en", "+61 3", "en", "Pty Ltd"), 3),
    (Place("NZ", "Auckland", "AUK", "1010", "en", "+64 9", "en", "Ltd"), 2),
    (Place("JP", "Tokyo", "13", "100-0001", "ja", "+81 3", "ja", "KK"), 5),
    (Place("JP", "Osaka", "27", "530-0001", "ja", "+81 6", "ja", "KK"), 2),
    (Place("SG", "Singapore", "", "018956", "en", "+65", "en", "Pte Ltd"), 2),
]

NAMES = {  # first names, last names
    "de": ("Jonas Leonie Maximilian Hannah Paul Sophie Jürgen Katrin Matthias Lena Stefan Julia",
           "Müller Schmidt Wagner Becker Hoffmann Schäfer Koch Richter Wolf Neumann Braun Zimmermann"),
    "en": ("James Olivia Harry Amelia George Emma Jack Sarah David Grace Ryan Chloe Noah Ava",
           "Smith Johnson Brown Taylor Wilson Davies Evans Thomas Clarke Walsh Robinson Wright Lewis Young"),
    "nordic": ("Lars Astrid Nils Freja Magnus Sofie Henrik Elin Anders Maja",
               "Andersson Johansson Nilsson Larsen Pedersen Berg Dahl Eriksson Holm Lund"),
    "fr": ("Camille Louis Chloé Hugo Manon Lucas Léa Julien", "Martin Bernard Dubois Laurent Moreau Lefèvre Girard Roux"),
    "pt": ("João Mariana Pedro Beatriz Lucas Camila Rafael Larissa", "Silva Santos Oliveira Pereira Costa Rodrigues Alves"),
    "es": ("Sofía Mateo Valentina Diego Lucía Javier Camila Andrés", "García Hernández López Martínez González Pérez"),
    "ja": ("Hiroshi Yuki Kenji Aiko Takumi Sakura Daichi Mei", "Suzuki Takahashi Watanabe Ito Yamamoto Nakamura"),
}

COMPANY_WORDS = (
    "Blue Summit Northwind Redwood Silverline Quantum Harbor Cedar Orbit Apex Lumen Vertex Falcon Meridian Brightpath "
    "Ironbridge Evergreen Polaris Crescent Granite Nimbus Tidal Aurora Beacon Keystone Pioneer Riverstone Solstice"
).split()
COMPANY_NOUNS = {
    "Software": ["Software", "Labs", "Cloud", "Systems"],
    "Healthcare": ["Health", "Clinics", "Medical", "Care"],
    "Finance": ["Capital", "Bank", "Insurance", "Finance"],
    "Retail": ["Retail", "Stores", "Commerce", "Outfitters"],
    "Manufacturing": ["Industries", "Manufacturing", "Components", "Werke"],
    "Education": ["Academy", "Learning", "University", "Education"],
    "Logistics": ["Logistics", "Freight", "Shipping", "Transport"],
    "Energy": ["Energy", "Power", "Solar", "Grid"],
}
INDUSTRY_WEIGHTS = [25, 12, 12, 12, 14, 6, 11, 8]  # in INDUSTRIES order
SOURCES = ["web", "webinar", "ads", "partner", "csv"]
SOURCE_WEIGHTS = [40, 15, 20, 10, 15]
JOB_TITLES = [
    "Head of Sales", "VP Sales", "Sales Operations Manager", "Marketing Director", "CTO", "IT Manager",
    "Customer Success Lead", "CEO", "Revenue Operations Analyst", "Procurement Manager",
]
EMPLOYEE_SIZES = [5, 12, 30, 80, 150, 400, 900, 2500, 8000, 25000]


def _ascii_slug(text: str, separator: str = "") -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", separator, plain).strip(separator)


def _deal_value(rng: random.Random, employees: int) -> Decimal | None:
    """Yearly value: seats at a list price; about one lead in ten says nothing about budget."""
    if rng.random() < 0.1:
        return None
    seats = max(1, min(employees // rng.randint(4, 15), 2000))
    return Decimal(seats * rng.choice([15, 25, 40]) * 12).quantize(Decimal("1.00"))


def demo_lead_specs() -> list:
    """The demo leads as dicts of Lead fields, the same on every call."""
    rng = random.Random(RANDOM_SEED)
    places, place_weights = zip(*PLACES)
    account_leads = [account for account in ACCOUNTS for _ in range(2)]  # about 12% of leads
    specs, used_emails = [], set()
    for number in range(1, LEAD_COUNT + 1):
        from_account = bool(account_leads) and rng.random() < 0.12
        if from_account:
            account = account_leads.pop(rng.randrange(len(account_leads)))
            name, domains, country, industry = (account[key] for key in ["name", "domains", "country", "industry"])
            place = rng.choice([p for p in places if p.country == country])
            company, domain = name, rng.choice(domains)
        else:
            place = rng.choices(places, weights=place_weights)[0]
            industry = rng.choices(INDUSTRIES, weights=INDUSTRY_WEIGHTS)[0]
            company = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_NOUNS[industry])} {place.legal_form}"
            domain = f"{_ascii_slug(company.rsplit(' ', 1)[0], '-')}.example"
        first_names, last_names = (names.split() for names in NAMES[place.names])
        first_name, last_name = rng.choice(first_names), rng.choice(last_names)
        email = f"{_ascii_slug(first_name)}.{_ascii_slug(last_name)}@{domain}"
        if email in used_emails:
            email = f"{_ascii_slug(first_name)}.{_ascii_slug(last_name)}{number}@{domain}"
        used_emails.add(email)
        employees = max(1, int(rng.choice(EMPLOYEE_SIZES) * rng.uniform(0.7, 1.3)))
        source = rng.choices(SOURCES, weights=SOURCE_WEIGHTS)[0]
        season = rng.choice(["spring", "summer", "autumn"])
        attributes = {"campaign": f"{source}-{season}"} if source in ("ads", "webinar") else {}
        specs.append({
            "first_name": first_name,
            "last_name": last_name,
            "email": email,
            "phone": f"{place.phone_prefix} {rng.randint(1000000, 9999999)}",
            "company": company,
            "website": f"https://www.{domain}",
            "domain": domain,
            "job_title": rng.choice(JOB_TITLES),
            "country": place.country,
            "region": place.region,
            "postal_code": place.postal_code,
            "city": place.city,
            "industry": industry,
            "employee_count": employees,
            "deal_value": _deal_value(rng, employees),
            "seats": max(1, employees // 10),
            "product_interest": rng.choice(PRODUCTS),
            "use_case": rng.choice(USE_CASES),
            "source": source,
            "score": int(rng.triangular(5, 99, 50)),
            "language": place.language,
            "attributes": attributes,
        })
    return specs


# --- Loading and deleting ---------------------------------------------------------

def demo_is_loaded() -> bool:
    """The demo manager user is the marker: it is created in the same transaction as everything else."""
    return get_user_model().objects.filter(username=MANAGER_USERNAME).exists()


@transaction.atomic
def demo_load(*, now: dt.datetime | None = None) -> bool:
    """Build the demo organisation and its leads; False (and no change) when it is already there."""
    if demo_is_loaded():
        return False
    now = now or timezone.now()
    managers_group, _ = Group.objects.get_or_create(name=MANAGERS_GROUP)
    reps_group, _ = Group.objects.get_or_create(name=REPS_GROUP)
    users = {MANAGER_USERNAME: _create_user(MANAGER_USERNAME, "Morgan", "Blake", MANAGER_PASSWORD, managers_group)}
    _create_admin()
    teams = _create_teams()
    calendars = _create_calendars(now.year)
    skills = {skill["name"]: Skill.objects.get_or_create(**skill)[0] for skill in PEOPLE["skills"]}
    reps = _create_reps(teams, calendars, skills, reps_group)
    users.update({username: rep.user for username, rep in reps.items()})
    for team_name, usernames in PEOPLE["team_managers"].items():
        teams[team_name].managers.add(*(users[username] for username in usernames))
    # Head of every region, and of the leads no team holds (nurture, unroutable): sees every team.
    users[MANAGER_USERNAME].user_permissions.add(
        Permission.objects.get(content_type__app_label="reps", codename="view_all_teams"))
    _create_absences(reps, now)
    _create_accounts(reps)
    # The same import a manager runs: every rule passes the admin's checks.
    routing_config_import(ROUTING)
    _create_intake_form()
    _start_experiment(users[MANAGER_USERNAME], now - HISTORY)
    _load_history(now)
    return True


def _create_admin():
    get_user_model().objects.create_superuser(
        ADMIN_USERNAME, "admin@leadrouting-demo.example", ADMIN_PASSWORD, first_name="Alex", last_name="Admin")


def _create_intake_form():
    IntakeForm.objects.create(
        name="Contact sales", slug=INTAKE_FORM_SLUG,
        fields=["first_name", "last_name", "email", "phone", "company", "country", "employee_count", "use_case"],
        # No custom labels or help: the standard ones are shown in the visitor's language.
        required_fields=["email", "company"], hidden_values={"source": "web"},
    ).full_clean()


def _start_experiment(manager, started_at):
    """The default rule's leads split between round robin (control) and least loaded (test), since the history began."""
    experiment = RoutingExperiment.objects.create(
        name=EXPERIMENT_NAME, hypothesis="Least loaded reps answer faster, so more of their leads convert.",
        control_rule=RoutingRule.objects.get(name="Default round robin"),
        variant_rule=RoutingRule.objects.get(name="Default least loaded (A/B test)"),
    )
    experiment_start(experiment_id=experiment.pk, actor=manager)
    RoutingExperiment.objects.filter(pk=experiment.pk).update(started_at=started_at)


def _load_history(now):
    """Each lead routed at the past instant it came in, worked since, and its rows dated then (see the docstring)."""
    rng = random.Random(RANDOM_SEED + 1)
    specs = demo_lead_specs()
    first, last = now - HISTORY, now - HISTORY_END
    outcomes, weights = zip(*OUTCOMES)
    for number, spec in enumerate(specs):
        at = first + (last - first) * (number + rng.random()) / len(specs)
        lead = Lead.objects.create(**spec)
        tries = _route_until_placed(lead, at, last)
        lead.refresh_from_db()
        if lead.owner_id is not None:
            _work(lead, rng.choices(outcomes, weights=weights)[0], rng)
            lead.refresh_from_db()
        _date_history(lead, tries, rng)


def _route_until_placed(lead, at, last) -> list:
    """Routes the lead at `at`; one parked for want of a rep in hours is retried every few hours, as the sweep does."""
    tries = []
    while at < last and len(tries) < BACKLOG_TRIES:
        lead_route_locked(lead=Lead.objects.select_for_update().get(pk=lead.pk), worker="demo", now=at)
        tries.append(at)
        if not Lead.objects.filter(pk=lead.pk, status=Lead.Status.NEW, owner=None, pool__isnull=False).exists():
            break
        at += BACKLOG_RETRY
    return tries


def _work(lead, outcome, rng):
    actor = lead.owner.user
    lifecycle.lead_mark_contacted(lead_id=lead.pk, actor=actor)
    if outcome in (Lead.Status.QUALIFIED, Lead.Status.CONVERTED):
        lifecycle.lead_qualify(lead_id=lead.pk, actor=actor)
    if outcome == Lead.Status.CONVERTED:
        lifecycle.lead_convert(lead_id=lead.pk, actor=actor)
    elif outcome == Lead.Status.LOST:
        lifecycle.lead_lose(lead_id=lead.pk, actor=actor, reason=rng.choice(LOST_REASONS))


def _date_history(lead, tries, rng):
    """The rows written at load time moved to the lead's own past: each routing run at its try, the changes after."""
    came_in = tries[0]
    decision_ids = RoutingDecision.objects.filter(lead=lead).order_by("id").values_list("id", flat=True)
    for decision_id, moment in zip(decision_ids, tries):
        RoutingDecision.objects.filter(pk=decision_id).update(created_at=moment)
    moments = [tries[-1]]
    status_events = LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.STATUS).order_by("id")
    for event_id in status_events.values_list("id", flat=True):
        moments.append(moments[-1] + dt.timedelta(minutes=rng.randint(4, 600)))
        LeadEvent.objects.filter(pk=event_id).update(created_at=moments[-1])
    LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.CREATED).update(created_at=came_in)
    LeadEvent.objects.filter(lead=lead).exclude(kind__in=[LeadEvent.Kind.STATUS, LeadEvent.Kind.CREATED]).update(
        created_at=tries[-1])
    Assignment.objects.filter(lead=lead).update(created_at=tries[-1])
    Lead.objects.filter(pk=lead.pk).update(
        created_at=came_in, updated_at=moments[-1], first_touch_at=moments[1] if len(moments) > 1 else None,
        closed_at=moments[-1] if lead.status in Lead.CLOSED_STATUSES else None,
    )


def _create_user(username, first_name, last_name, password, group):
    user = get_user_model()(
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=f"{_ascii_slug(first_name)}.{_ascii_slug(last_name)}@leadrouting-demo.example",
        is_staff=True,  # the admin is where managers configure and reps work their leads
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()  # a demo person, not a login
    user.save()
    user.groups.add(group)
    return user


def _create_teams() -> dict:
    teams = {}
    for spec in PEOPLE["teams"]:  # parents come before their sub-teams
        teams[spec["name"]] = Team.objects.create(name=spec["name"], parent=teams.get(spec["parent"]),
                                                  description=spec["description"])
    return teams


def _create_calendars(year: int) -> dict:
    calendars = {}
    for spec in PEOPLE["calendars"]:
        calendar = AvailabilityCalendar.objects.create(name=spec["name"], time_zone=spec["time_zone"])
        for weekday in spec["weekdays"]:
            WorkingHours.objects.create(calendar=calendar, weekday=weekday, start=dt.time.fromisoformat(spec["start"]),
                                        end=dt.time.fromisoformat(spec["end"]))
        for holiday_year in (year, year + 1):  # fixed-date public holidays, this year and the next
            # The follow-the-sun desks keep no holidays: someone takes leads on every day of the year.
            for holiday in PEOPLE["holidays"][spec["holidays_of"]] if spec["holidays_of"] else ():
                Holiday.objects.create(calendar=calendar, date=dt.date(holiday_year, holiday["month"], holiday["day"]),
                                       name=holiday["name"])
        calendars[spec["name"]] = calendar
    return calendars


def _create_reps(teams, calendars, skills, group) -> dict:
    reps = {}
    for spec in PEOPLE["reps"]:
        password = REP_PASSWORD if spec["username"] == REP_USERNAME else None
        user = _create_user(spec["username"], spec["first_name"], spec["last_name"], password, group)
        calendar = calendars[spec["calendar"]]
        rep = Rep.objects.create(
            user=user,
            seniority=spec["seniority"],
            weight=Decimal(spec["weight"]),
            max_open_leads=spec["max_open_leads"],
            max_new_leads_per_day=spec["max_new_leads_per_day"],
            is_active=spec["is_active"],
            time_zone=calendar.time_zone,
            calendar=calendar,
        )
        rep.teams.add(*(teams[name] for name in spec["teams"]))
        if spec["seniority"] != Rep.Seniority.ACCOUNT_MANAGER:
            rep.teams.add(teams["All sales reps"])
        for skill_name, level in spec["skills"].items():
            RepSkill.objects.create(rep=rep, skill=skills[skill_name], level=level)
        reps[spec["username"]] = rep
    return reps


def _create_absences(reps, now):
    """Two reps on leave right now, one with leave ahead, one who set themselves away for the afternoon."""
    TimeOff.objects.create(
        rep=reps["oliver.bennett"], start=now - dt.timedelta(days=3), end=now + dt.timedelta(days=7), reason="Vacation"
    )
    TimeOff.objects.create(
        rep=reps["emily.nguyen"], start=now - dt.timedelta(days=20), end=now + dt.timedelta(days=70),
        reason="Parental leave",
    )
    TimeOff.objects.create(
        rep=reps["erik.lindqvist"], start=now + dt.timedelta(days=14), end=now + dt.timedelta(days=21),
        reason="Vacation",
    )
    away = reps["michael.brooks"]
    away.status, away.away_until = Rep.Status.AWAY, now + dt.timedelta(hours=3)
    away.save(update_fields=["status", "away_until"])


def _create_accounts(reps):
    accounts = {}
    for spec in ACCOUNTS:  # parents first
        account = Account.objects.create(name=spec["name"], parent=accounts.get(spec["parent"]),
                                         owner=reps.get(spec["owner"]), is_customer=spec["is_customer"])
        for domain in spec["domains"]:
            AccountDomain.objects.create(account=account, domain=domain)
        accounts[spec["name"]] = account


@transaction.atomic
def demo_delete() -> None:
    """Remove everything the demo created, found by the demo's names; skills stay as shared vocabulary.

    Raises ProtectedError when data outside the demo still points at demo reps or teams
    (a lead owned by a demo rep, a rule targeting a demo team): nothing is deleted then.
    """
    usernames = [MANAGER_USERNAME] + [spec["username"] for spec in PEOPLE["reps"]]
    Lead.objects.filter(email__in=[spec["email"] for spec in demo_lead_specs()]).delete()
    RoutingExperiment.objects.filter(name=EXPERIMENT_NAME).delete()  # it protects its rules
    IntakeForm.objects.filter(slug=INTAKE_FORM_SLUG).delete()
    RoutingRule.objects.filter(name__in=[spec["name"] for spec in ROUTING["rules"]]).delete()
    Pool.objects.filter(name__in=[spec["name"] for spec in ROUTING["pools"]]).delete()
    Account.objects.filter(name__in=[spec["name"] for spec in ACCOUNTS]).delete()
    names = [spec["name"] for spec in ROUTING["territories"]]
    territories = Territory.objects.filter(name__in=names).select_related("parent")
    for territory in sorted(territories, key=lambda t: -len(list(t.ancestors()))):  # a parent is protected
        territory.delete()
    get_user_model().objects.filter(username__in=usernames + [ADMIN_USERNAME]).delete()  # their Rep rows go too
    for spec in reversed(PEOPLE["teams"]):
        Team.objects.filter(name=spec["name"]).delete()
    AvailabilityCalendar.objects.filter(name__in=[spec["name"] for spec in PEOPLE["calendars"]]).delete()


def demo_experiment() -> RoutingExperiment | None:
    return RoutingExperiment.objects.filter(name=EXPERIMENT_NAME).first()


def demo_summary() -> dict:
    """What the demo holds now, for the console."""
    demo_emails = [spec["email"] for spec in demo_lead_specs()]
    statuses = dict(
        Lead.objects.filter(email__in=demo_emails).values_list("status").annotate(n=Count("id")).order_by("status")
    )
    return {
        "teams": Team.objects.count(),
        "reps": Rep.objects.count(),
        "territories": Territory.objects.count(),
        "accounts": Account.objects.count(),
        "rules": RoutingRule.objects.count(),
        "leads": sum(statuses.values()),
        "lead_statuses": statuses,
    }
