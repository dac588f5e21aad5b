"""A demo organisation: teams, reps, calendars, territories, accounts, pools, the seeds' rule chain and leads.

Everything is fixed or drawn from a seeded random generator, so two loads build the same
organisation. `demo_load` builds it in one transaction; the demo manager user marks it
as loaded, so a second load changes nothing. `demo_delete` removes it again (by the
demo's own names) so `load_demo --reset` can rebuild it.

Leads are saved one by one with `Lead.objects.create()`: routing hooks on post_save, so
each demo lead is routed like a real one once the transaction commits.
"""

import datetime as dt
import random
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from leads.models import Account, AccountDomain, Lead
from reps.models import AvailabilityCalendar, Holiday, Rep, RepSkill, Skill, Team, Territory, TimeOff, WorkingHours
from routing.models import Pool, RoutingRule, RuleCondition, RuleSkillRequirement

MANAGER_USERNAME, MANAGER_PASSWORD = "manager", "demo-manager-2025"
REP_USERNAME, REP_PASSWORD = "rep", "demo-rep-2025"
MANAGERS_GROUP, REPS_GROUP = "Sales managers", "Reps"
RANDOM_SEED = 20250601
LEAD_COUNT = 200

Kind = Skill.Kind
Seniority = Rep.Seniority
Target = RoutingRule.TargetType
Strategy = RoutingRule.Strategy


# --- Organisation -----------------------------------------------------------------

# (name, parent, description); parents come before their sub-teams.
TEAMS = [
    ("EMEA", None, "Europe, Middle East and Africa."),
    ("DACH", "EMEA", "Germany, Austria and Switzerland."),
    ("Nordics", "EMEA", "Sweden, Norway, Denmark, Finland and Iceland."),
    ("UK & Ireland", "EMEA", "United Kingdom and Ireland."),
    ("Americas", None, "North and Latin America."),
    ("North America", "Americas", "United States and Canada."),
    ("LATAM", "Americas", "Latin America."),
    ("APAC", None, "Asia and the Pacific."),
    ("ANZ", "APAC", "Australia and New Zealand."),
    ("Japan", "APAC", "Japan."),
    ("Senior reps", None, "Experienced reps across regions: they take the hot leads (score 80 and up)."),
    ("All sales reps", None, "Every new-business rep (account managers look after their accounts instead): "
     "the default round robin at the end of the rule chain."),
]

# (name, time zone, weekly hours as (weekdays, start, end), country whose holidays it keeps)
WEEKDAYS, EVERY_DAY = range(0, 5), range(0, 7)
CALENDARS = [
    ("Berlin office", "Europe/Berlin", (WEEKDAYS, "09:00", "17:00"), "DE"),
    ("Vienna office", "Europe/Vienna", (WEEKDAYS, "09:00", "17:00"), "AT"),
    ("Zurich office", "Europe/Zurich", (WEEKDAYS, "08:30", "17:30"), "CH"),
    ("Stockholm office", "Europe/Stockholm", (WEEKDAYS, "09:00", "17:00"), "SE"),
    ("Oslo office", "Europe/Oslo", (WEEKDAYS, "08:00", "16:00"), "NO"),
    ("London office", "Europe/London", (WEEKDAYS, "09:00", "17:00"), "GB"),
    ("Dublin office", "Europe/Dublin", (WEEKDAYS, "09:00", "17:00"), "IE"),
    ("Night desk", "Europe/London", (EVERY_DAY, "22:00", "06:00"), "GB"),  # overnight support-style shift
    ("New York office", "America/New_York", (WEEKDAYS, "09:00", "17:00"), "US"),
    ("Los Angeles office", "America/Los_Angeles", (WEEKDAYS, "09:00", "17:00"), "US"),
    ("São Paulo office", "America/Sao_Paulo", (WEEKDAYS, "09:00", "18:00"), "BR"),
    ("Mexico City office", "America/Mexico_City", (WEEKDAYS, "09:00", "18:00"), "MX"),
    ("Sydney office", "Australia/Sydney", (WEEKDAYS, "09:00", "17:00"), "AU"),
    ("Tokyo office", "Asia/Tokyo", (WEEKDAYS, "09:00", "18:00"), "JP"),
]

# Fixed-date public holidays (month, day, name), kept for this year and the next.
HOLIDAYS = {
    "DE": [(1, 1, "New Year's Day"), (5, 1, "Labour Day"), (10, 3, "German Unity Day"), (12, 25, "Christmas Day"),
           (12, 26, "St Stephen's Day")],
    "AT": [(1, 1, "New Year's Day"), (5, 1, "Labour Day"), (10, 26, "National Day"), (12, 25, "Christmas Day")],
    "CH": [(1, 1, "New Year's Day"), (8, 1, "Swiss National Day"), (12, 25, "Christmas Day")],
    "SE": [(1, 1, "New Year's Day"), (6, 6, "National Day"), (12, 24, "Christmas Eve"), (12, 25, "Christmas Day")],
    "NO": [(1, 1, "New Year's Day"), (5, 17, "Constitution Day"), (12, 25, "Christmas Day")],
    "GB": [(1, 1, "New Year's Day"), (12, 25, "Christmas Day"), (12, 26, "Boxing Day")],
    "IE": [(1, 1, "New Year's Day"), (3, 17, "St Patrick's Day"), (12, 25, "Christmas Day")],
    "US": [(1, 1, "New Year's Day"), (6, 19, "Juneteenth"), (7, 4, "Independence Day"), (12, 25, "Christmas Day")],
    "BR": [(1, 1, "New Year's Day"), (4, 21, "Tiradentes"), (9, 7, "Independence Day"), (12, 25, "Christmas Day")],
    "MX": [(1, 1, "New Year's Day"), (9, 16, "Independence Day"), (12, 25, "Christmas Day")],
    "AU": [(1, 1, "New Year's Day"), (1, 26, "Australia Day"), (4, 25, "Anzac Day"), (12, 25, "Christmas Day")],
    "JP": [(1, 1, "New Year's Day"), (2, 11, "National Foundation Day"), (5, 3, "Constitution Day"),
           (5, 5, "Children's Day")],
}

PRODUCTS = ["CRM Suite", "Analytics", "Integrations API"]
INDUSTRIES = ["Software", "Healthcare", "Finance", "Retail", "Manufacturing", "Education", "Logistics", "Energy"]
LANGUAGES = ["English", "German", "French", "Swedish", "Norwegian", "Spanish", "Portuguese", "Japanese", "Korean"]
USE_CASES = ["Lead management", "Customer support", "Sales forecasting", "Marketing automation"]
SKILLS = (
    [(Kind.PRODUCT, name) for name in PRODUCTS]
    + [(Kind.INDUSTRY, name) for name in INDUSTRIES]
    + [(Kind.LANGUAGE, name) for name in LANGUAGES]
    + [(Kind.USE_CASE, name) for name in USE_CASES]
)


@dataclass(frozen=True)
class DemoRep:
    username: str
    first_name: str
    last_name: str
    seniority: str
    teams: tuple
    calendar: str
    skills: dict  # skill name -> level 1..5
    weight: str = "1"
    max_open_leads: int | None = 30
    max_new_leads_per_day: int | None = 15
    is_active: bool = True


REPS = [
    DemoRep("anna.schneider", "Anna", "Schneider", Seniority.SENIOR, ("DACH", "Senior reps"), "Berlin office",
            {"CRM Suite": 5, "Analytics": 4, "Manufacturing": 4, "Finance": 4, "German": 5, "English": 5,
             "Sales forecasting": 4}, weight="1.5", max_open_leads=40, max_new_leads_per_day=20),
    DemoRep(REP_USERNAME, "Lukas", "Weber", Seniority.MID, ("DACH",), "Berlin office",
            {"CRM Suite": 3, "Software": 3, "German": 5, "English": 4, "Lead management": 3}),
    DemoRep("felix.huber", "Felix", "Huber", Seniority.JUNIOR, ("DACH",), "Vienna office",
            {"CRM Suite": 2, "Retail": 2, "German": 5, "English": 3}, weight="0.5", max_open_leads=15,
            max_new_leads_per_day=8),
    DemoRep("mara.keller", "Mara", "Keller", Seniority.ACCOUNT_MANAGER, ("DACH",), "Zurich office",
            {"CRM Suite": 4, "Finance": 3, "German": 5, "French": 4, "English": 5}, max_open_leads=60,
            max_new_leads_per_day=None),
    DemoRep("tobias.fischer", "Tobias", "Fischer", Seniority.JUNIOR, ("DACH",), "Berlin office",
            {"German": 5, "English": 3}, is_active=False),  # left the company: never routed to
    DemoRep("erik.lindqvist", "Erik", "Lindqvist", Seniority.MID, ("Nordics",), "Stockholm office",
            {"Analytics": 3, "Software": 4, "Swedish": 5, "English": 5, "Norwegian": 3}),
    DemoRep("ingrid.hansen", "Ingrid", "Hansen", Seniority.JUNIOR, ("Nordics",), "Oslo office",
            {"Retail": 2, "Energy": 3, "Norwegian": 5, "Swedish": 3, "English": 4}, weight="0.75",
            max_open_leads=20, max_new_leads_per_day=8),
    DemoRep("oliver.bennett", "Oliver", "Bennett", Seniority.SENIOR, ("UK & Ireland", "Senior reps"), "London office",
            {"CRM Suite": 4, "Finance": 5, "English": 5, "Sales forecasting": 4}, weight="1.5", max_open_leads=40,
            max_new_leads_per_day=20),
    DemoRep("siobhan.murphy", "Siobhan", "Murphy", Seniority.MID, ("UK & Ireland",), "Dublin office",
            {"Healthcare": 4, "English": 5, "Customer support": 3}),
    DemoRep("charlotte.hughes", "Charlotte", "Hughes", Seniority.ACCOUNT_MANAGER, ("UK & Ireland",), "London office",
            {"CRM Suite": 4, "Retail": 3, "Healthcare": 2, "English": 5}, max_open_leads=60,
            max_new_leads_per_day=None),
    DemoRep("sam.okafor", "Sam", "Okafor", Seniority.JUNIOR, ("EMEA",), "Night desk",
            {"English": 5, "French": 4, "Customer support": 4}, weight="0.5", max_open_leads=20,
            max_new_leads_per_day=8),
    DemoRep("jessica.carter", "Jessica", "Carter", Seniority.SENIOR, ("North America", "Senior reps"),
            "New York office", {"Analytics": 4, "Finance": 5, "Healthcare": 3, "English": 5, "Sales forecasting": 5},
            weight="2", max_open_leads=50, max_new_leads_per_day=20),
    DemoRep("michael.brooks", "Michael", "Brooks", Seniority.MID, ("North America",), "New York office",
            {"Integrations API": 4, "Software": 4, "English": 5, "Spanish": 3}),
    DemoRep("daniel.kim", "Daniel", "Kim", Seniority.JUNIOR, ("North America",), "Los Angeles office",
            {"Integrations API": 2, "Software": 2, "English": 5, "Korean": 4}, weight="0.5", max_open_leads=15,
            max_new_leads_per_day=8),
    DemoRep("emily.nguyen", "Emily", "Nguyen", Seniority.MID, ("North America",), "Los Angeles office",
            {"Healthcare": 5, "English": 5, "Customer support": 4}),
    DemoRep("robert.hayes", "Robert", "Hayes", Seniority.ACCOUNT_MANAGER, ("North America",), "New York office",
            {"CRM Suite": 4, "Finance": 3, "English": 5}, max_open_leads=60, max_new_leads_per_day=None),
    DemoRep("ana.souza", "Ana", "Souza", Seniority.MID, ("LATAM",), "São Paulo office",
            {"Retail": 4, "Portuguese": 5, "Spanish": 4, "English": 4, "Marketing automation": 3}),
    DemoRep("carlos.mendoza", "Carlos", "Mendoza", Seniority.JUNIOR, ("LATAM",), "Mexico City office",
            {"Manufacturing": 3, "Spanish": 5, "English": 4}, weight="0.75", max_open_leads=20),
    DemoRep("liam.walker", "Liam", "Walker", Seniority.SENIOR, ("ANZ", "Senior reps"), "Sydney office",
            {"Analytics": 4, "Healthcare": 4, "Software": 3, "English": 5}, weight="1.5", max_open_leads=40),
    DemoRep("chloe.taylor", "Chloe", "Taylor", Seniority.MID, ("ANZ",), "Sydney office",
            {"Retail": 3, "Education": 4, "English": 5, "Marketing automation": 3}),
    DemoRep("haruto.sato", "Haruto", "Sato", Seniority.MID, ("Japan",), "Tokyo office",
            {"Manufacturing": 4, "Integrations API": 3, "Japanese": 5, "English": 4}),
    DemoRep("yui.tanaka", "Yui", "Tanaka", Seniority.ACCOUNT_MANAGER, ("Japan",), "Tokyo office",
            {"CRM Suite": 4, "Finance": 2, "Japanese": 5, "English": 4}, max_open_leads=60,
            max_new_leads_per_day=None),
]

# Team -> managers (usernames); the demo manager heads the regions and the cross-region teams.
TEAM_MANAGERS = {
    "EMEA": [MANAGER_USERNAME], "Americas": [MANAGER_USERNAME], "APAC": [MANAGER_USERNAME],
    "Senior reps": [MANAGER_USERNAME], "All sales reps": [MANAGER_USERNAME],
    "DACH": ["anna.schneider"], "Nordics": ["erik.lindqvist"], "UK & Ireland": ["oliver.bennett"],
    "North America": ["jessica.carter"], "LATAM": ["ana.souza"], "ANZ": ["liam.walker"], "Japan": ["haruto.sato"],
}

# (name, parent, countries, regions, postal codes, covering teams, covering reps); parents first.
TERRITORIES = [
    ("EMEA", None, "DE AT CH SE NO DK FI IS GB IE FR NL BE ES IT PL PT AE ZA", "", "", ["EMEA"], []),
    ("DACH", "EMEA", "DE AT CH", "", "", ["DACH"], []),
    ("Bavaria", "DACH", "DE", "", "80-87", [], ["anna.schneider", "felix.huber"]),
    ("Berlin", "DACH", "DE", "", "10-14", [], [REP_USERNAME]),
    ("Nordics", "EMEA", "SE NO DK FI IS", "", "", ["Nordics"], []),
    ("UK & Ireland", "EMEA", "GB IE", "", "", ["UK & Ireland"], []),
    ("Americas", None, "US CA MX BR AR CL CO", "", "", ["Americas"], []),
    ("North America", "Americas", "US CA", "", "", ["North America"], []),
    ("US West", "North America", "US", "CA, WA, OR", "", [], ["daniel.kim", "emily.nguyen"]),
    ("US East", "North America", "US", "NY, MA, NJ, PA", "", [], ["jessica.carter", "michael.brooks"]),
    ("LATAM", "Americas", "MX BR AR CL CO", "", "", ["LATAM"], []),
    ("APAC", None, "AU NZ JP SG IN", "", "", ["APAC"], []),
    ("ANZ", "APAC", "AU NZ", "", "", ["ANZ"], []),
    ("Japan", "APAC", "JP", "", "", ["Japan"], []),
]

# (name, parent, owner username or None, customer?, domains, country, industry); parents first.
ACCOUNTS = [
    ("Globex Corporation", None, "robert.hayes", True, ["globex.example"], "US", "Manufacturing"),
    ("Globex Deutschland GmbH", "Globex Corporation", "mara.keller", True, ["globex-de.example"], "DE",
     "Manufacturing"),
    ("Globex Brasil Ltda", "Globex Corporation", None, True, ["globex-br.example"], "BR", "Manufacturing"),
    ("Kestrel Financial Group", None, "robert.hayes", True, ["kestrelfinancial.example"], "US", "Finance"),
    ("Kestrel Financial UK Ltd", "Kestrel Financial Group", "charlotte.hughes", False, ["kestrel-uk.example"], "GB",
     "Finance"),
    ("Brightwater Health plc", None, "charlotte.hughes", True, ["brightwaterhealth.example"], "GB", "Healthcare"),
    ("Alpenglanz Maschinenbau AG", None, "mara.keller", True, ["alpenglanz.example", "alpenglanz-ch.example"], "CH",
     "Manufacturing"),
    ("Sakura Robotics KK", None, "yui.tanaka", True, ["sakura-robotics.example"], "JP", "Manufacturing"),
    ("Sakura Robotics Australia Pty Ltd", "Sakura Robotics KK", None, False, ["sakura-robotics-au.example"], "AU",
     "Manufacturing"),
    ("Copperline Logistics Inc.", None, "robert.hayes", False, ["copperline.example"], "US", "Logistics"),
    ("Nordlys Energi AS", None, None, False, ["nordlys.example"], "NO", "Energy"),
    ("Harbour Bridge Retail Pty Ltd", None, None, False, ["harbourbridge-retail.example"], "AU", "Retail"),
]

POOLS = [
    ("EMEA overflow", ["EMEA"]),  # DACH leads wait here while no DACH rep is free; any EMEA rep may claim them
    ("Inbound backlog", ["All sales reps"]),  # what nobody could take at once waits here instead of being lost
]


@dataclass(frozen=True)
class DemoRule:
    priority: int
    name: str
    description: str
    target_type: str
    conditions: tuple = ()  # (field, operator, value)
    skills: tuple = ()  # (skill kind, skill name, min level)
    target_team: str | None = None
    strategy: str = Strategy.ROUND_ROBIN
    pool: str | None = None  # set: leads wait in this pool while nobody is eligible
    sla_minutes: int | None = None


# The seeds' decision chain, first match wins. The engine requires every skill of a
# rule, so the two specialist industries are two rules, each asking for its own skill.
RULES = [
    DemoRule(10, "Existing customers to their account manager",
             "A lead from a company that is already a customer goes to the account's owner "
             "(or the parent company's owner).",
             Target.ACCOUNT_OWNER, conditions=(("account.is_customer", "equals", "true"),), sla_minutes=60),
    DemoRule(20, "Hot leads to senior reps", "Score 80 and up: an experienced rep calls back within 15 minutes.",
             Target.TEAM, conditions=(("score", "gte", "80"),), target_team="Senior reps", sla_minutes=15),
    DemoRule(30, "Healthcare specialists", "Healthcare leads go to reps with healthcare expertise (level 4+).",
             Target.SKILLS, conditions=(("industry", "equals", "Healthcare"),),
             skills=((Kind.INDUSTRY, "Healthcare", 4),), strategy=Strategy.WEIGHTED),
    DemoRule(40, "Finance specialists", "Finance leads go to reps with finance expertise (level 4+).",
             Target.SKILLS, conditions=(("industry", "equals", "Finance"),),
             skills=((Kind.INDUSTRY, "Finance", 4),), strategy=Strategy.WEIGHTED),
    DemoRule(50, "DACH territory reps", "Leads from Germany, Austria and Switzerland to the reps covering their "
             "territory; while none is free they wait in the EMEA overflow pool.",
             Target.TERRITORY, conditions=(("territory", "in_territory", "DACH"),),
             strategy=Strategy.LEAST_LOADED, pool="EMEA overflow"),
    DemoRule(60, "Small deals to nurture", "Deals under 1,000 go to the automated nurture sequence, not to a rep.",
             Target.NURTURE, conditions=(("deal_value", "lt", "1000"),)),
    DemoRule(1000, "Default round robin", "Everything else: round robin over all sales reps; while nobody is free the "
             "lead waits in the inbound backlog.",
             Target.TEAM, target_team="All sales reps", pool="Inbound backlog"),
]


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
            name, _, _, _, domains, country, industry = account_leads.pop(rng.randrange(len(account_leads)))
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
    teams = _create_teams()
    calendars = _create_calendars(now.year)
    skills = {name: Skill.objects.get_or_create(kind=kind, name=name)[0] for kind, name in SKILLS}
    reps = _create_reps(teams, calendars, skills, reps_group)
    users.update({username: rep.user for username, rep in reps.items()})
    for team_name, usernames in TEAM_MANAGERS.items():
        teams[team_name].managers.add(*(users[username] for username in usernames))
    # Head of every region, and of the leads no team holds (nurture, unroutable): sees every team.
    users[MANAGER_USERNAME].user_permissions.add(
        Permission.objects.get(content_type__app_label="reps", codename="view_all_teams"))
    _create_absences(reps, now)
    _create_territories(teams, reps)
    _create_accounts(reps)
    pools = _create_pools(teams)
    _create_rules(teams, pools, skills)
    for spec in demo_lead_specs():
        Lead.objects.create(**spec)  # one by one: routing hooks on post_save
    return True


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
    for name, parent, description in TEAMS:
        teams[name] = Team.objects.create(name=name, parent=teams.get(parent), description=description)
    return teams


def _create_calendars(year: int) -> dict:
    calendars = {}
    for name, time_zone, (weekdays, start, end), country in CALENDARS:
        calendar = AvailabilityCalendar.objects.create(name=name, time_zone=time_zone)
        for weekday in weekdays:
            WorkingHours.objects.create(
                calendar=calendar, weekday=weekday, start=dt.time.fromisoformat(start), end=dt.time.fromisoformat(end)
            )
        for holiday_year in (year, year + 1):
            for month, day, holiday in HOLIDAYS[country]:
                Holiday.objects.create(calendar=calendar, date=dt.date(holiday_year, month, day), name=holiday)
        calendars[name] = calendar
    return calendars


def _create_reps(teams, calendars, skills, group) -> dict:
    reps = {}
    for spec in REPS:
        password = REP_PASSWORD if spec.username == REP_USERNAME else None
        user = _create_user(spec.username, spec.first_name, spec.last_name, password, group)
        calendar = calendars[spec.calendar]
        rep = Rep.objects.create(
            user=user,
            seniority=spec.seniority,
            weight=Decimal(spec.weight),
            max_open_leads=spec.max_open_leads,
            max_new_leads_per_day=spec.max_new_leads_per_day,
            is_active=spec.is_active,
            time_zone=calendar.time_zone,
            calendar=calendar,
        )
        rep.teams.add(*(teams[name] for name in spec.teams))
        if spec.seniority != Seniority.ACCOUNT_MANAGER:
            rep.teams.add(teams["All sales reps"])
        for skill_name, level in spec.skills.items():
            RepSkill.objects.create(rep=rep, skill=skills[skill_name], level=level)
        reps[spec.username] = rep
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


def _create_territories(teams, reps):
    territories = {}
    for name, parent, countries, regions, postal_codes, team_names, usernames in TERRITORIES:
        territory = Territory(
            name=name, parent=territories.get(parent), countries=countries.split(), regions=regions,
            postal_codes=postal_codes,
        )
        territory.full_clean()
        territory.save()
        territory.teams.add(*(teams[team] for team in team_names))
        territory.reps.add(*(reps[username] for username in usernames))
        territories[name] = territory


def _create_accounts(reps):
    accounts = {}
    for name, parent, owner, is_customer, domains, _country, _industry in ACCOUNTS:
        account = Account.objects.create(
            name=name, parent=accounts.get(parent), owner=reps.get(owner), is_customer=is_customer
        )
        for domain in domains:
            AccountDomain.objects.create(account=account, domain=domain)
        accounts[name] = account


def _create_pools(teams) -> dict:
    pools = {}
    for name, team_names in POOLS:
        pools[name] = Pool.objects.create(name=name)
        pools[name].teams.add(*(teams[team] for team in team_names))
    return pools


def _create_rules(teams, pools, skills):
    for spec in RULES:
        rule = RoutingRule(
            priority=spec.priority,
            name=spec.name,
            description=spec.description,
            target_type=spec.target_type,
            target_team=teams.get(spec.target_team),
            strategy=spec.strategy,
            pool=pools.get(spec.pool),
            when_none_eligible=(
                RoutingRule.WhenNoneEligible.QUEUE if spec.pool else RoutingRule.WhenNoneEligible.FALL_THROUGH
            ),
            sla_minutes=spec.sla_minutes,
        )
        rule.full_clean()  # the same checks a manager's rule passes in the admin
        rule.save()
        for field, operator, value in spec.conditions:
            condition = RuleCondition(rule=rule, field=field, operator=operator, value=value)
            condition.full_clean()
            condition.save()
        for _kind, skill_name, min_level in spec.skills:
            RuleSkillRequirement.objects.create(rule=rule, skill=skills[skill_name], min_level=min_level)


@transaction.atomic
def demo_delete() -> None:
    """Remove everything the demo created, found by the demo's names; skills stay as shared vocabulary.

    Raises ProtectedError when data outside the demo still points at demo reps or teams
    (a lead owned by a demo rep, a rule targeting a demo team): nothing is deleted then.
    """
    usernames = [MANAGER_USERNAME] + [spec.username for spec in REPS]
    Lead.objects.filter(email__in=[spec["email"] for spec in demo_lead_specs()]).delete()
    RoutingRule.objects.filter(name__in=[spec.name for spec in RULES]).delete()
    Pool.objects.filter(name__in=[name for name, _ in POOLS]).delete()
    Account.objects.filter(name__in=[spec[0] for spec in ACCOUNTS]).delete()
    for spec in reversed(TERRITORIES):  # sub-territories first: a parent is protected
        Territory.objects.filter(name=spec[0]).delete()
    get_user_model().objects.filter(username__in=usernames).delete()  # their Rep rows go with them
    for spec in reversed(TEAMS):
        Team.objects.filter(name=spec[0]).delete()
    AvailabilityCalendar.objects.filter(name__in=[spec[0] for spec in CALENDARS]).delete()


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
