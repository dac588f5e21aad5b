"""End-to-end routing throughput (leads committed -> owned) with 1 and 2 real RQ workers, against a raw-SQL floor.

    .venv/bin/python bench/throughput.py [--leads 3000] [--quick]

Org: one team of 10 reps, one round-robin rule with no condition. Leads are inserted in
transactions of 100 (bulk_create; each commit wakes the workers as the post_save signal does).
Throughput = measured leads / (last routed event's time - first measured commit).
Floor: bench/_floor.py in plain psycopg, on the same number of processes, twice: batched like the app
(ROUTING_LEADS_PER_TRANSACTION leads per transaction, the same reads and writes, multi-row statements) and
one lead per transaction (how the app routed before it batched).
Target: app >= 70% of the floor; both ratios are printed, each with its verdict.
"""

import argparse
import tempfile
import time
from collections import Counter
from pathlib import Path

import _common as bench

WARMUP_LEADS = 20
TARGET_RATIO = 0.70


def measured_rate(first_commit, warmup_max_id, count):
    from django.db.models import Max

    from leads.models import Lead, LeadEvent

    leads = Lead.objects.filter(id__gt=warmup_max_id)
    unowned = leads.filter(owner__isnull=True).count()
    if unowned:
        raise RuntimeError(f"{unowned} leads were not assigned")
    last = LeadEvent.objects.filter(lead_id__gt=warmup_max_id, kind="routed").aggregate(last=Max("created_at"))["last"]
    elapsed = last.timestamp() - first_commit
    return count / elapsed, elapsed


def check_fair_and_single_owner(count):
    from django.db.models import Count

    from leads.models import Lead
    from routing.models import Assignment

    per_lead = Assignment.objects.filter(is_current=True).values("lead").annotate(n=Count("id"))
    assert all(row["n"] == 1 for row in per_lead), "a lead has two current owners"
    owners = Counter(Lead.objects.values_list("owner", flat=True))
    assert max(owners.values()) - min(owners.values()) <= 1, f"round robin uneven: {owners}"


def warm_up(checker):
    from django.db.models import Max

    from leads.models import Lead

    bench.insert_leads(WARMUP_LEADS, batch=WARMUP_LEADS, **checker["insert"])
    bench.wait_until_routed(workers=checker["procs"])
    return Lead.objects.aggregate(m=Max("id"))["m"]


def run_app(worker_count, leads):
    bench.reset_data()
    bench.create_round_robin_org(10)
    with bench.Workers(worker_count) as workers:
        workers.wait_ready()
        warmup_max_id = warm_up({"insert": {"wake": True}, "procs": workers})
        first_commit = bench.insert_leads(leads, batch=100, start=WARMUP_LEADS, wake=True)
        bench.wait_until_routed(workers=workers, poll=0.02)
    rate, elapsed = measured_rate(first_commit, warmup_max_id, leads)
    check_fair_and_single_owner(leads + WARMUP_LEADS)
    from routing.models import RoutingDecision

    per_worker = sorted(Counter(RoutingDecision.objects.values_list("worker", flat=True)).values(), reverse=True)
    return rate, elapsed, per_worker


def run_floor(worker_count, leads, template_path, leads_per_transaction):
    bench.reset_data()
    reps, _team, rule = bench.create_round_robin_org(10)
    bench.create_rotation_states(rule, reps)
    with bench.FloorWorkers(worker_count, rule_id=rule.pk, template_path=template_path,
                            leads_per_transaction=leads_per_transaction) as floor:
        warmup_max_id = warm_up({"insert": {"wake": False, "notify": True}, "procs": floor})
        first_commit = bench.insert_leads(leads, batch=100, start=WARMUP_LEADS, wake=False, notify=True)
        bench.wait_until_routed(workers=floor, poll=0.02)
    rate, elapsed = measured_rate(first_commit, warmup_max_id, leads)
    check_fair_and_single_owner(leads + WARMUP_LEADS)
    from routing.models import RoutingDecision

    per_worker = sorted(Counter(RoutingDecision.objects.values_list("worker", flat=True)).values(), reverse=True)
    return rate, elapsed, per_worker


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=3000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--quick", action="store_true", help="a ~20 s smoke run (400 leads)")
    args = parser.parse_args()
    leads = 400 if args.quick else args.leads
    bench.setup_django()

    template_path = Path(tempfile.gettempdir()) / "lr_bench_floor_template.json"
    results = {}
    started = time.monotonic()
    for count in args.workers:
        rate, elapsed, per_worker = run_app(count, leads)
        if not template_path.exists() or count == args.workers[0]:
            bench.capture_floor_template(template_path)
        print(f"app   {count} worker(s): {leads} leads in {elapsed:6.2f} s = {rate:7.1f} leads/s"
              f"  (leads per worker process incl. warm-up: {per_worker})", flush=True)
        results[("app", count)] = rate
    from django.conf import settings

    batched = settings.ROUTING_LEADS_PER_TRANSACTION
    floors = {"batched": batched, "per-lead": 1}
    for name, per_transaction in floors.items():
        for count in args.workers:
            rate, elapsed, per_worker = run_floor(count, leads, template_path, per_transaction)
            print(f"floor {name:>8} ({per_transaction:>2} leads/transaction) {count} process(es): {leads} leads in "
                  f"{elapsed:6.2f} s = {rate:7.1f} leads/s  (per process: {per_worker})", flush=True)
            results[(name, count)] = rate
    bench.reset_data()

    print()
    print(f"The app routes up to {batched} leads per transaction (ROUTING_LEADS_PER_TRANSACTION). Two floors:")
    print("  per-lead: the raw-SQL floor of the target, one lead per transaction (the app's old way, 11 statements a lead)")
    print(f"  batched:  the same batching as the app ({batched} a transaction), its reads and writes in multi-row SQL")
    print(f"{'workers':>8} {'app leads/s':>12} {'per-lead floor':>15} {'app/floor':>10}  {'batched floor':>14} "
          f"{'app/batched':>12}")
    for count in args.workers:
        app, floor, per_lead = results[("app", count)], results[("batched", count)], results[("per-lead", count)]
        print(f"{count:>8} {app:>12.1f} {per_lead:>15.1f} {app / per_lead:>10.1%}  {floor:>14.1f} {app / floor:>12.1%}"
              f"  target app >= {TARGET_RATIO:.0%} of the per-lead floor: {bench.verdict(app / per_lead >= TARGET_RATIO)};"
              f" of the batched floor: {bench.verdict(app / floor >= TARGET_RATIO)}")
    if len(args.workers) > 1:
        first, last = args.workers[0], args.workers[-1]
        print(f"scaling {first}->{last} workers: app x{results[('app', last)] / results[('app', first)]:.2f}, "
              f"batched floor x{results[('batched', last)] / results[('batched', first)]:.2f}")
    print(f"(total run {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
