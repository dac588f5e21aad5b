"""Builds a mid-size sales organisation after a year of routing (issue 14): the database bench/organisation_scale.py measures.

    .venv/bin/python bench/organisation.py [--leads 1000000] [--rebuild]

The organisation: 200 reps in 20 teams of 10, a sales manager of every team, a superuser,
50 rules (conditions of the shapes people write, four strategies, a pool rule, a catch-all),
one running A/B experiment on the first rule, one pool. Then a year of history, by default
1,000,000 leads spread evenly over the last 365 days, each with one assignment, one routing
decision and one "routed" timeline event; 5 % reassigned (a second assignment and a
"reassigned" event); the leads of the experiment's rule in its two groups (about 4.2 %, 42,000
of 1,000,000); some leads waiting in the pool; one rep (`rep000`) with about 3,000 open leads.

How: the app itself routes 500 "profile" leads (realistic attribute combinations) with the real
engine, and reassigns a few of them the three ways the app does (by hand, through the rules, at the
SLA deadline). The year of history is then copied from those rows in SQL (INSERT ... SELECT over
generate_series): lead i is a copy of profile i % 500 with its own name, e-mail and time, owned
by a rep of the team its profile's rule targets, and its decision, assignment and events copy the
profile's, so the trace, explanation, reasons and causes have the shape and size the app writes.
Every column is copied from the template row, so columns other branches add are filled as the app
filled them.

The database is built once and kept; organisation_scale.py reuses it (after `migrate`).
--rebuild drops and builds it again. Its name comes from BENCH_DATABASE_URL (default
lr_bench_org) and must start with `lr_bench`.

`generate()` and `build_org()` need only a migrated database and Django set up, so the test
(tests/test_bench_organisation.py) runs them in the test database at a tiny size.
"""

import argparse
import datetime as dt
import os
import random
import sys
import time

PROFILES = 500
TEAMS = 20
REPS_PER_TEAM = 10
HEAVY_REP_USERNAME = "rep000"
HEAVY_REP_EVERY = 333  # 1 lead in 333 goes to the heavy rep: ~3,000 open leads at 1,000,000
REASSIGNED_EVERY = 20  # 5 %
EXPERIMENT_PROFILES = 21  # 21 / 500 = 4.2 % of the leads: 42,000 at 1,000,000
POOL_DAYS = 14  # leads of the pool rule younger than this still wait in the pool
MANAGER_USERNAME = "bench_manager"
TEAM_MANAGER_USERNAME = "bench_team_manager"  # manages "Team 00" alone, as most sales managers manage one team
SUPERUSER_USERNAME = "bench_admin"
PASSWORD = "bench-password"

COUNTRIES = ["DE", "FR", "GB", "US", "NL", "BE", "IT", "ES", "PL", "SE", "AT", "CH", "DK", "NO", "FI", "PT", "IE",
             "CZ", "CA", "AU"]
INDUSTRIES = ["Software", "Manufacturing", "Retail", "Healthcare", "Finance", "Logistics", "Education", "Energy",
              "Media", "Telecom", "Construction", "Public sector"]
SOURCES = ["web", "event", "partner", "webinar", "referral", "ads", "import"]
PLANS = ["free", "starter", "business", "enterprise"]
PRODUCTS = ["Routing", "Scheduling", "Analytics", "Integrations"]
FIRST_NAMES = ["Anna", "Ben", "Clara", "David", "Elena", "Felix", "Greta", "Hugo", "Ines", "Jonas", "Katja", "Luca",
               "Mia", "Noah", "Olga", "Paul", "Rosa", "Sven", "Tara", "Umut"]
LAST_NAMES = ["Schmidt", "Martin", "Smith", "Rossi", "Nowak", "Garcia", "Jansen", "Peeters", "Berg", "Silva",
              "Novak", "Murphy", "Meier", "Dubois", "Kowalski", "Larsen"]


# --- the organisation ----------------------------------------------------------------------------

def team_manager(team=None):
    """The sales manager of one team (`TEAM_MANAGER_USERNAME`), made on first use in a database built without one."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from reps.models import Team
    from reps.scoping import SALES_MANAGERS_GROUP

    user, created = get_user_model().objects.get_or_create(
        username=TEAM_MANAGER_USERNAME,
        defaults={"email": "team.manager@bench.example", "first_name": "Tomas", "last_name": "Teamlead",
                  "is_staff": True})
    if created:
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
        user.groups.add(Group.objects.get_or_create(name=SALES_MANAGERS_GROUP)[0])
        (team or Team.objects.get(name="Team 00")).managers.add(user)
    return user


def build_org(seed=14):
    """Users, teams, reps, the pool, 50 rules and the running experiment. Returns a dict of what the table needs."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from reps.models import Rep, Team
    from reps.scoping import SALES_MANAGERS_GROUP
    from routing.models import Pool, RoutingExperiment, RoutingRule, RuleCondition

    rng = random.Random(seed)
    User = get_user_model()
    admin = User.objects.create_superuser(SUPERUSER_USERNAME, "admin@bench.example", PASSWORD)
    manager = User.objects.create_user(MANAGER_USERNAME, "manager@bench.example", PASSWORD,
                                       first_name="Maria", last_name="Manager", is_staff=True)
    manager.groups.add(Group.objects.get_or_create(name=SALES_MANAGERS_GROUP)[0])
    teams = Team.objects.bulk_create([Team(name=f"Team {t:02d}") for t in range(TEAMS)])
    users = User.objects.bulk_create([
        User(username=f"rep{n:03d}", first_name=rng.choice(FIRST_NAMES), last_name=f"{rng.choice(LAST_NAMES)} {n:03d}",
             email=f"rep{n:03d}@bench.example", password="!")
        for n in range(TEAMS * REPS_PER_TEAM)
    ])
    heavy = users[0]
    heavy.set_password(PASSWORD)
    heavy.save(update_fields=["password"])
    reps = Rep.objects.bulk_create([
        Rep(user=user, time_zone="Europe/Berlin", weight=[1, 1, 2, 3][n % 4]) for n, user in enumerate(users)
    ])
    Membership = Rep.teams.through
    Membership.objects.bulk_create([Membership(rep_id=rep.pk, team_id=teams[n // REPS_PER_TEAM].pk)
                                    for n, rep in enumerate(reps)])
    Team.managers.through.objects.bulk_create([Team.managers.through(team_id=team.pk, user_id=manager.pk)
                                               for team in teams])
    team_manager(teams[0])
    pool = Pool.objects.create(name="Partner leads")
    pool.teams.add(teams[19])

    S = RoutingRule.Strategy
    rules = []

    def rule(name, team, strategy, conditions, *, match_mode="all", target_type=RoutingRule.TargetType.TEAM, **extra):
        created = RoutingRule.objects.create(
            name=name, priority=10 * (len(rules) + 1), target_type=target_type, target_team=team,
            strategy=strategy, match_mode=match_mode, **extra)
        RuleCondition.objects.bulk_create([RuleCondition(rule=created, field=f, operator=o, value=v)
                                           for f, o, v in conditions])
        rules.append(created)
        return created

    control = rule("Benelux enterprise", teams[0], S.ROUND_ROBIN,
                   [("country", "in", "NL,BE"), ("employee_count", "gte", "1000")])
    pairs = [("DE", "AT"), ("FR", "CH"), ("GB", "IE"), ("US", "CA"), ("IT", "ES"), ("PL", "CZ"), ("SE", "NO"),
             ("DK", "FI"), ("PT", "ES"), ("AU", "GB"), ("DE", "CH")]
    for n, (a, b) in enumerate(pairs):  # 11: region + company size
        rule(f"{a}/{b} mid-market", teams[1 + n % 19], S.WEIGHTED if n % 2 else S.ROUND_ROBIN,
             [("country", "in", f"{a},{b}"), ("employee_count", "gte", "500")])
    for n, industry in enumerate(INDUSTRIES):  # 12: vertical + inbound source
        rule(f"{industry} inbound", teams[(3 + n) % 19], S.LEAST_LOADED,
             [("industry", "equals", industry), ("source", "in", "web,event,webinar")])
    for n, country in enumerate(COUNTRIES[:10]):  # 10: country + hot score
        rule(f"{country} hot leads", teams[(7 + n) % 19], S.ROUND_ROBIN,
             [("country", "equals", country), ("score", "gte", "70")])
    for n in range(8):  # 8: German postal regions
        rule(f"DE postal region {n + 1}", teams[(11 + n) % 19], S.WEIGHTED,
             [("country", "equals", "DE"), ("postal_code", "starts_with", str(n + 1))])
    for n, product in enumerate(PRODUCTS):  # 4: product interest or plan (any of)
        rule(f"{product} specialists", teams[(2 + 4 * n) % 19], S.ROUND_ROBIN,
             [("product_interest", "equals", product), ("attributes.plan", "equals", "enterprise")], match_mode="any")
    rule("Cold partner leads to the pool", None, S.ROUND_ROBIN,
         [("source", "equals", "partner"), ("score", "lt", "20")], target_type=RoutingRule.TargetType.POOL, pool=pool)
    rule("Big and hot", teams[5], S.LEAST_LOADED,
         [("score", "between", "90,100"), ("employee_count", "gt", "5000")])
    variant = rule("Benelux enterprise, seniors (variant)", teams[1], S.LEAST_LOADED, [], is_active=False)
    rule("Everyone else", teams[19], S.ROUND_ROBIN, [])
    assert len(rules) == 50, len(rules)
    experiment = RoutingExperiment.objects.create(
        name="Benelux enterprise: least loaded", hypothesis="Least loaded answers big Benelux leads faster.",
        control_rule=control, variant_rule=variant, test_share=50, status=RoutingExperiment.Status.RUNNING,
        started_at=timezone.now() - dt.timedelta(days=365), started_by=manager)
    return {"manager": manager, "admin": admin, "heavy_rep": reps[0], "experiment": experiment, "rules": rules,
            "teams": teams, "reps": reps, "pool": pool}


def profile_attributes(p, rng):
    """Profile p's lead fields. Profiles 0..20 (and only they) are Benelux companies of 1,000+ (the experiment's rule)."""
    country = rng.choice(["NL", "BE"]) if p < EXPERIMENT_PROFILES else rng.choice(COUNTRIES)
    employees = rng.choice([1000, 2500, 8000]) if p < EXPERIMENT_PROFILES else rng.choice([5, 20, 80, 250, 600, 1500, 12000])
    if p >= EXPERIMENT_PROFILES and country in ("NL", "BE"):
        employees = min(employees, 900)
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    company = f"{last} {rng.choice(['GmbH', 'Ltd', 'SA', 'BV', 'Inc', 'AB', 'SpA'])} {p}"
    domain = f"{last.lower()}{p}.example"
    return dict(
        first_name=first, last_name=last, email=f"{first.lower()}.{last.lower()}@{domain}", company=company,
        domain=domain, website=f"https://www.{domain}", job_title=rng.choice(["CEO", "Head of Sales", "CTO", "Buyer"]),
        country=country, postal_code=f"{rng.randint(1, 9)}{rng.randint(1000, 9999)}", city="Bench City",
        industry=rng.choice(INDUSTRIES), employee_count=employees, source=rng.choice(SOURCES),
        score=rng.randint(0, 100), product_interest=rng.choice(PRODUCTS + [""] * 8),
        phone=f"+49 30 {rng.randint(1000000, 9999999)}", attributes={"plan": rng.choice(PLANS)},
    )


def route_profiles(org, seed=14):
    """The app routes the 500 profile leads, then reassigns a few of them the three ways it does. Returns the profile leads."""
    from django.utils import timezone

    from leads.models import Lead
    from routing.models import Assignment
    from routing.reassignment import lead_reassign, sla_reassign_overdue
    from routing.services import route_pending_leads

    rng = random.Random(seed)
    leads = Lead.objects.bulk_create([Lead(**profile_attributes(p, rng)) for p in range(PROFILES)])
    route_pending_leads(limit=PROFILES * 2, worker="bench:organisation")
    assigned = list(Lead.objects.filter(pk__in=[lead.pk for lead in leads], owner__isnull=False).order_by("pk"))
    reasons = ["Customer asked for a German speaker", "Rep on parental leave", "Existing relationship with the buyer",
               "Wrong territory", "Escalated by the account executive"]
    # The templates of reassignments: by hand to a teammate, through the rules, at the SLA deadline.
    for n, lead in enumerate(assigned[-12:-8]):
        current = Assignment.objects.get(lead=lead, is_current=True)
        teammate = current.rule.target_team.members.exclude(pk=lead.owner_id).order_by("pk").first()
        lead_reassign(lead_id=lead.pk, to_rep=teammate, actor=org["manager"], reason=reasons[n % len(reasons)])
    for n, lead in enumerate(assigned[-8:-4]):
        lead_reassign(lead_id=lead.pk, to_rep=None, actor=org["manager"], reason=reasons[(n + 2) % len(reasons)])
    overdue = [lead.pk for lead in assigned[-4:]]
    Lead.objects.exclude(pk__in=overdue).update(sla_due_at=None)
    sla_reassign_overdue(now=timezone.now() + dt.timedelta(hours=2), limit=len(overdue))
    return leads


# --- the year of history, in SQL -----------------------------------------------------------------

def _columns(cursor, table):
    cursor.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s AND table_schema ="
                   " current_schema() ORDER BY ordinal_position", [table])
    return [row[0] for row in cursor.fetchall()]


def _copy_sql(cursor, table, alias, overrides, source_sql):
    """INSERT INTO table (every column) SELECT <override or alias.column> FROM source_sql."""
    columns = _columns(cursor, table)
    select = ", ".join(overrides.get(column, f'{alias}."{column}"') for column in columns)
    names = ", ".join(f'"{column}"' for column in columns)
    return f"INSERT INTO {table} ({names}) SELECT {select} FROM {source_sql}"


def _next_id(cursor, table):
    cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
    return cursor.fetchone()[0] + 1


def _setval(cursor, table):
    cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")


def generate_history(leads_count, *, profiles, now=None, echo=print):
    """Copies the profile leads' rows into `leads_count` leads over the last 365 days (see the module docstring)."""
    from django.db import connection
    from django.utils import timezone

    now = now or timezone.now()
    profile_ids = [lead.pk for lead in profiles]
    with connection.cursor() as c:
        lead0, assignment0, decision0, event0 = (_next_id(c, t) for t in (
            "leads_lead", "routing_assignment", "routing_routingdecision", "leads_leadevent"))
        c.execute("CREATE TEMP TABLE bench_profile ON COMMIT DROP AS"
                  " SELECT p - 1 AS p, l.id AS lead_id, d.id AS decision_id, d.outcome, a.id AS assignment_id,"
                  " (SELECT min(e.id) FROM leads_leadevent e WHERE e.lead_id = l.id AND e.kind = 'routed') AS event_id,"
                  " r.target_team_id AS team_id"
                  " FROM unnest(%s::bigint[]) WITH ORDINALITY AS u(id, p) JOIN leads_lead l ON l.id = u.id"
                  " JOIN LATERAL (SELECT * FROM routing_routingdecision d WHERE d.lead_id = l.id ORDER BY d.id LIMIT 1) d"
                  "   ON true"
                  " LEFT JOIN routing_assignment a ON a.id = d.assignment_id"
                  " LEFT JOIN routing_routingrule r ON r.id = d.rule_id", [profile_ids])
        c.execute("CREATE TEMP TABLE bench_team_rep ON COMMIT DROP AS"
                  " SELECT team_id, (row_number() OVER (PARTITION BY team_id ORDER BY rep_id)) - 1 AS k, rep_id,"
                  " count(*) OVER (PARTITION BY team_id) AS n FROM reps_rep_teams")
        c.execute("SELECT r.id FROM reps_rep r JOIN auth_user u ON u.id = r.user_id WHERE u.username = %s",
                  [HEAVY_REP_USERNAME])
        heavy = c.fetchone()[0]
        # Reassignment templates: the app's non-initial assignments with their "reassigned" event.
        c.execute("CREATE TEMP TABLE bench_reassign ON COMMIT DROP AS"
                  " SELECT (row_number() OVER (ORDER BY a.id)) - 1 AS r, a.id AS assignment_id,"
                  " (SELECT min(e.id) FROM leads_leadevent e WHERE e.lead_id = a.lead_id AND e.kind = 'reassigned'"
                  "   AND e.created_at >= a.created_at - interval '1 second') AS event_id"
                  " FROM routing_assignment a WHERE a.kind <> 'initial' AND a.lead_id = ANY(%s)", [profile_ids])
        c.execute("SELECT count(*) FROM bench_reassign")
        templates = c.fetchone()[0] or 1

        started = time.monotonic()
        # One row per generated lead: its profile, time, first owner, final owner, status.
        c.execute(f"""
            CREATE TEMP TABLE bench_gen ON COMMIT DROP AS
            SELECT g.i, g.p, g.created, g.first_owner, g.heavy,
                   CASE WHEN g.reassigned THEN tr2.rep_id ELSE g.first_owner END AS owner,
                   g.reassigned, g.i %% {templates} AS r, g.outcome, g.age,
                   CASE WHEN g.outcome = 'pooled' AND g.age >= {POOL_DAYS} THEN 'lost'
                        WHEN g.outcome <> 'assigned' THEN NULL
                        WHEN g.heavy THEN 'assigned'
                        -- rep000's own share of its team's leads is closed: its ~3,000 open leads are the ones above
                        WHEN g.first_owner = %(heavy)s THEN (ARRAY['converted','lost','lost'])[g.i %% 3 + 1]
                        WHEN g.age < 1 THEN 'assigned'
                        WHEN g.age < 30 THEN (ARRAY['assigned','accepted','contacted','contacted','qualified',
                                                    'qualified','converted','lost','contacted','lost'])[g.i %% 10 + 1]
                        ELSE (ARRAY['converted','converted','lost','lost','lost','lost','lost','lost','contacted',
                                    'qualified','lost','converted','lost','lost','lost','lost','lost','converted',
                                    'lost','lost','lost','lost','lost','qualified','lost'])[g.i %% 25 + 1]
                   END AS status
            FROM (
                SELECT s.i, pr.p, pr.outcome,
                       %(now)s::timestamptz - interval '365 days' + (s.i::float8 / %(n)s) * interval '364 days'
                         + (s.i %% 97) * interval '1 second' AS created,
                       (365 - (s.i::float8 / %(n)s) * 364) AS age,
                       CASE WHEN pr.outcome <> 'assigned' THEN NULL
                            WHEN s.i %% {HEAVY_REP_EVERY} = 5 THEN %(heavy)s
                            ELSE tr.rep_id END AS first_owner,
                       (pr.outcome = 'assigned' AND s.i %% {HEAVY_REP_EVERY} = 5) AS heavy,
                       (pr.outcome = 'assigned' AND s.i %% {REASSIGNED_EVERY} = 7
                        AND s.i %% {HEAVY_REP_EVERY} <> 5) AS reassigned,
                       pr.team_id, tr.k, tr.n
                FROM generate_series(0, %(n)s - 1) AS s(i)
                JOIN bench_profile pr ON pr.p = s.i %% {PROFILES}
                LEFT JOIN bench_team_rep tr ON tr.team_id = pr.team_id
                     AND tr.k = (s.i / {PROFILES}) %% (SELECT max(n) FROM bench_team_rep x WHERE x.team_id = pr.team_id)
            ) g
            LEFT JOIN bench_team_rep tr2 ON tr2.team_id = g.team_id AND tr2.k = (g.k + 1) %% g.n
        """, {"now": now, "n": leads_count, "heavy": heavy})
        c.execute("CREATE UNIQUE INDEX ON bench_gen (i)")
        c.execute("ANALYZE bench_gen")
        echo(f"  plan of {leads_count:,} leads: {time.monotonic() - started:.1f} s")

        step = time.monotonic()
        c.execute(_copy_sql(c, "leads_lead", "l", {
            "id": f"{lead0} + g.i",
            "first_name": f"(ARRAY{FIRST_NAMES!r})[g.i % {len(FIRST_NAMES)} + 1]",
            "last_name": f"(ARRAY{LAST_NAMES!r})[(g.i / 7) % {len(LAST_NAMES)} + 1]",
            "email": "'lead' || g.i || '@' || l.domain",
            "phone": "'+49 30 ' || (1000000 + g.i)",
            "created_at": "g.created", "updated_at": "g.created + interval '3 days'",
            "assigned_at": "CASE WHEN g.owner IS NULL THEN NULL ELSE g.created + interval '2 seconds' END",
            "first_touch_at": "CASE WHEN g.status IN ('contacted','qualified','converted','lost') AND g.owner IS NOT NULL"
                              " THEN g.created + (g.i % 480) * interval '1 minute' END",
            "closed_at": "CASE WHEN g.status IN ('converted','lost') THEN g.created + (1 + g.i % 40) * interval '1 day' END",
            "status": "coalesce(g.status, l.status)",
            "owner_id": "g.owner",
            "last_owner_id": "g.owner",  # the rep of the lead's latest assignment (both written below)
            "pool_id": f"CASE WHEN g.outcome = 'pooled' AND g.age < {POOL_DAYS} THEN l.pool_id END",
            "routing_requested_at": "NULL", "routing_attempts": "l.routing_attempts",
            # No first-touch deadline: a year-old untouched lead would otherwise be swept during the benchmark.
            "sla_due_at": "NULL",
            "reassignment_count": "CASE WHEN g.reassigned THEN 1 ELSE 0 END",
        }, "bench_gen g JOIN bench_profile pr ON pr.p = g.p JOIN leads_lead l ON l.id = pr.lead_id ORDER BY g.i"))
        _setval(c, "leads_lead")
        echo(f"  leads: {time.monotonic() - step:.1f} s")

        step = time.monotonic()
        c.execute(_copy_sql(c, "routing_assignment", "a", {
            "id": f"{assignment0} + g.i", "lead_id": f"{lead0} + g.i", "rep_id": "g.first_owner",
            "created_at": "g.created + interval '2 seconds'", "is_current": "NOT g.reassigned",
            "ended_at": "CASE WHEN g.reassigned THEN g.created + interval '1 day' END", "from_rep_id": "NULL",
        }, "bench_gen g JOIN bench_profile pr ON pr.p = g.p JOIN routing_assignment a ON a.id = pr.assignment_id"
           " WHERE g.first_owner IS NOT NULL ORDER BY g.i"))
        c.execute(_copy_sql(c, "routing_assignment", "a", {
            "id": f"{assignment0} + {leads_count} + g.i", "lead_id": f"{lead0} + g.i", "rep_id": "g.owner",
            "rule_id": "ia.rule_id", "created_at": "g.created + interval '1 day'", "is_current": "true",
            "ended_at": "NULL", "experiment_id": "NULL", "experiment_group": "''", "from_rep_id": "g.first_owner",
        }, "bench_gen g JOIN bench_profile pr ON pr.p = g.p JOIN routing_assignment ia ON ia.id = pr.assignment_id"
           " JOIN bench_reassign br ON br.r = g.r JOIN routing_assignment a ON a.id = br.assignment_id"
           " WHERE g.reassigned ORDER BY g.i"))
        _setval(c, "routing_assignment")
        echo(f"  assignments: {time.monotonic() - step:.1f} s")

        step = time.monotonic()
        c.execute(_copy_sql(c, "routing_routingdecision", "d", {
            "id": f"{decision0} + g.i", "lead_id": f"{lead0} + g.i",
            "chosen_rep_id": "CASE WHEN d.chosen_rep_id IS NULL THEN NULL ELSE g.first_owner END",
            "assignment_id": f"CASE WHEN g.first_owner IS NULL THEN NULL ELSE {assignment0} + g.i END",
            "created_at": "g.created + interval '2 seconds'",
        }, "bench_gen g JOIN bench_profile pr ON pr.p = g.p JOIN routing_routingdecision d ON d.id = pr.decision_id"
           " ORDER BY g.i"))
        _setval(c, "routing_routingdecision")
        echo(f"  decisions: {time.monotonic() - step:.1f} s")

        step = time.monotonic()
        c.execute(_copy_sql(c, "leads_leadevent", "e", {
            "id": f"{event0} + g.i", "lead_id": f"{lead0} + g.i", "created_at": "g.created + interval '2 seconds'",
            "data": f"CASE WHEN e.data ? 'decision_id' THEN jsonb_set(e.data, '{{decision_id}}', to_jsonb({decision0} + g.i))"
                    " ELSE e.data END",
        }, "bench_gen g JOIN bench_profile pr ON pr.p = g.p JOIN leads_leadevent e ON e.id = pr.event_id ORDER BY g.i"))
        c.execute(_copy_sql(c, "leads_leadevent", "e", {
            "id": f"{event0} + {leads_count} + g.i", "lead_id": f"{lead0} + g.i",
            "created_at": "g.created + interval '1 day'",
        }, "bench_gen g JOIN bench_reassign br ON br.r = g.r JOIN leads_leadevent e ON e.id = br.event_id"
           " WHERE g.reassigned ORDER BY g.i"))
        _setval(c, "leads_leadevent")
        echo(f"  timeline events: {time.monotonic() - step:.1f} s")


# What the app derives from the rows and keeps (migrations backfill it when they add it; rows the generator
# writes in SQL reach it through the database's triggers, which mark days stale): management commands that
# bring it up to date, each run after a build and after the migrations a kept database receives.
DERIVED_DATA_COMMANDS = [
    ("routing_check_loads", ["--fix"]),  # each rep's open-lead counter (routing.RepLoad) against a real count
    ("routing_daily_stats", []),  # the dashboard's and the trends' per-day figures
]


def rebuild_derived_data(echo=print):
    """Brings the app's derived data up to date (see DERIVED_DATA_COMMANDS); a command the app lacks is skipped."""
    from django.core.management import call_command, get_commands

    for command, arguments in DERIVED_DATA_COMMANDS:
        if command not in get_commands():
            continue
        started = time.monotonic()
        call_command(command, *arguments, verbosity=0)
        echo(f"  derived data: manage.py {command} {' '.join(arguments)} in {time.monotonic() - started:.1f} s")


def generate(leads_count, *, echo=print):
    """The organisation and its year of history; `leads_count` 0 builds the organisation alone (the empty twin)."""
    from django.db import transaction

    with transaction.atomic():
        org = build_org()
    if leads_count:
        started = time.monotonic()
        profiles = route_profiles(org)
        echo(f"  the app routed {len(profiles)} profile leads: {time.monotonic() - started:.1f} s")
        with transaction.atomic():
            generate_history(leads_count, profiles=profiles, echo=echo)
            committing = time.monotonic()
        # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: PostgreSQL checks every copied row's keys at
        # COMMIT (about 9 minutes of a 25-minute build at 1,000,000 leads on a loaded 2-core machine).
        echo(f"  commit (the deferred foreign-key checks): {time.monotonic() - committing:.1f} s")
    rebuild_derived_data(echo=echo)
    return org


# --- the database ----------------------------------------------------------------------------------

def main():
    os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/lr_bench_org")
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import _common as bench

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true", help="drop the database and build it again")
    args = parser.parse_args()
    bench.ensure_org_database(leads=args.leads, rebuild=args.rebuild)


if __name__ == "__main__":
    main()
