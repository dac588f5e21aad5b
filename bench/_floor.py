"""The raw-SQL floor: one process routing leads with plain psycopg, the same writes as routing.services + engine.

Run by throughput.py and latency.py as `python bench/_floor.py <dsn> <rule_id> <template.json>`; stopped with SIGTERM.
Per lead, one transaction (what services.route_pending_leads + engine.decide + services._record write):
  claim the oldest pending lead (FOR UPDATE SKIP LOCKED), lock the rule row, read the rotation state,
  lock the chosen rep's row, count its open leads, insert the assignment, update the lead,
  insert the decision (with a trace and explanation of the same size as the app's), insert the
  lead event, move the rotation state.
Rows get clock_timestamp() as created_at, as the app stamps each row with timezone.now() when it saves it.
It waits for work on LISTEN lr_bench_leads (the inserter NOTIFYs on commit), like a worker woken by Redis.
"""

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
        "INSERT INTO routing_assignment (lead_id, rep_id, rule_id, strategy, kind, reason, is_current, created_at)"
        " VALUES (%s, %s, %s, %s, 'initial', %s, true, clock_timestamp()) RETURNING id",
        (lead_id, rep_id, rule_id, strategy, template["reason"]),
    )
    assignment_id = cur.fetchone()[0]
    cur.execute(
        "UPDATE leads_lead SET routing_requested_at = NULL, updated_at = now(), owner_id = %s, status = 'assigned',"
        " assigned_at = now(), pool_id = NULL WHERE id = %s",
        (rep_id, lead_id),
    )
    cur.execute(
        "INSERT INTO routing_routingdecision (lead_id, outcome, rule_id, chosen_rep_id, assignment_id, trace,"
        " explanation, duration_ms, worker, created_at) VALUES (%s, 'assigned', %s, %s, %s, %s, %s, %s, %s, clock_timestamp())"
        " RETURNING id",
        (lead_id, rule_id, rep_id, assignment_id, Jsonb(template["trace"]), template["explanation"],
         (time.perf_counter() - started) * 1000, worker),
    )
    decision_id = cur.fetchone()[0]
    cur.execute(
        "INSERT INTO leads_leadevent (lead_id, kind, message, data, created_at) VALUES (%s, 'routed', %s, %s, clock_timestamp())",
        (lead_id, template["message"], Jsonb({"decision_id": decision_id})),
    )
    cur.execute(
        "UPDATE routing_rotationstate SET last_assigned_at = now(), assigned_count = assigned_count + 1,"
        " last_assigned_seq = (SELECT max(last_assigned_seq) FROM routing_rotationstate WHERE rule_id = %s) + 1"
        " WHERE id = %s",
        (rule_id, state_id),
    )
    return True


def main():
    dsn, rule_id, template_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(template_path) as handle:
        template = json.load(handle)
    worker = f"floor:{socket.gethostname()}:{os.getpid()}"
    listener = psycopg.connect(dsn, autocommit=True)
    listener.execute(f"LISTEN {CHANNEL}")
    conn = psycopg.connect(dsn)
    print("ready", flush=True)
    while True:
        with conn.cursor() as cur:
            routed = route_one(cur, rule_id, template, worker)
        conn.commit()
        if not routed:
            # Nothing claimable: sleep until the next NOTIFY (or 100 ms, in case one was missed).
            for _ in listener.notifies(timeout=0.1, stop_after=1):
                pass


if __name__ == "__main__":
    main()
