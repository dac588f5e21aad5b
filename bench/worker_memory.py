"""RSS of one real RQ worker process (manage.py rqworker, RoutingWorker) after routing 10,000 leads.

    .venv/bin/python bench/worker_memory.py [--leads 10000] [--quick]

Org: 10 reps, one round-robin rule (as throughput.py). All leads are inserted up front in
transactions of 500 (each commit wakes the worker), then the worker drains them in jobs of
ROUTING_DRAIN_BATCH. RSS is read from /proc/<pid>/status (VmRSS; VmHWM is the peak).
Baseline: the idle worker's RSS right after start (registered, waiting for jobs).
Growth per 1,000 leads between 20% and 100% of the run shows whether memory keeps rising.
Target: <= 150 MB after the run.
"""

import argparse
import time

import _common as bench

TARGET_MB = 150.0


def routed_count():
    from leads.models import Lead

    return Lead.objects.filter(routing_requested_at__isnull=True).count()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="a ~20 s smoke run (800 leads)")
    args = parser.parse_args()
    leads = 800 if args.quick else args.leads
    bench.setup_django()
    bench.reset_data()
    bench.create_round_robin_org(10)
    started = time.monotonic()

    with bench.Workers(1) as workers:
        workers.wait_ready()
        pid = workers.processes[0].pid
        time.sleep(0.5)
        idle_kb = bench.rss_kb(pid)
        print(f"idle worker after start: {idle_kb / 1024:6.1f} MB", flush=True)

        bench.insert_leads(leads, batch=500)
        samples = []  # (leads routed, RSS kB)
        marks = [round(leads * f) for f in (0.1, 0.2, 0.4, 0.6, 0.8)]
        while True:
            workers.check_alive()
            done = routed_count()
            samples.append((done, bench.rss_kb(pid)))
            while marks and done >= marks[0]:
                print(f"  after {done:>6} leads: {samples[-1][1] / 1024:6.1f} MB", flush=True)
                marks.pop(0)
            if done >= leads:
                break
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        time.sleep(0.5)
        final_kb, peak_kb = bench.rss_kb(pid), bench.rss_kb(pid, "VmHWM")
    bench.reset_data()

    early = next((s for s in samples if s[0] >= leads * 0.2), samples[0])
    growth_per_1000 = (final_kb - early[1]) / 1024 / max(1, (leads - early[0]) / 1000)
    print(f"after {leads} leads:        {final_kb / 1024:6.1f} MB (peak {peak_kb / 1024:.1f} MB)")
    print(f"vs idle baseline: +{(final_kb - idle_kb) / 1024:.1f} MB, x{final_kb / idle_kb:.2f};"
          f" growth after the first 20%: {growth_per_1000:+.2f} MB per 1,000 leads")
    print(f"target <= {TARGET_MB:.0f} MB: {bench.verdict(final_kb / 1024 <= TARGET_MB)}")
    print(f"(routing rate {leads / elapsed:.1f} leads/s with 1 worker; total run {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
