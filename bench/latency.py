"""Latency from a lead's commit to its assignment under a steady 50 leads/s, 2 real RQ workers; p50/p99.

    .venv/bin/python bench/latency.py [--rate 50] [--seconds 30] [--quick]

Leads are created one per transaction with Lead.objects.create (the real post_save signal
wakes the workers on commit), paced at fixed instants so a slow insert does not slow the load.
Latency of a lead = its 'routed' LeadEvent.created_at (the last row the worker writes before
committing) - Lead.created_at (stamped just before the lead's INSERT and commit); both are
timezone.now() on this machine. Org: 10 reps, one round-robin rule (as throughput.py).
Baseline: the same measurement with the raw-SQL floor (bench/_floor.py, 2 processes woken by
LISTEN/NOTIFY, the same per-lead writes): what the database and machine allow. Target: app p99 <= 100 ms.
"""

import argparse
import tempfile
import time
from pathlib import Path

import _common as bench

TARGET_P99_MS = 100.0
WORKERS = 2


def paced_inserts(rate, seconds, *, notify):
    """Creates rate*seconds leads at fixed instants; returns (ids, achieved rate, inserts that started late)."""
    from django.db import connection, transaction

    from leads.models import Lead

    total = int(rate * seconds)
    ids, late = [], 0
    start = time.monotonic() + 0.05
    for number in range(total):
        due = start + number / rate
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        elif wait < -0.005:
            late += 1
        lead_fields = {"email": f"paced{number}@latency.example", "country": "DE", "industry": "Software",
                       "employee_count": 250, "score": 50, "source": "web"}
        if notify:
            with transaction.atomic():
                lead = Lead.objects.create(**lead_fields)
                with connection.cursor() as cursor:
                    cursor.execute(f"NOTIFY {bench.FLOOR_CHANNEL}")
        else:
            lead = Lead.objects.create(**lead_fields)  # autocommit: post_save wakes the workers at once
        ids.append(lead.pk)
    achieved = total / (time.monotonic() - start)
    return ids, achieved, late


def latencies_ms(ids):
    from leads.models import Lead, LeadEvent

    created = dict(Lead.objects.filter(pk__in=ids).values_list("pk", "created_at"))
    routed = dict(LeadEvent.objects.filter(lead_id__in=ids, kind="routed").values_list("lead_id", "created_at"))
    missing = set(ids) - set(routed)
    if missing:
        raise RuntimeError(f"{len(missing)} leads were not routed")
    return [(routed[pk] - created[pk]).total_seconds() * 1000 for pk in ids]


def warm_up(procs, *, notify):
    bench.insert_leads(20, batch=20, start=90_000, wake=not notify, notify=notify)
    bench.wait_until_routed(workers=procs)


def run_app(rate, seconds):
    bench.reset_data()
    bench.create_round_robin_org(10)
    with bench.Workers(WORKERS) as workers:
        workers.wait_ready()
        warm_up(workers, notify=False)
        ids, achieved, late = paced_inserts(rate, seconds, notify=False)
        bench.wait_until_routed(workers=workers)
    return latencies_ms(ids), achieved, late


def run_floor(rate, seconds, template_path):
    from django.db.models.signals import post_save

    from leads.models import Lead

    bench.reset_data()
    reps, _team, rule = bench.create_round_robin_org(10)
    bench.create_rotation_states(rule, reps)
    # The floor is woken by NOTIFY; the app's Redis wake-up would only add work to the inserter.
    post_save.disconnect(sender=Lead, dispatch_uid="routing_wake_on_new_lead")
    try:
        with bench.FloorWorkers(WORKERS, rule_id=rule.pk, template_path=template_path) as floor:
            warm_up(floor, notify=True)
            ids, achieved, late = paced_inserts(rate, seconds, notify=True)
            bench.wait_until_routed(workers=floor)
    finally:
        from routing.signals import wake_workers_for_new_lead

        post_save.connect(wake_workers_for_new_lead, sender=Lead, dispatch_uid="routing_wake_on_new_lead")
    return latencies_ms(ids), achieved, late


def by_window(values, rate, window_seconds=5):
    """p50/p99 per window of commit time: a growing backlog shows as rising windows."""
    per_window = max(1, int(rate * window_seconds))
    parts = []
    for start in range(0, len(values), per_window):
        chunk = values[start:start + per_window]
        parts.append(f"{bench.percentile(chunk, 50):.0f}/{bench.percentile(chunk, 99):.0f}")
    return f"  p50/p99 ms per {window_seconds} s of load: " + "  ".join(parts)


def line(name, values, achieved, late):
    s = bench.summary_ms(values)
    return (f"{name:<22} n={s['n']:<5} offered {achieved:5.1f}/s  p50 {s['p50']:7.1f} ms  p90 {s['p90']:7.1f} ms"
            f"  p99 {s['p99']:7.1f} ms  max {s['max']:7.1f} ms  (late inserts: {late})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--quick", action="store_true", help="a ~20 s smoke run (6 s of load each)")
    args = parser.parse_args()
    seconds = 6 if args.quick else args.seconds
    bench.setup_django()
    started = time.monotonic()

    app, app_rate, app_late = run_app(args.rate, seconds)
    template_path = Path(tempfile.gettempdir()) / "lr_bench_floor_template.json"
    bench.capture_floor_template(template_path)
    print(line(f"app ({WORKERS} RQ workers)", app, app_rate, app_late))
    print(by_window(app, args.rate), flush=True)
    floor, floor_rate, floor_late = run_floor(args.rate, seconds, template_path)
    print(line(f"floor ({WORKERS} raw procs)", floor, floor_rate, floor_late))
    print(by_window(floor, args.rate), flush=True)
    bench.reset_data()

    app_s, floor_s = bench.summary_ms(app), bench.summary_ms(floor)
    print()
    print(f"app p99 {app_s['p99']:.1f} ms vs target {TARGET_P99_MS:.0f} ms: {bench.verdict(app_s['p99'] <= TARGET_P99_MS)}")
    print(f"app/floor: p50 x{app_s['p50'] / floor_s['p50']:.1f}, p99 x{app_s['p99'] / floor_s['p99']:.1f}")
    print(f"(total run {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
