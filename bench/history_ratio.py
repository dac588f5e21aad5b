"""Routing throughput with a year of history ÷ the same organisation on an empty database, in one run.

    .venv/bin/python bench/history_ratio.py [--history 1000000] [--leads 400] [--rounds 3]
                                            [--big-db lr_bench_h1_big] [--empty-db lr_bench_h1_empty]

Org (the same in both databases): 200 reps in 20 teams of 10, 50 rules (49 on a country, one
catch-all) over the 20 teams, round robin / least loaded / weighted; every rep has an open-lead
cap, every second a daily cap, every fourth an hourly cap (all high enough never to refuse).
History (big database only): `--history` leads over the last 365 days with one assignment each,
one in seven still open, inserted with SQL generate_series (a few minutes for a million, once:
the databases are kept and migrated forward on the next run).
Measured in this process, without workers: `--leads` pending leads routed by
`route_pending_leads` (the workers' code, batches of ROUTING_LEADS_PER_TRANSACTION), the median of
`--rounds` alternating rounds, and the queries it ran per lead. Each round's leads are deleted after it.

The databases are this script's own (never `lr_bench`, which bench/_common.py drops and rebuilds).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVER = "postgres://postgres@127.0.0.1:5432"
COUNTRIES = ["DE", "FR", "IT", "ES", "PT", "PL", "NL", "BE", "AT", "CH", "SE", "NO", "DK", "FI", "IE", "GB", "US",
             "CA", "MX", "BR", "AR", "CL", "CO", "PE", "JP", "KR", "CN", "IN", "SG", "AU", "NZ", "ZA", "EG", "MA",
             "NG", "KE", "TR", "GR", "RO", "BG", "HU", "CZ", "SK", "SI", "HR", "RS", "UA", "LT", "LV"]  # 49
TEAMS, TEAM_SIZE = 20, 10
WARM_UP = 20


def child_env(database):
    return {**os.environ, "DATABASE_URL": f"{SERVER}/{database}", "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1"),
            "DEBUG": "false", "SECURE_SSL_REDIRECT": "false", "ROUTING_LOG_LEVEL": "ERROR",
            "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"}


def run_child(database, *args):
    out = subprocess.run([sys.executable, __file__, "--child", database, *args], cwd=ROOT, env=child_env(database),
                         capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"{database} {' '.join(args)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def ensure_database(database):
    """Creates the database when missing; migrates it (forward) either way."""
    import psycopg

    if not database.startswith("lr_bench_") or database == "lr_bench":
        sys.exit(f"Refusing to use {database}: this benchmark's databases are named lr_bench_<something>.")
    with psycopg.connect(f"{SERVER.replace('postgres://', 'postgresql://')}/postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{database}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, env=child_env(database),
                   check=True)


# --- in the child process, on one database ----------------------------------------------

def build_org():
    from django.contrib.auth import get_user_model

    from reps.models import Rep, Team
    from routing.models import RoutingRule, RuleCondition

    if Rep.objects.exists():
        return
    User = get_user_model()
    users = User.objects.bulk_create([User(username=f"rep{i}", first_name=f"Rep{i}", last_name="Bench", password="!")
                                      for i in range(TEAMS * TEAM_SIZE)])
    reps = Rep.objects.bulk_create([
        Rep(user=user, time_zone=["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo"][i % 4], max_open_leads=100_000,
            max_new_leads_per_day=100_000 if i % 2 == 0 else None, max_new_leads_per_hour=10_000 if i % 4 == 0 else None)
        for i, user in enumerate(users)
    ])
    teams = Team.objects.bulk_create([Team(name=f"Team {i}") for i in range(TEAMS)])
    Rep.teams.through.objects.bulk_create([Rep.teams.through(rep_id=rep.pk, team_id=teams[i // TEAM_SIZE].pk)
                                           for i, rep in enumerate(reps)])
    strategies = [RoutingRule.Strategy.ROUND_ROBIN, RoutingRule.Strategy.LEAST_LOADED, RoutingRule.Strategy.WEIGHTED]
    for i in range(len(COUNTRIES) + 1):
        rule = RoutingRule.objects.create(
            name=f"Rule {i}", priority=10 + i, target_type=RoutingRule.TargetType.TEAM, target_team=teams[i % TEAMS],
            strategy=strategies[i % len(strategies)],
        )
        if i < len(COUNTRIES):
            RuleCondition.objects.create(rule=rule, field="country", operator="equals", value=COUNTRIES[i])


def _filler(cursor, table, values):
    """The head of an INSERT ... SELECT: `values` for the columns named, a neutral value for other NOT NULL ones."""
    cursor.execute("SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                   "WHERE table_name = %s AND column_name <> 'id'", [table])
    neutral = {"boolean": "false", "jsonb": "'{}'::jsonb", "timestamp with time zone": "now()"}
    columns, expressions = [], []
    for name, data_type, nullable in cursor.fetchall():
        if name in values:
            expressions.append(values[name])
        elif nullable == "YES":
            continue
        else:
            expressions.append(neutral.get(data_type, "0" if data_type in ("integer", "bigint", "double precision",
                                                                            "smallint", "numeric") else "''"))
        columns.append(name)
    return f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(expressions)}"


def fill_history(count):
    from django.db import connection, transaction

    from leads.models import Lead

    have = Lead.objects.count()
    if have >= count:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT array_agg(id ORDER BY id) FROM reps_rep")
        reps = cursor.fetchone()[0]
        at = f"now() - interval '1 hour' - (g * interval '{365 * 86400 / count} seconds')"
        cursor.execute(_filler(cursor, "leads_lead", {
            "email": "'hist' || g || '@history.example'", "country": f"(ARRAY{COUNTRIES!r})[1 + mod(g, {len(COUNTRIES)})]",
            "status": "CASE WHEN mod(g, 7) = 0 THEN 'contacted' WHEN mod(g, 2) = 0 THEN 'converted' ELSE 'lost' END",
            "owner_id": f"(ARRAY{reps!r}::bigint[])[1 + mod(g, {len(reps)})]", "created_at": at, "updated_at": at, "assigned_at": at,
            "routing_requested_at": "NULL",
        }) + f" FROM generate_series({have + 1}, {count}) AS g")
        cursor.execute(_filler(cursor, "routing_assignment", {
            "lead_id": "lead.id", "rep_id": "lead.owner_id", "created_at": "lead.created_at", "is_current": "true",
            "kind": "'initial'", "cause": "'{}'::jsonb",
        }) + " FROM leads_lead lead WHERE lead.email LIKE 'hist%%@history.example' AND NOT EXISTS "
             "(SELECT 1 FROM routing_assignment a WHERE a.lead_id = lead.id)")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def measure(leads):
    import random

    from django.db import connection
    from django.db.models import Max
    from django.test.utils import CaptureQueriesContext

    from leads.models import Lead
    from routing.services import route_pending_leads

    first_id = (Lead.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    chooser = random.Random(7)
    Lead.objects.bulk_create([
        Lead(email=f"lead{i}@bench{i % 97}.example", country=chooser.choice(COUNTRIES + ["ZZ"]), industry="Software",
             employee_count=250, score=50, source="web")
        for i in range(WARM_UP + leads)
    ])
    route_pending_leads(limit=WARM_UP, worker="warm-up")  # compiles the rules, as a running worker has
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        routed = route_pending_leads(limit=leads, worker="bench")
        elapsed = time.perf_counter() - started
    unowned = Lead.objects.filter(id__gte=first_id, owner__isnull=True).count()
    Lead.objects.filter(id__gte=first_id).delete()
    return {"rate": routed / elapsed, "queries_per_lead": len(queries) / routed, "unowned": unowned}


def child(database, args):
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "leadrouting.settings"
    import django

    django.setup()
    if args.build is not None:
        build_org()
        fill_history(args.build)
        print(json.dumps({"ok": True}))
    else:
        print(json.dumps(measure(args.leads)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=int, default=1_000_000)
    parser.add_argument("--leads", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--big-db", default="lr_bench_h1_big")
    parser.add_argument("--empty-db", default="lr_bench_h1_empty")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--build", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args)

    started = time.monotonic()
    for database, history in ((args.big_db, args.history), (args.empty_db, 0)):
        ensure_database(database)
        run_child(database, "--build", str(history))
    print(f"databases ready ({time.monotonic() - started:.0f} s)", flush=True)
    results = {args.big_db: [], args.empty_db: []}
    for round_number in range(args.rounds):
        for database in (args.empty_db, args.big_db):
            result = run_child(database, "--leads", str(args.leads))
            if result["unowned"]:
                raise RuntimeError(f"{result['unowned']} leads were not assigned in {database}")
            results[database].append(result)
            print(f"round {round_number + 1} {database:>20}: {result['rate']:7.1f} leads/s, "
                  f"{result['queries_per_lead']:.2f} queries per lead", flush=True)
    big = statistics.median(r["rate"] for r in results[args.big_db])
    empty = statistics.median(r["rate"] for r in results[args.empty_db])
    queries = statistics.median(r["queries_per_lead"] for r in results[args.big_db])
    print(f"median: {args.history:,} leads of history {big:.1f} leads/s, empty {empty:.1f} leads/s, "
          f"ratio {big / empty:.2f} (target >= 0.9); {queries:.2f} queries per lead")


if __name__ == "__main__":
    main()
