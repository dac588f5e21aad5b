"""How long a simulation run of 100,000 leads takes on a 200-rep, 50-rule organisation (issue 14's target: 60 s).

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/lr_bench_sim .venv/bin/python bench/simulation.py [--leads N]

Builds the organisation in the database BENCH_DATABASE_URL names (it must start with lr_bench; created and migrated
when missing, emptied of leads and routing data otherwise): 20 teams of 10 reps, 50 rules (49 with a country
condition, round robin, least loaded or weighted, some reps capped, the last for everyone), N leads with an
owner and a routing decision each, generated in SQL. Then it times the job a worker runs
(`routing.jobs.run_simulation`) for one run replaying the last N leads with one draft rule switched on.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/lr_bench_sim")
os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]  # the benchmark's own database, never a developer's
os.environ["DJANGO_SETTINGS_MODULE"] = "leadrouting.settings"
os.environ["DEBUG"] = "false"
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("REDIS_URL", "")  # no Redis needed: the job is called in process
NAME = os.environ["DATABASE_URL"].rsplit("/", 1)[1]
if not NAME.startswith("lr_bench"):
    sys.exit(f"Refusing to run: BENCH_DATABASE_URL must name a database starting with lr_bench, not {NAME}")
COUNTRIES = ["DE", "AT", "CH", "FR", "IT", "ES", "PT", "PL", "NL", "BE", "GB", "IE", "SE", "NO", "DK", "FI", "US",
             "CA", "MX", "BR", "AR", "JP", "KR", "IN", "AU"]


def ensure_database():
    raw = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
    with psycopg.connect(raw.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [NAME]).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{NAME}"')


def build_org(lead_count):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from reps.models import Rep, Team
    from routing.models import RoutingRule, RuleCondition

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE leads_lead, routing_routingrule, reps_rep, reps_team, routing_simulationrun CASCADE")
        cursor.execute("DELETE FROM auth_user")
    User = get_user_model()
    users = User.objects.bulk_create([User(username=f"rep{i}", first_name=f"Rep{i:03}", password="!")
                                      for i in range(200)])
    reps = Rep.objects.bulk_create([Rep(user=user, time_zone="UTC", max_open_leads=5000 if i % 7 == 0 else None,
                                        max_new_leads_per_day=400 if i % 11 == 0 else None)
                                    for i, user in enumerate(users)])
    teams = Team.objects.bulk_create([Team(name=f"Team {i}") for i in range(20)])
    Rep.teams.through.objects.bulk_create([Rep.teams.through(rep_id=rep.pk, team_id=teams[i // 10].pk)
                                           for i, rep in enumerate(reps)])
    strategies = [RoutingRule.Strategy.ROUND_ROBIN, RoutingRule.Strategy.LEAST_LOADED,
                  RoutingRule.Strategy.WEIGHTED]
    rules = []
    for i in range(50):
        rule = RoutingRule.objects.create(name=f"Rule {i:02}", priority=(i + 1) * 10, target_team=teams[i % 20],
                                          target_type=RoutingRule.TargetType.TEAM, strategy=strategies[i % 3])
        if i < 49:  # two rules per country for the first 24, then by source: the last rule takes the rest
            field, value = ("country", COUNTRIES[i % 25]) if i < 25 else ("source", f"source{i}")
            RuleCondition.objects.create(rule=rule, field=field, value=value)
        rules.append(rule)
    draft = RoutingRule.objects.create(name="Draft: DACH to team 19", priority=5, target_team=teams[19],
                                       target_type=RoutingRule.TargetType.TEAM, is_active=False)
    RuleCondition.objects.create(rule=draft, field="country", operator="in", value="DE, AT, CH")
    rep_ids, rule_ids = [rep.pk for rep in reps], [rule.pk for rule in rules]
    with connection.cursor() as cursor:
        cursor.execute("""
            INSERT INTO leads_lead (first_name, last_name, email, phone, company, website, domain, job_title, country,
                region, postal_code, city, industry, product_interest, use_case, source, language, attributes, status,
                account_match_method, created_at, updated_at, assigned_at, routing_attempts, reassignment_count,
                owner_id)
            SELECT 'Lead', n::text, 'lead' || n || '@company' || (n %% 5000) || '.example', '',
                'Company ' || (n %% 5000),
                '', '', '', (%(countries)s::text[])[1 + n %% 25], '', '', '', '', '', '', 'source' || (n %% 40), '',
                '{}', 'assigned', '', now() - (n || ' seconds')::interval, now(), now(), 1, 0,
                (%(reps)s::bigint[])[1 + n %% 200]
            FROM generate_series(1, %(count)s) AS n
        """, {"countries": COUNTRIES, "reps": rep_ids, "count": lead_count})
        cursor.execute("""
            INSERT INTO routing_routingdecision (lead_id, outcome, rule_id, chosen_rep_id, trace, explanation,
                duration_ms, worker, experiment_group, created_at)
            SELECT id, 'assigned', (%(rules)s::bigint[])[1 + id %% 50], owner_id, '{}', '', 1, 'bench', '', created_at
            FROM leads_lead
        """, {"rules": rule_ids})
        cursor.execute("ANALYZE")
    return draft


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--reuse", action="store_true", help="Keep the organisation and leads of the last run.")
    args = parser.parse_args()
    ensure_database()
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from routing.jobs import run_simulation
    from routing.models import SimulationRun

    from routing.models import RoutingRule

    started = time.perf_counter()
    if args.reuse:
        draft = RoutingRule.objects.get(is_active=False)
    else:
        draft = build_org(args.leads)
        print(f"organisation and {args.leads} leads built in {time.perf_counter() - started:.0f} s")
    manager, _created = get_user_model().objects.get_or_create(username="bench-manager", defaults={
        "is_superuser": True, "is_staff": True})
    run = SimulationRun.objects.create(started_by=manager, parameters={
        "days": None, "last": args.leads, "source": "", "country": "", "switch_on": [draft.pk], "switch_off": []})
    started, cpu_started = time.perf_counter(), time.process_time()
    run_simulation(run.pk)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    run.refresh_from_db()
    results = run.results
    print(f"status {run.status} {run.failure_code} {run.failure_params}")
    print(f"{run.progress_done} of {run.progress_total} leads replayed in {seconds:.1f} s (job; "
          f"{cpu_seconds:.1f} s of CPU in the worker, load average {os.getloadavg()[0]:.1f}), "
          f"replay {results.get('seconds', 0):.1f} s; {results.get('changed', 0)} would change, "
          f"{results.get('rule_changes', 0)} change rule; target: 100,000 leads in 60 s")


if __name__ == "__main__":
    main()
