"""Sends random and malformed POSTs to the rep queue's actions and the admin's rule form; there must be no 500.

    .venv/bin/python bench/fuzz_app.py [--requests 10000] [--seed 7]

Runs Django's test Client in process against a throwaway database (lr_fuzz_app, recreated each run) and
Redis db 9, as a rep, another rep, a sales manager and an anonymous visitor in turn. Requests: lifecycle
actions, claims, away, reassignments on own, foreign, missing and out-of-range lead ids; the admin's
add-rule form with invalid conditions (unknown fields and operators, bad regexes, wrong value types).
Prints a status histogram by kind, server errors, and rules saved with an invalid condition.
Exits 1 if either of the last two is not 0.
"""

import argparse
import collections
import os
import random
import string
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Pinned before Django starts: this script drops and recreates its database.
os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/lr_fuzz_app"
os.environ["REDIS_URL"] = "redis://127.0.0.1:6379/9"
os.environ["DJANGO_SETTINGS_MODULE"] = "leadrouting.settings"
os.environ["DEBUG"] = "false"
os.environ["SECURE_SSL_REDIRECT"] = "false"  # the test Client speaks plain http
os.environ.setdefault("SECRET_KEY", "fuzz-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("ROUTING_LOG_LEVEL", "CRITICAL")

ACTIONS = ["accept", "contacted", "qualified", "converted", "lost", "note", "reassign", "claim", "delete", "x" * 60]
CONDITION_FIELDS = ["country", "score", "employee_count", "deal_value", "email", "industry", "source", "region",
                    "attributes.plan", "attributes.", "attributes.a.b.c", "nonexistent", "", "pk", "owner__user",
                    "__class__", "x" * 200]
OPERATORS = ["equals", "not_equals", "in", "not_in", "contains", "starts_with", "regex", "gt", "gte", "lt", "lte",
             "between", "is_empty", "is_not_empty", "in_territory", "like", "", "eq; DROP TABLE"]
NASTY = [
    "", " ", "\x00", "a\x00b", "\u202e", "😀" * 50, "' OR 1=1 --", "<script>alert(1)</script>", "%s%n", "NaN",
    "Infinity", "-1", "1e999", "99999999999999999999999", "0x10", "DE", "DE, AT, CH", "10..20", "10, 20", "20, 10",
    "(a+)+$", "[", "(?P<x>", "*", "\\", "a" * 5000, "1,2,3,4", "2026-13-45", "tomorrow", "//evil.example/",
    "https://evil.example/", "javascript:alert(1)", "/queue/", "None", "null", "[]", "{}",
]
LEAD_IDS = ["own", "foreign", "pooled", "missing", 0, 2**31, 2**63, 10**20]


def text(rng):
    if rng.random() < 0.6:
        return rng.choice(NASTY)
    return "".join(rng.choice(string.printable) for _ in range(rng.randint(0, 30)))


def lead_id(rng, world, user_key):
    choice = rng.choice(LEAD_IDS)
    if choice == "own":
        return rng.choice(world["leads"][user_key] or [1])
    if choice == "foreign":
        other = "ben" if user_key == "anna" else "anna"
        return rng.choice(world["leads"][other])
    if choice == "pooled":
        return rng.choice(world["pooled"])
    if choice == "missing":
        return world["max_id"] + rng.randint(1, 1000)
    return choice


def queue_request(rng, client, world, user_key):
    """One POST a rep's page can send, with random ids and values."""
    kind = rng.choice(["action", "action", "action", "claim", "away", "reassign"])
    target = lead_id(rng, world, user_key)
    data = {name: text(rng) for name in rng.sample(["reason", "text", "next", "until", "state", "to_rep"], 3)}
    if kind == "action":
        url = f"/leads/{target}/{rng.choice(ACTIONS)}/"
    elif kind == "claim":
        url = f"/queue/pool/{target}/claim/"
    elif kind == "away":
        url = "/queue/away/"
        data["state"] = rng.choice(["available", "away", text(rng)])
        data["until"] = rng.choice(["2030-01-01T09:00", "2000-01-01T09:00", text(rng)])
    else:
        url = f"/leads/{target}/reassign/"
        data["to_rep"] = rng.choice([world["rep_ids"][0], "", "0", "-1", str(2**63), text(rng)])
    return kind, client.post(url, data)


def rule_request(rng, client, n):
    """The admin's add-rule form with 0-4 conditions, most of them invalid."""
    data = {
        "name": rng.choice([f"Fuzz rule {n}", "", text(rng)]), "description": text(rng),
        "priority": rng.choice(["", "10", "-5", "0", str(2**40), text(rng)]),
        "target_type": rng.choice(["team", "rep", "pool", "nurture", "territory", "skills", text(rng)]),
        "target_rep": rng.choice(["", "1", "999999", text(rng)]), "target_team": rng.choice(["", "1", text(rng)]),
        "pool": rng.choice(["", "1", text(rng)]), "match_mode": rng.choice(["all", "any", text(rng)]),
        "strategy": rng.choice(["round_robin", "weighted", "least_loaded", text(rng)]),
        "when_none_eligible": rng.choice(["fall_through", "queue", text(rng)]),
        "performance_window_days": rng.choice(["90", "0", "-1", text(rng)]),
        "performance_outcome_days": rng.choice(["30", "0", "-1", text(rng)]),
        "performance_new_rep_share": rng.choice(["10", "51", "-1", text(rng)]),
        "sla_minutes": rng.choice(["", "15", "-1", str(2**40), text(rng)]),
        "sla_breach_action": rng.choice(["reroute", "team", "pool", text(rng)]),
    }
    if rng.random() < 0.5:
        data["is_active"] = "on"
    conditions = [{"field": rng.choice(CONDITION_FIELDS), "operator": rng.choice(OPERATORS), "value": text(rng)}
                  for _ in range(rng.randint(0, 4))]
    total = rng.choice([len(conditions), len(conditions), "", "-1", "1001", "x"])
    data.update({"conditions-TOTAL_FORMS": str(total), "conditions-INITIAL_FORMS": rng.choice(["0", "0", "5", "x"]),
                 "conditions-MIN_NUM_FORMS": "0", "conditions-MAX_NUM_FORMS": "1000",
                 "skill_requirements-TOTAL_FORMS": "0", "skill_requirements-INITIAL_FORMS": "0",
                 "skill_requirements-MIN_NUM_FORMS": "0", "skill_requirements-MAX_NUM_FORMS": "1000"})
    for index, row in enumerate(conditions):
        data.update({f"conditions-{index}-{name}": value for name, value in row.items()})
    return "rule form", client.post("/admin/routing/routingrule/add/", data)


def invalid_saved_conditions():
    """Saved conditions the rule form should have refused (clean() fails on them)."""
    from django.core.exceptions import ValidationError

    from routing.models import RuleCondition

    broken = 0
    for condition in RuleCondition.objects.all():
        try:
            condition.full_clean(exclude=["rule"])
        except ValidationError:
            broken += 1
    return broken


def recreate_database():
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as connection:
        connection.execute("DROP DATABASE IF EXISTS lr_fuzz_app WITH (FORCE)")
        connection.execute("CREATE DATABASE lr_fuzz_app")


def build_world():
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from leads.models import Lead
    from tests.factories import LeadFactory, PoolFactory, TeamFactory, UserFactory, rep_named

    anna, ben = rep_named("Anna"), rep_named("Ben")
    team = TeamFactory(name="Fuzz team")
    anna.teams.add(team)
    manager = UserFactory(username="manager", is_staff=True)
    manager.groups.add(Group.objects.get(name="Sales managers"))
    team.managers.add(manager)  # a scoped manager: Anna's leads are theirs to see, Ben's are not
    pool = PoolFactory(name="Fuzz pool")
    pool.reps.add(anna)
    now = timezone.now()
    leads = {key: [LeadFactory(owner=rep, status=Lead.Status.ASSIGNED, assigned_at=now).pk for _ in range(40)]
             for key, rep in (("anna", anna), ("ben", ben))}
    leads["manager"] = leads["anonymous"] = []
    pooled = [LeadFactory(pool=pool).pk for _ in range(40)]
    users = {"anna": anna.user, "ben": ben.user, "manager": manager, "anonymous": None}
    return {"leads": leads, "pooled": pooled, "users": users, "rep_ids": [anna.pk, ben.pk],
            "max_id": Lead.objects.order_by("-pk").values_list("pk", flat=True).first()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    recreate_database()

    import django

    django.setup()
    import django_rq
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    django_rq.get_connection("routing").flushdb()
    world = build_world()
    clients = {}
    for key, user in world["users"].items():
        clients[key] = Client(raise_request_exception=False)
        if user is not None:
            clients[key].force_login(user)

    rng = random.Random(args.seed)
    histogram, server_errors = collections.Counter(), []
    started = time.perf_counter()
    for n in range(args.requests):
        user_key = rng.choice(list(clients))
        try:
            if rng.random() < 0.3:
                kind, response = rule_request(rng, clients[rng.choice(["manager", "manager", "anna", "anonymous"])], n)
            else:
                kind, response = queue_request(rng, clients[user_key], world, user_key)
            status = response.status_code
        except Exception as error:  # noqa: BLE001 — the client re-raising is a server error too
            kind, status, response = "exception", 500, error
        histogram[f"{kind} {status}"] += 1
        if status >= 500:
            exc_info = getattr(response, "exc_info", None)
            server_errors.append((kind, n, repr(exc_info[1])[:300] if exc_info else repr(response)[:300]))
    elapsed = time.perf_counter() - started

    broken = invalid_saved_conditions()
    print(f"requests: {args.requests} in {elapsed:.1f} s (seed {args.seed})")
    print("status codes:")
    for key, count in sorted(histogram.items()):
        print(f"  {key}: {count}")
    print(f"server errors: {len(server_errors)}")
    for (kind, error), count in collections.Counter((kind, error) for kind, _n, error in server_errors).most_common(10):
        print(f"  {count} x {kind}: {error}")
    print(f"rules saved with an invalid condition: {broken}")
    sys.exit(1 if server_errors or broken else 0)


if __name__ == "__main__":
    main()
