"""Server time of the pages a rep and a manager keep open: the rep's queue, the pool and the capacity board.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/lr_bench_h8 BENCH_REDIS_URL=redis://127.0.0.1:6379/8 \
        .venv/bin/python bench/queue_page.py [--open 3087] [--history 100000] [--quick]

Org: 200 reps in 20 teams with caps and a 09:00–17:00 calendar; one rep holds `--open` open leads (the
measurement in issue 14 saw a rep with 3,087), each with its assignment and routing decision (a trace of
3 rules), beside `--history` closed leads of the other reps and 2,000 leads waiting in 4 pools. Rows are
copied in SQL from one lead made by the ORM, so building it takes seconds.
Measure: GET with Django's test client, logged in; p50 of 3 after one warm-up, queries and bytes of the page.
Baseline in the same run: the login page (no data, one template), the floor of any page on this machine under
its current load; run the script on a snapshot of the previous commit for "before" (see README.md).
Target: each page ≤ 200 ms.
"""

import argparse
import datetime as dt
import json
import os
import statistics
import time

import _common as bench

TARGET_MS = 200.0


def copy_rows(table, template_id, count, overrides):
    """Inserts `count` copies of row `template_id` of `table`, some columns replaced by SQL expressions of n."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                       "ORDER BY ordinal_position", [table])
        columns = [name for (name,) in cursor.fetchall() if name != "id"]
        names = ", ".join(f'"{name}"' for name in columns)
        values = ", ".join(overrides.get(name, f't."{name}"') for name in columns)
        cursor.execute(f'INSERT INTO "{table}" ({names}) SELECT {values} '
                       f'FROM "{table}" t, generate_series(1, %s) AS n WHERE t.id = %s', [count, template_id])


def build(open_count, history):
    from django.db import connection
    from django.utils import timezone

    from leads.models import Lead
    from reps.models import AvailabilityCalendar, Rep, WorkingHours
    from routing.models import Assignment, Pool, RoutingDecision, RoutingRule

    now = timezone.now()
    reps, teams = bench.create_reps(200, team_size=10)
    calendar = AvailabilityCalendar.objects.create(name="Office", time_zone="Europe/Berlin")
    WorkingHours.objects.bulk_create([WorkingHours(calendar=calendar, weekday=day, start=dt.time(9), end=dt.time(17))
                                      for day in range(5)])
    Rep.objects.update(calendar=calendar, max_open_leads=5000, max_new_leads_per_day=200, max_new_leads_per_hour=30)
    rep = reps[0]
    rule = RoutingRule.objects.create(name="Everyone", priority=10, target_type=RoutingRule.TargetType.TEAM,
                                      target_team=teams[0])
    lead = Lead.objects.create(first_name="Queue", last_name="Lead", email="q@bench.example", company="Bench GmbH",
                               country="DE", industry="Software", score=50, source="web", owner=rep,
                               status=Lead.Status.ASSIGNED, routing_requested_at=None, assigned_at=now,
                               sla_due_at=now + dt.timedelta(hours=1))
    assignment = Assignment.objects.create(lead=lead, rep=rep, rule=rule, kind=Assignment.Kind.INITIAL,
                                           cause={"code": "rule", "params": {}})
    condition = {"field": "country", "op": "equals", "value": "DE", "actual": "DE", "matched": True}
    trace = {"rules": [{"id": rule.pk, "position": i + 1, "name": f"Rule {i + 1}", "matched": i == 2,
                        "conditions": [{**condition, "matched": i == 2}]} for i in range(3)]}
    RoutingDecision.objects.create(lead=lead, outcome="assigned", rule=rule, chosen_rep=rep,
                                              assignment=assignment, trace=trace, explanation="x" * 1500)
    statuses = "(ARRAY['assigned','accepted','contacted','qualified'])[1 + n %% 4]"
    copy_rows("leads_lead", lead.pk, open_count - 1, {
        "email": "'q' || n || '@bench.example'", "status": statuses,
        "created_at": "t.created_at - n * interval '5 minutes'", "assigned_at": "t.created_at - n * interval '5 minutes'",
        "sla_due_at": "t.sla_due_at - n * interval '3 minutes'",
        "first_touch_at": "CASE WHEN n %% 4 >= 2 THEN t.created_at ELSE NULL END"})
    copy_rows("leads_lead", lead.pk, history, {
        "email": "'h' || n || '@bench.example'", "status": "'converted'",
        "owner_id": f"{reps[1].pk} + n %% 199", "created_at": "t.created_at - n * interval '5 minutes'"})
    pools = [Pool.objects.create(name=f"Pool {i}") for i in range(4)]
    for pool in pools:
        pool.teams.add(teams[0])
    copy_rows("leads_lead", lead.pk, 2000, {
        "email": "'p' || n || '@bench.example'", "status": "'new'", "owner_id": "NULL", "sla_due_at": "NULL",
        "pool_id": f"{pools[0].pk} + n %% 4", "company": "'Pool company ' || n",
        "created_at": "t.created_at - n * interval '1 minute'"})
    # The owned leads each get their current assignment and routing decision, as routing writes them.
    with connection.cursor() as cursor:
        cursor.execute("""
            INSERT INTO routing_assignment (lead_id, rep_id, rule_id, strategy, kind, cause, reason, is_current,
                                            created_at, experiment_group)
            SELECT l.id, l.owner_id, %s, '', 'initial', '{"code": "rule", "params": {}}', '', true, l.created_at, ''
            FROM leads_lead l WHERE l.owner_id IS NOT NULL AND l.id <> %s""", [rule.pk, lead.pk])
        cursor.execute("""
            INSERT INTO routing_routingdecision (lead_id, outcome, rule_id, chosen_rep_id, assignment_id, trace,
                                                 explanation, duration_ms, worker, created_at, experiment_group)
            SELECT a.lead_id, 'assigned', a.rule_id, a.rep_id, a.id, %s::jsonb, repeat('x', 1500), 1, '',
                   a.created_at, ''
            FROM routing_assignment a WHERE a.lead_id <> %s""", [json.dumps(trace), lead.pk])
        cursor.execute("ANALYZE")
    return rep


def measure(client, url, runs=3):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm-up: templates, translations, connection
    times, size, queries = [], 0, 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        size, queries = len(response.content), len(captured)
    return statistics.median(times), queries, size


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--open", type=int, default=3087, help="open leads of the measured rep")
    parser.add_argument("--history", type=int, default=100_000, help="closed leads of the other reps")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.open, args.history = 500, 5000
    bench.setup_django()
    bench.reset_data()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    try:
        started = time.perf_counter()
        rep = build(args.open, args.history)
        print(f"Built: a rep with {args.open:,} open leads, {args.history:,} closed leads of 199 other reps, "
              f"2,000 leads in pools ({time.perf_counter() - started:.0f} s)")
        client = Client()
        client.force_login(rep.user)
        manager = get_user_model().objects.create_superuser("bench-manager", "m@bench.example", "x")
        manager_client = Client()
        manager_client.force_login(manager)
        pages = [("login page (floor)", Client(), "routing:login"), ("rep queue", client, "routing:queue"),
                 ("pool", client, "routing:pool"),
                 ("capacity board", manager_client, "routing:capacity")]
        print(f"\nLoad average: {open('/proc/loadavg').read().split()[0]} on {os.cpu_count()} cores")
        print(f"\n| page | p50 of 3 (ms) | queries | HTML | target ≤ {TARGET_MS:.0f} ms |\n|---|---|---|---|---|")
        for name, who, url_name in pages:
            try:
                url = reverse(url_name)
            except NoReverseMatch:
                print(f"| {name} | (no such page in this version) | | | |")
                continue
            p50, queries, size = measure(who, url)
            print(f"| {name} | {p50:,.0f} | {queries} | {size / 1024:,.0f} kB | {bench.verdict(p50 <= TARGET_MS)} |")
    finally:
        bench.reset_data()


if __name__ == "__main__":
    main()
