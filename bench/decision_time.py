"""Time of routing.engine.decide vs 10 / 100 / 1,000 / 10,000 rules and 10 / 1,000 reps.

    .venv/bin/python bench/decision_time.py [--leads 150] [--rules 10 100 1000 10000] [--reps 10 1000] [--quick]

Rules (bulk_create; triggers tell the workers), in shuffled priority order, each targeting a team of 10 reps:
  30% postal_code in (5 codes)          [indexed]   25% country equals X, industry in (2), employees >= n [indexed]
  20% territory in_territory T          [indexed]   15% industry in (3), source equals S                 [indexed]
  10% domain equals companyN.example    [indexed]   0.5% (at least 1) unindexed: score >= 9x, or an any-mode rule
  and a catch-all (no condition) last, targeting a team of every rep.
Leads draw their values from the same pools, so some match an early rule and some fall through to the catch-all.
Each lead's decide() runs twice inside one transaction that is rolled back: the first pass creates
rotation state and warms caches, the second is timed (ms per decision, queries per decision).
The ruleset compile (once per worker per configuration change) is timed separately.
Baseline: the same leads with 10 rules. Target: 10,000 rules <= 3x the time of 10 rules.
"""

import argparse
import json
import random
import statistics
import time

import _common as bench

TARGET_RATIO = 3.0
COUNTRIES = ["DE", "FR", "GB", "US", "IT", "ES", "NL", "BE", "AT", "CH", "PL", "SE", "DK", "NO", "FI", "IE", "PT",
             "CZ", "CA", "AU"]
INDUSTRIES = ["Software", "Retail", "Finance", "Health", "Manufacturing", "Logistics", "Energy", "Media", "Education",
              "Telecom", "Insurance", "Travel"]
SOURCES = ["web", "event", "partner", "referral", "outbound"]
POSTAL_POOL = [f"{n:05d}" for n in random.Random(7).sample(range(10000, 99999), 3000)]
DOMAIN_POOL = 6000


class Seed:
    rng = random.Random(42)


def create_territories():
    """A parent per country and five postal-prefix children each (120 territories); returns the children's names."""
    from reps.models import Territory

    parents = Territory.objects.bulk_create([Territory(name=f"{cc} all", countries=[cc]) for cc in COUNTRIES])
    children = Territory.objects.bulk_create([
        Territory(name=f"{parent.name[:2]} {digit}", parent=parent, countries=[parent.name[:2]], postal_codes=str(digit))
        for parent in parents for digit in range(1, 10, 2)
    ])
    return [child.name for child in children]


def create_org(rep_count):
    from reps.models import Rep, Team

    reps, teams = bench.create_reps(rep_count, team_size=10)
    everyone = Team.objects.create(name="Everyone")
    Membership = Rep.teams.through
    Membership.objects.bulk_create([Membership(rep_id=rep.pk, team_id=everyone.pk) for rep in reps])
    return teams, everyone, create_territories()


def rule_specs(count, territories, rng):
    """(match_mode, [(field, operator, value)]) per rule, catch-all excluded, in a shuffled priority order."""
    unindexed = max(1, round(count * 0.005))
    specs = []
    for number in range(count - 1 - unindexed):
        kind = number % 20
        if kind < 6:
            specs.append(("all", [("postal_code", "in", ",".join(rng.sample(POSTAL_POOL, 5)))]))
        elif kind < 11:
            specs.append(("all", [("country", "equals", rng.choice(COUNTRIES)),
                                  ("industry", "in", ",".join(rng.sample(INDUSTRIES, 2))),
                                  ("employee_count", "gte", str(rng.choice([50, 200, 500, 1000])))]))
        elif kind < 15:
            specs.append(("all", [("territory", "in_territory", rng.choice(territories))]))
        elif kind < 18:
            specs.append(("all", [("industry", "in", ",".join(rng.sample(INDUSTRIES, 3))),
                                  ("source", "equals", rng.choice(SOURCES))]))
        else:
            specs.append(("all", [("domain", "equals", f"company{rng.randrange(DOMAIN_POOL)}.example")]))
    for number in range(unindexed):
        if number % 2 == 0:
            specs.append(("all", [("score", "gte", str(rng.choice([95, 97, 99])))]))
        else:
            specs.append(("any", [("employee_count", "gte", "5000"), ("job_title", "contains", "Chief Bench Officer")]))
    rng.shuffle(specs)
    return specs


def create_rules(count, teams, everyone, territories):
    """Replaces all rules with `count` rules (the last one a catch-all) via bulk_create."""
    from django.db import connection

    from routing.models import RoutingRule, RuleCondition

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE routing_rulecondition, routing_rotationstate, routing_routingrule CASCADE")
    rng = random.Random(count)
    specs = rule_specs(count, territories, rng)
    rules = RoutingRule.objects.bulk_create(
        [RoutingRule(name=f"Rule {n}", priority=(n + 1) * 10, match_mode=mode, target_type=RoutingRule.TargetType.TEAM,
                     target_team=rng.choice(teams), strategy=RoutingRule.Strategy.ROUND_ROBIN)
         for n, (mode, _) in enumerate(specs)]
        + [RoutingRule(name="Catch-all", priority=(len(specs) + 1) * 10, target_type=RoutingRule.TargetType.TEAM,
                       target_team=everyone, strategy=RoutingRule.Strategy.ROUND_ROBIN)],
        batch_size=2000,
    )
    RuleCondition.objects.bulk_create(
        [RuleCondition(rule=rule, field=field, operator=operator, value=value)
         for rule, (_, conditions) in zip(rules, specs) for field, operator, value in conditions],
        batch_size=5000,
    )


def create_leads(count):
    from leads.models import Lead

    rng = random.Random(1)
    Lead.objects.bulk_create([
        Lead(email=f"buyer{n}@company{rng.randrange(DOMAIN_POOL * 2)}.example",
             domain=f"company{rng.randrange(DOMAIN_POOL * 2)}.example",
             country=rng.choice(COUNTRIES),
             postal_code=rng.choice(POSTAL_POOL) if rng.random() < 0.5 else f"{rng.randrange(10000, 99999)}",
             industry=rng.choice(INDUSTRIES), source=rng.choice(SOURCES), employee_count=rng.randrange(1, 2000),
             score=rng.randrange(0, 100), routing_requested_at=None)
        for n in range(count)
    ])
    return list(Lead.objects.order_by("id"))


def matching_ms(leads, ruleset):
    """Mean ms of the rule-matching part of decide (facts, index look-up, evaluate until the first match)."""
    from routing.facts import lead_facts

    started = time.perf_counter()
    for lead in leads:
        facts = lead_facts(lead, ruleset.territory_index)
        for compiled in ruleset.candidate_rules(facts):
            if compiled.evaluate(facts)[0]:
                break
    return (time.perf_counter() - started) * 1000 / len(leads)


def measure(leads):
    """(compile s, [ms per decision], queries per decision, catch-all share, rules tested, trace bytes, match ms)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from routing import ruleset as ruleset_module
    from routing.engine import decide

    ruleset_module._cache.__dict__.clear()  # a worker seeing the configuration change: compile from cold
    started = time.perf_counter()
    ruleset_module.current_ruleset()
    compile_seconds = time.perf_counter() - started

    timings, catch_all, tested, trace_bytes = [], 0, [], []
    with transaction.atomic():
        now = timezone.now()
        for lead in leads:  # warm-up pass: rotation state rows, plan caches
            decide(lead, ruleset=ruleset_module.current_ruleset(), now=now)
        queries = []

        def count(execute, sql, params, many, context):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            for lead in leads:
                started = time.perf_counter()
                decision = decide(lead, ruleset=ruleset_module.current_ruleset(), now=now)
                timings.append((time.perf_counter() - started) * 1000)
                catch_all += decision.rule is not None and decision.rule.name == "Catch-all"
                tested.append(len(decision.trace["rules"]))
                trace_bytes.append(len(json.dumps(decision.trace)))
        transaction.set_rollback(True)
    return (compile_seconds, timings, len(queries) / len(leads), catch_all / len(leads), statistics.fmean(tested),
            statistics.fmean(trace_bytes), matching_ms(leads, ruleset_module.current_ruleset()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=150)
    parser.add_argument("--rules", type=int, nargs="+", default=[10, 100, 1000, 10000])
    parser.add_argument("--reps", type=int, nargs="+", default=[10, 1000])
    parser.add_argument("--quick", action="store_true", help="a ~20 s smoke run (30 leads, up to 1,000 rules)")
    args = parser.parse_args()
    lead_count = 30 if args.quick else args.leads
    rule_counts = [n for n in args.rules if n <= 1000] if args.quick else args.rules
    bench.setup_django()
    started = time.monotonic()

    print(f"{'reps':>5} {'rules':>6} {'compile s':>9} {'ms/decision':>11} {'p50':>6} {'p99':>6} {'queries':>7}"
          f" {'catch-all':>9} {'rules tested':>12} {'trace kB':>8} {'match ms':>8}")
    results = {}
    for rep_count in args.reps:
        bench.reset_data()
        teams, everyone, territories = create_org(rep_count)
        leads = create_leads(lead_count)
        for rule_count in rule_counts:
            create_rules(rule_count, teams, everyone, territories)
            compile_s, timings, queries, catch_all, tested, trace, match = measure(leads)
            mean = statistics.fmean(timings)
            results[(rep_count, rule_count)] = mean
            print(f"{rep_count:>5} {rule_count:>6} {compile_s:>9.2f} {mean:>11.2f} {bench.percentile(timings, 50):>6.1f}"
                  f" {bench.percentile(timings, 99):>6.1f} {queries:>7.1f} {catch_all:>9.0%} {tested:>12.1f}"
                  f" {trace / 1024:>8.1f} {match:>8.2f}", flush=True)
    bench.reset_data()

    print("catch-all: share of leads placed by the last rule (targets every rep); rules tested: rules evaluated")
    print("per lead after the index; trace kB: JSON stored in RoutingDecision.trace per lead; match ms: facts +")
    print("index look-up + evaluating rules until the first match (the part that grows with the rule count).")
    print()
    low, high = min(rule_counts), max(rule_counts)
    for rep_count in args.reps:
        ratio = results[(rep_count, high)] / results[(rep_count, low)]
        print(f"{rep_count} reps: {high} rules vs {low} rules = x{ratio:.2f} (target <= {TARGET_RATIO:.0f}x)"
              f"  {bench.verdict(ratio <= TARGET_RATIO)}")
    print(f"(total run {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
