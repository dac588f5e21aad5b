"""The helpers the lead triggers call (the open-lead counter's, the daily figures' stale mark) become PL/pgSQL.

They were SQL functions: PostgreSQL plans a SQL function's statement again in every transaction
that calls it (its plan lives in the calling expression's state, not the session), so each routing
transaction re-planned an INSERT ... ON CONFLICT two to five times: the counter of the new owner
(routing 0014) and the stale hours of the lead and its assignment (routing 0017). A PL/pgSQL
function keeps its statements' plans for the session, and a worker's session routes thousands of
leads. Same statements, same results; only where their plans live changes.
"""

from django.db import migrations

LOADS = "routing_repload"

POSTGRESQL_FORWARD = f"""
CREATE OR REPLACE FUNCTION routing_rep_load_add(rep bigint, delta integer) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {LOADS} (rep_id, open_leads) VALUES (rep, delta)
    ON CONFLICT (rep_id) DO UPDATE SET open_leads = {LOADS}.open_leads + EXCLUDED.open_leads;
END $$;
CREATE OR REPLACE FUNCTION routing_daily_stats_mark(at timestamptz) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO routing_dailystatsstalehour (hour, transaction_id) VALUES (date_trunc('hour', at), txid_current())
    ON CONFLICT DO NOTHING;
END $$;
"""

# As routing 0014 and 0017 created them.
POSTGRESQL_BACKWARD = f"""
CREATE OR REPLACE FUNCTION routing_rep_load_add(rep bigint, delta integer) RETURNS void LANGUAGE sql AS $$
    INSERT INTO {LOADS} (rep_id, open_leads) VALUES (rep, delta)
    ON CONFLICT (rep_id) DO UPDATE SET open_leads = {LOADS}.open_leads + EXCLUDED.open_leads
$$;
CREATE OR REPLACE FUNCTION routing_daily_stats_mark(at timestamptz) RETURNS void LANGUAGE sql AS $$
    INSERT INTO routing_dailystatsstalehour (hour, transaction_id) VALUES (date_trunc('hour', at), txid_current())
    ON CONFLICT DO NOTHING
$$;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_BACKWARD)


class Migration(migrations.Migration):

    dependencies = [("routing", "0023_monthly_stats")]

    operations = [migrations.RunPython(forward, backward)]
