"""The raw-SQL floor: one process routing leads with plain psycopg, the same writes as routing.services + engine.

Run by throughput.py and latency.py as `python bench/_floor.py <dsn> <rule_id> <template.json> [leads per transaction]`;
stopped with SIGTERM. With `rules` instead of a rule id (organisation_scale.py), `route_batch_rules`: every active
rule of the database, in priority order, as the engine would pick them, its running experiments, and each rule's
strategy; the decisions and events copy the app's, sample by sample (`_common.capture_floor_template`).

With more than one lead per transaction (`route_batch`), it does what routing.batch does for a
batch, in the best SQL we know: the claim, the same per-batch reads (accounts, the roster's token, and the
team's reps only when it moved, time off, open-lead counters, rule lock, rotation state), then one statement
per table, its rows as one JSON parameter (as leadrouting.row_writes writes them).

With one lead per transaction (`route_one`), how the app routed before it batched:
  claim the oldest pending lead (FOR UPDATE SKIP LOCKED), lock the rule row, read the rotation state,
  lock the chosen rep's row, count its open leads, insert the assignment, update the lead,
  insert the decision (with a trace and explanation of the same size as the app's), insert the
  lead event, move the rotation state.
Rows get clock_timestamp() as created_at, as the app stamps each row with timezone.now() when it saves it.
It waits for work on LISTEN lr_bench_leads (the inserter NOTIFYs on commit), like a worker woken by Redis.
"""

import hashlib
import json
import os
import socket
import sys
import time

import psycopg
from psycopg.types.json import Jsonb

CHANNEL = "lr_bench_leads"
OPEN_STATUSES = ("assigned", "accepted", "contacted", "qualified")


def route_one(cur, rule_id, template, worker) -> bool:
    started = time.perf_counter()
    cur.execute(
        "SELECT id FROM leads_lead WHERE routing_requested_at IS NOT NULL"
        " ORDER BY routing_requested_at, id LIMIT 1 FOR UPDATE SKIP LOCKED"
    )
    row = cur.fetchone()
    if row is None:
        return False
    lead_id = row[0]
    cur.execute("SELECT id, strategy FROM routing_routingrule WHERE id = %s FOR UPDATE", (rule_id,))
    strategy = cur.fetchone()[1]
    cur.execute(
        "SELECT id, rep_id FROM routing_rotationstate WHERE rule_id = %s ORDER BY last_assigned_seq, rep_id LIMIT 1",
        (rule_id,),
    )
    state_id, rep_id = cur.fetchone()
    cur.execute("SELECT id, max_open_leads FROM reps_rep WHERE id = %s FOR UPDATE", (rep_id,))
    cur.fetchone()
    cur.execute("SELECT count(*) FROM leads_lead WHERE owner_id = %s AND status = ANY(%s)", (rep_id, list(OPEN_STATUSES)))
    cur.fetchone()
    cur.execute(
        "INSERT INTO routing_assignment (lead_id, rep_id, rule_id, strategy, kind, reason, cause, is_current,"
        " experiment_group, created_at) VALUES (%s, %s, %s, %s, 'initial', %s, %s, true, '', clock_timestamp())"
        " RETURNING id",
        (lead_id, rep_id, rule_id, strategy, template["reason"], Jsonb(template.get("cause", {}))),
    )
    assignment_id = cur.fetchone()[0]
    cur.execute(
        "UPDATE leads_lead SET routing_requested_at = NULL, updated_at = now(), owner_id = %s, last_owner_id = %s,"
        " status = 'assigned', assigned_at = now(), pool_id = NULL WHERE id = %s",
        (rep_id, rep_id, lead_id),
    )
    cur.execute(
        "INSERT INTO routing_routingdecision (lead_id, outcome, rule_id, chosen_rep_id, assignment_id, trace,"
        " explanation, duration_ms, worker, experiment_group, created_at)"
        " VALUES (%s, 'assigned', %s, %s, %s, %s, %s, %s, %s, '', clock_timestamp())"
        " RETURNING id",
        (lead_id, rule_id, rep_id, assignment_id, Jsonb(template["trace"]), template["explanation"],
         (time.perf_counter() - started) * 1000, worker),
    )
    decision_id = cur.fetchone()[0]
    cur.execute(
        "INSERT INTO leads_leadevent (lead_id, kind, message, data, created_at) VALUES (%s, 'routed', %s, %s, clock_timestamp())",
        (lead_id, template["message"], Jsonb({**template.get("event_data", {}), "decision_id": decision_id})),
    )
    cur.execute(
        "UPDATE routing_rotationstate SET last_assigned_at = now(), assigned_count = assigned_count + 1,"
        " last_assigned_seq = (SELECT max(last_assigned_seq) FROM routing_rotationstate WHERE rule_id = %s) + 1"
        " WHERE id = %s",
        (rule_id, state_id),
    )
    return True


def _records(rows, columns):
    """Rows as one JSON parameter that jsonb_to_recordset unpacks into typed columns, as leadrouting.row_writes does.

    Returns (the FROM item, its columns as `v.name, ...`, the parameters); ORDER BY v.position keeps the rows' order.
    """
    names = [name for name, _cast in columns]
    definitions = ", ".join(f"{name} {cast}" for name, cast in columns)
    source = (f"ROWS FROM (jsonb_to_recordset(%s::jsonb) AS ({definitions}))"
              f" WITH ORDINALITY AS v({', '.join(names)}, position)")
    payload = json.dumps([dict(zip(names, row)) for row in rows], separators=(",", ":"))
    return source, ", ".join(f"v.{name}" for name in names), [payload]


def team_reps(cur, team_ids, kept):
    """team id -> {rep id: weight}, kept between batches while the roster's token stays (routing.roster)."""
    cur.execute("SELECT version FROM routing_rosterversion ORDER BY id LIMIT 1")
    row = cur.fetchone()
    version = row[0] if row else 0
    if kept.get("version") != version or not set(team_ids) <= kept.get("teams", {}).keys():
        cur.execute("SELECT t.team_id, r.* FROM reps_rep r JOIN reps_rep_teams t ON t.rep_id = r.id"
                    " WHERE t.team_id = ANY(%s)", (sorted(set(team_ids) | kept.get("teams", {}).keys()),))
        columns = [c.name for c in cur.description]
        teams = {team_id: {} for team_id in set(team_ids) | kept.get("teams", {}).keys()}
        for row in cur.fetchall():
            rep = dict(zip(columns[1:], row[1:]))
            teams[row[0]][rep["id"]] = float(rep["weight"])
        kept.update(version=version, teams=teams)
    return kept["teams"]


def _lock_pending_leads_and_read_accounts(cur, size) -> list:
    """The batch's first reads, as routing.batch makes them: lock up to `size` pending leads, read their accounts."""
    cur.execute(
        "SELECT * FROM leads_lead WHERE routing_requested_at IS NOT NULL"
        " ORDER BY routing_requested_at, id LIMIT %s FOR UPDATE SKIP LOCKED",
        (size,),
    )
    columns = [c.name for c in cur.description]
    leads = [dict(zip(columns, row)) for row in cur.fetchall()]
    if leads:
        domains = sorted({lead["email"].rsplit("@", 1)[1] for lead in leads if "@" in lead["email"]})
        cur.execute("SELECT d.*, a.* FROM leads_accountdomain d JOIN leads_account a ON a.id = d.account_id"
                    " WHERE d.domain = ANY(%s)", (domains,))
        cur.fetchall()
    return leads


def route_batch(cur, rule_id, template, worker, size, kept=None) -> int:
    """Up to `size` leads in one transaction: the reads and writes routing.batch does, each once per batch.

    `kept` holds the team's reps between batches, as a worker's routing.roster does.
    """
    started = time.perf_counter()
    leads = _lock_pending_leads_and_read_accounts(cur, size)
    if not leads:
        return 0
    cur.execute("SELECT target_team_id, strategy FROM routing_routingrule WHERE id = %s", (rule_id,))
    team_id, strategy = cur.fetchone()
    rep_ids = sorted(team_reps(cur, [team_id], kept if kept is not None else {})[team_id])
    cur.execute('SELECT rep_id, "end", reason FROM reps_timeoff WHERE start <= now() AND "end" > now()')
    cur.fetchall()
    cur.execute("SELECT rep_id, open_leads FROM routing_repload WHERE rep_id = ANY(%s)", (rep_ids,))
    cur.fetchall()
    cur.execute("SELECT rotation_seq FROM routing_routingrule WHERE id = %s FOR UPDATE", (rule_id,))
    sequence = cur.fetchone()[0]
    cur.execute("SELECT id, rep_id, last_assigned_seq, assigned_count FROM routing_rotationstate WHERE rule_id = %s",
                (rule_id,))
    states = {rep_id: [state_id, seq, count] for state_id, rep_id, seq, count in cur.fetchall()}

    owners = []
    for _lead in leads:  # round robin: the least recently assigned rep next
        rep_id = min(states, key=lambda r: (states[r][1], r))
        sequence += 1
        states[rep_id][1] = sequence
        states[rep_id][2] += 1
        owners.append(rep_id)
    cause = template.get("cause", {})
    source, values, params = _records(
        [(lead["id"], rep_id, rule_id, strategy, template["reason"], cause) for lead, rep_id in zip(leads, owners)],
        [("lead_id", "bigint"), ("rep_id", "bigint"), ("rule_id", "bigint"), ("strategy", "text"), ("reason", "text"),
         ("cause", "jsonb")])
    cur.execute("INSERT INTO routing_assignment (lead_id, rep_id, rule_id, strategy, reason, cause, kind, is_current,"
                " experiment_group, created_at)"
                f" SELECT {values}, 'initial', true, '', clock_timestamp() FROM {source} ORDER BY v.position"
                " RETURNING id", params)
    assignment_ids = [row[0] for row in cur.fetchall()]
    _lock_open_lead_counters(cur, owners)
    source, _values, params = _records([(lead["id"], rep_id) for lead, rep_id in zip(leads, owners)],
                                       [("id", "bigint"), ("owner", "bigint")])
    cur.execute("UPDATE leads_lead AS l SET routing_requested_at = NULL, updated_at = now(), owner_id = v.owner,"
                " last_owner_id = v.owner, status = 'assigned', assigned_at = now(), pool_id = NULL,"
                f" sla_due_at = now() + interval '15 minutes' FROM {source} WHERE l.id = v.id", params)
    duration = (time.perf_counter() - started) * 1000 / len(leads)
    source, values, params = _records(
        [(lead["id"], rule_id, rep_id, assignment_id, template["trace"], template["explanation"], duration, worker)
         for lead, rep_id, assignment_id in zip(leads, owners, assignment_ids)],
        [("lead_id", "bigint"), ("rule_id", "bigint"), ("chosen_rep_id", "bigint"), ("assignment_id", "bigint"),
         ("trace", "jsonb"), ("explanation", "text"), ("duration_ms", "float8"), ("worker", "text")])
    cur.execute("INSERT INTO routing_routingdecision (lead_id, rule_id, chosen_rep_id, assignment_id, trace,"
                " explanation, duration_ms, worker, outcome, experiment_group, created_at)"
                f" SELECT {values}, 'assigned', '', clock_timestamp() FROM {source} ORDER BY v.position RETURNING id",
                params)
    decision_ids = [row[0] for row in cur.fetchall()]
    event_data = template.get("event_data", {})
    source, values, params = _records(
        [(lead["id"], template["message"], {**event_data, "decision_id": decision_id})
         for lead, decision_id in zip(leads, decision_ids)],
        [("lead_id", "bigint"), ("message", "text"), ("data", "jsonb")])
    cur.execute("INSERT INTO leads_leadevent (lead_id, message, data, kind, created_at)"
                f" SELECT {values}, 'routed', clock_timestamp() FROM {source} ORDER BY v.position", params)
    source, _values, params = _records([tuple(state) for state in states.values()],
                                       [("id", "bigint"), ("seq", "bigint"), ("n", "integer")])
    cur.execute("UPDATE routing_rotationstate AS s SET last_assigned_at = now(), last_assigned_seq = v.seq,"
                f" assigned_count = v.n FROM {source} WHERE s.id = v.id", params)
    cur.execute("UPDATE routing_routingrule SET rotation_seq = %s WHERE id = %s", (sequence, rule_id))
    return len(leads)


def _lock_open_lead_counters(cur, rep_ids):
    """routing.ownership._rep_loads_lock: the counters of two reps or more, locked in rep order before the UPDATE."""
    if len(set(rep_ids)) > 1:
        cur.execute("INSERT INTO routing_repload (rep_id, open_leads) SELECT id, 0 FROM unnest(%s::bigint[]) AS id"
                    " ORDER BY id ON CONFLICT (rep_id) DO UPDATE SET open_leads = routing_repload.open_leads",
                    (sorted(set(rep_ids)),))


# --- rules mode: the organisation's rules, evaluated in plain Python --------------------------------

def _test(operator, value, fact):
    """The operators organisation.py's rules use; a fact that is missing never matches."""
    if fact is None or fact == "":
        return False
    if operator == "equals":
        return str(fact).lower() == value.lower()
    if operator == "in":
        return str(fact).lower() in {v.strip().lower() for v in value.split(",")}
    if operator == "starts_with":
        return str(fact).lower().startswith(value.lower())
    number, bounds = float(fact), value.split(",")
    if operator == "between":
        return float(bounds[0]) <= number <= float(bounds[1])
    return {"gt": number > float(value), "gte": number >= float(value), "lt": number < float(value),
            "lte": number <= float(value)}[operator]


def load_rules(cur):
    """Active rules in priority order with their conditions, target team or pool, and running experiment."""
    cur.execute("SELECT id, match_mode, target_type, target_team_id, pool_id, strategy, is_active"
                " FROM routing_routingrule ORDER BY priority, id")
    every = [dict(zip(("id", "mode", "target", "team", "pool", "strategy", "active"), row)) for row in cur.fetchall()]
    cur.execute("SELECT rule_id, field, operator, value FROM routing_rulecondition ORDER BY id")
    conditions = {}
    for rule_id, field, operator, value in cur.fetchall():
        conditions.setdefault(rule_id, []).append((field, operator, value))
    by_id = {rule["id"]: rule for rule in every}
    for rule in every:
        rule["conditions"] = conditions.get(rule["id"], [])
        rule["experiment"] = None
    cur.execute("SELECT id, control_rule_id, variant_rule_id, test_share FROM routing_routingexperiment"
                " WHERE status = 'running'")
    for experiment_id, control_id, variant_id, share in cur.fetchall():
        by_id[control_id]["experiment"] = {"id": experiment_id, "share": share, "variant": by_id[variant_id]}
    return [rule for rule in every if rule["active"]]


def _fact(lead, field):
    if field.startswith("attributes."):
        return (lead["attributes"] or {}).get(field.split(".", 1)[1])
    return lead.get(field)


def first_rule(rules, lead):
    for rule in rules:
        tests = [_test(op, value, _fact(lead, field)) for field, op, value in rule["conditions"]]
        if not tests or (all(tests) if rule["mode"] == "all" else any(tests)):
            return rule
    return None


def experiment_group(experiment, lead_id) -> str:
    """routing.experiment_split.experiment_group_for: a hash of the experiment's and the lead's ids."""
    digest = hashlib.blake2b(f"{experiment['id']}:{lead_id}".encode(), digest_size=8).digest()
    return "test" if int.from_bytes(digest, "big") % 100 < experiment["share"] else "control"


def _pick(strategy, states, weights, opens):
    """The rep the rule's strategy gives the next lead (routing.strategies, without the trace): its state moves."""
    if strategy == "least_loaded":
        rep_id = min(states, key=lambda r: (opens.get(r, 0), states[r][1], r))
    elif strategy == "weighted":  # stride scheduling: the lowest pass, a rep back from leave resumes near the others
        floor = max(s[3] for s in states.values()) - max(1 / weights[r] for r in states)
        rep_id = min(states, key=lambda r: (max(states[r][3], floor), -weights[r], states[r][1], r))
        states[rep_id][3] = max(states[rep_id][3], floor) + 1 / weights[rep_id]
    else:  # round robin: the least recently assigned
        rep_id = min(states, key=lambda r: (states[r][1], r))
    opens[rep_id] = opens.get(rep_id, 0) + 1
    return rep_id


def _sample(template, n):
    """The n-th of the app's decisions the template holds (their traces' sizes vary with the rule and team)."""
    samples = template.get("samples") or [template]
    return samples[n % len(samples)]


def route_batch_rules(cur, rules, template, worker, size, kept=None) -> int:
    """Up to `size` leads in one transaction: what routing.batch does for the organisation's rules, in raw SQL.

    Per batch: the claim, the accounts, the roster's token (the teams' reps are read again only when it moved,
    as a worker's routing.roster keeps them in `kept`), time off and the open-lead counters of every rep of the
    rules' teams; each lead's first matching rule and, under a running experiment, its group and the rule that
    places it; per rule used: the rule's lock, the rotation state, and for least loaded the counters again under
    the lock; the pick by the rule's strategy (round robin, weighted, least loaded); then one statement per
    table, its rows as one JSON parameter: assignments, the open-lead counters' lock
    (routing.ownership._rep_loads_lock), leads, decisions (with the app's traces, sample by sample), events,
    rotation state, rule sequences.
    """
    started = time.perf_counter()
    leads = _lock_pending_leads_and_read_accounts(cur, size)
    if not leads:
        return 0
    every_team = {rule["team"] for rule in _rules_and_variants(rules) if rule["target"] == "team"}
    teams = team_reps(cur, every_team, kept if kept is not None else {})
    every_rep = sorted({rep_id for team_id in every_team for rep_id in teams[team_id]})
    cur.execute('SELECT rep_id, "end", reason FROM reps_timeoff WHERE start <= now() AND "end" > now()'
                " AND rep_id = ANY(%s)", (every_rep,))
    cur.fetchall()
    cur.execute("SELECT rep_id, open_leads FROM routing_repload WHERE rep_id = ANY(%s)", (every_rep,))
    open_base, picked = dict(cur.fetchall()), {}
    matched = []  # (lead, the rule that matched, the rule that places it, experiment id, group)
    for lead in leads:
        rule = first_rule(rules, lead)
        placed_by, experiment, group = rule, None, ""
        if rule is not None and rule["experiment"] is not None:
            experiment = rule["experiment"]
            group = experiment_group(experiment, lead["id"])
            placed_by = experiment["variant"] if group == "test" else rule
        matched.append((lead, rule, placed_by, experiment["id"] if experiment else None, group))
    by_rule = {}
    for lead, _rule, placed_by, _experiment, _group in matched:
        if placed_by is not None and placed_by["target"] == "team":
            by_rule.setdefault(placed_by["id"], (placed_by, []))[1].append(lead)
    owners, sequences = {}, {}
    moved = []
    for rule_id, (rule, rule_leads) in sorted(by_rule.items()):
        weights = teams[rule["team"]]
        cur.execute("SELECT rotation_seq FROM routing_routingrule WHERE id = %s FOR UPDATE", (rule_id,))
        sequence = cur.fetchone()[0]
        cur.execute("SELECT id, rep_id, last_assigned_seq, assigned_count, virtual_pass FROM routing_rotationstate"
                    " WHERE rule_id = %s", (rule_id,))
        states = {rep_id: [state_id, seq, count, virtual_pass]
                  for state_id, rep_id, seq, count, virtual_pass in cur.fetchall() if rep_id in weights}
        if rule["strategy"] == "least_loaded":  # counted before the lock: another worker may have picked since
            cur.execute("SELECT rep_id, open_leads FROM routing_repload WHERE rep_id = ANY(%s)", (sorted(weights),))
            open_base.update(cur.fetchall())
        opens = {rep_id: open_base.get(rep_id, 0) + picked.get(rep_id, 0) for rep_id in weights}
        chosen = set()
        for lead in rule_leads:
            rep_id = _pick(rule["strategy"], states, weights, opens)
            picked[rep_id] = picked.get(rep_id, 0) + 1
            sequence += 1
            states[rep_id][1] = sequence
            states[rep_id][2] += 1
            owners[lead["id"]] = rep_id
            chosen.add(rep_id)
        sequences[rule_id] = sequence
        moved += [tuple(states[rep_id]) for rep_id in chosen]  # as the app: the states its picks moved
    assigned = [item for item in matched if item[0]["id"] in owners]
    pooled = [item for item in matched if item[0]["id"] not in owners]
    assignment_ids = {}
    if assigned:
        source, values, params = _records(
            [(lead["id"], owners[lead["id"]], rule["id"], placed_by["strategy"],
              _sample(template, lead["id"])["reason"], _sample(template, lead["id"]).get("cause", {}),
              experiment_id, group)
             for lead, rule, placed_by, experiment_id, group in assigned],
            [("lead_id", "bigint"), ("rep_id", "bigint"), ("rule_id", "bigint"), ("strategy", "text"),
             ("reason", "text"), ("cause", "jsonb"), ("experiment_id", "bigint"), ("experiment_group", "text")])
        cur.execute("INSERT INTO routing_assignment (lead_id, rep_id, rule_id, strategy, reason, cause, experiment_id,"
                    " experiment_group, kind, is_current, created_at)"
                    f" SELECT {values}, 'initial', true, clock_timestamp() FROM {source} ORDER BY v.position"
                    " RETURNING id, lead_id", params)
        assignment_ids = {lead_id: assignment_id for assignment_id, lead_id in cur.fetchall()}
        _lock_open_lead_counters(cur, owners.values())
        source, _values, params = _records([(lead["id"], owners[lead["id"]]) for lead, *_ in assigned],
                                           [("id", "bigint"), ("owner", "bigint")])
        cur.execute("UPDATE leads_lead AS l SET routing_requested_at = NULL, updated_at = now(), owner_id = v.owner,"
                    " last_owner_id = v.owner, status = 'assigned', assigned_at = now(), pool_id = NULL,"
                    f" sla_due_at = now() + interval '15 minutes' FROM {source} WHERE l.id = v.id", params)
    if pooled:
        source, _values, params = _records([(lead["id"], rule["pool"] if rule else None) for lead, rule, *_ in pooled],
                                           [("id", "bigint"), ("pool", "bigint")])
        cur.execute("UPDATE leads_lead AS l SET routing_requested_at = NULL, updated_at = now(), pool_id = v.pool"
                    f" FROM {source} WHERE l.id = v.id", params)
    duration = (time.perf_counter() - started) * 1000 / len(leads)
    source, values, params = _records(
        [(lead["id"], rule["id"] if rule else None, owners.get(lead["id"]), assignment_ids.get(lead["id"]),
          "assigned" if lead["id"] in owners else "pooled", _sample(template, lead["id"])["trace"],
          template["explanation"], duration, worker, experiment_id, group)
         for lead, rule, _placed_by, experiment_id, group in matched],
        [("lead_id", "bigint"), ("rule_id", "bigint"), ("chosen_rep_id", "bigint"), ("assignment_id", "bigint"),
         ("outcome", "text"), ("trace", "jsonb"), ("explanation", "text"), ("duration_ms", "float8"),
         ("worker", "text"), ("experiment_id", "bigint"), ("experiment_group", "text")],
    )
    cur.execute("INSERT INTO routing_routingdecision (lead_id, rule_id, chosen_rep_id, assignment_id, outcome, trace,"
                " explanation, duration_ms, worker, experiment_id, experiment_group, created_at)"
                f" SELECT {values}, clock_timestamp() FROM {source} ORDER BY v.position RETURNING id", params)
    decision_ids = [row[0] for row in cur.fetchall()]
    rows = []
    for (lead, *_), decision_id in zip(matched, decision_ids):
        sample = _sample(template, lead["id"])
        rows.append((lead["id"], sample["message"], {**sample.get("event_data", {}), "decision_id": decision_id}))
    source, values, params = _records(rows, [("lead_id", "bigint"), ("message", "text"), ("data", "jsonb")])
    cur.execute("INSERT INTO leads_leadevent (lead_id, message, data, kind, created_at)"
                f" SELECT {values}, 'routed', clock_timestamp() FROM {source} ORDER BY v.position", params)
    if moved:
        source, _values, params = _records(moved, [("id", "bigint"), ("seq", "bigint"), ("n", "integer"),
                                                   ("pass", "float8")])
        cur.execute("UPDATE routing_rotationstate AS s SET last_assigned_at = now(), last_assigned_seq = v.seq,"
                    f" assigned_count = v.n, virtual_pass = v.pass FROM {source} WHERE s.id = v.id", params)
    if sequences:
        source, _values, params = _records(list(sequences.items()), [("id", "bigint"), ("seq", "bigint")])
        cur.execute(f"UPDATE routing_routingrule AS r SET rotation_seq = v.seq FROM {source} WHERE r.id = v.id",
                    params)
    return len(leads)


def _rules_and_variants(rules):
    """The active rules and their running experiments' variants: every rule the engine may place a lead by."""
    return rules + [rule["experiment"]["variant"] for rule in rules if rule["experiment"] is not None]


def main():
    dsn, rule_id, template_path = sys.argv[1], sys.argv[2], sys.argv[3]
    rule_id = None if rule_id == "rules" else int(rule_id)
    leads_per_transaction = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    with open(template_path) as handle:
        template = json.load(handle)
    worker = f"floor:{socket.gethostname()}:{os.getpid()}"
    listener = psycopg.connect(dsn, autocommit=True)
    listener.execute(f"LISTEN {CHANNEL}")
    conn = psycopg.connect(dsn)
    rules, kept = None, {}  # kept: the teams' reps, between batches (routing.roster)
    if rule_id is None:
        with conn.cursor() as cur:
            rules = load_rules(cur)  # once, as a worker compiles the ruleset once per configuration version
        conn.commit()
    print("ready", flush=True)
    while True:
        with conn.cursor() as cur:
            if rules is not None:
                routed = route_batch_rules(cur, rules, template, worker, leads_per_transaction, kept)
            elif leads_per_transaction == 1:
                routed = route_one(cur, rule_id, template, worker)
            else:
                routed = route_batch(cur, rule_id, template, worker, leads_per_transaction, kept)
        conn.commit()
        if not routed:
            # Nothing claimable: sleep until the next NOTIFY (or 100 ms, in case one was missed).
            for _ in listener.notifies(timeout=0.1, stop_after=1):
                pass


if __name__ == "__main__":
    main()
