"""Each rep's open leads as a counter kept by triggers on leads_lead, backfilled from the leads.

The capacity checks counted a rep's open leads on the lead table for every routing batch;
that count grows with the history (19 ms for 200 reps on a million leads, 3 ms on an empty
database). A trigger moves the counter in the transaction that changes the lead, whichever
code path (or raw SQL) changes it, so a rep's count is as exact as the COUNT was: a worker
that locks a capped rep and reads the counter sees every committed assignment.

The triggers are created and the counters backfilled in one transaction: CREATE TRIGGER locks
leads_lead against writes until it commits, so no change falls between the count and the trigger.
"""

import django.db.models.deletion
from django.db import migrations, models

# Lead.OPEN_STATUSES, as of this migration: a lead in one of these counts towards its owner's load.
OPEN = "('assigned', 'accepted', 'contacted', 'qualified')"
LEADS = "leads_lead"
LOADS = "routing_repload"

POSTGRESQL_CREATE = f"""
CREATE FUNCTION routing_rep_load_add(rep bigint, delta integer) RETURNS void LANGUAGE sql AS $$
    INSERT INTO {LOADS} (rep_id, open_leads) VALUES (rep, delta)
    ON CONFLICT (rep_id) DO UPDATE SET open_leads = {LOADS}.open_leads + EXCLUDED.open_leads
$$;
CREATE FUNCTION routing_rep_load_moved() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    was_open boolean := TG_OP <> 'INSERT' AND OLD.owner_id IS NOT NULL AND OLD.status IN {OPEN};
    is_open boolean := TG_OP <> 'DELETE' AND NEW.owner_id IS NOT NULL AND NEW.status IN {OPEN};
BEGIN
    -- Two reps' rows in ascending rep order, as routing.recording locks them, so two writers never deadlock.
    IF was_open AND is_open AND NEW.owner_id < OLD.owner_id THEN
        PERFORM routing_rep_load_add(NEW.owner_id, 1);
        PERFORM routing_rep_load_add(OLD.owner_id, -1);
        RETURN NULL;
    END IF;
    IF was_open THEN
        PERFORM routing_rep_load_add(OLD.owner_id, -1);
    END IF;
    IF is_open THEN
        PERFORM routing_rep_load_add(NEW.owner_id, 1);
    END IF;
    RETURN NULL;
END $$;
CREATE FUNCTION routing_rep_load_cleared() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE {LOADS} SET open_leads = 0 WHERE open_leads <> 0;
    RETURN NULL;
END $$;
CREATE TRIGGER routing_rep_load_inserted AFTER INSERT ON {LEADS} FOR EACH ROW
    WHEN (NEW.owner_id IS NOT NULL AND NEW.status IN {OPEN})
    EXECUTE FUNCTION routing_rep_load_moved();
-- Only updates that move a lead between reps or in or out of the open statuses: most status changes do neither.
CREATE TRIGGER routing_rep_load_updated AFTER UPDATE OF owner_id, status ON {LEADS} FOR EACH ROW
    WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id
          OR (OLD.status IN {OPEN}) IS DISTINCT FROM (NEW.status IN {OPEN}))
    EXECUTE FUNCTION routing_rep_load_moved();
CREATE TRIGGER routing_rep_load_deleted AFTER DELETE ON {LEADS} FOR EACH ROW
    WHEN (OLD.owner_id IS NOT NULL AND OLD.status IN {OPEN})
    EXECUTE FUNCTION routing_rep_load_moved();
CREATE TRIGGER routing_rep_load_truncated AFTER TRUNCATE ON {LEADS} FOR EACH STATEMENT
    EXECUTE FUNCTION routing_rep_load_cleared();
"""

POSTGRESQL_DROP = f"""
DROP TRIGGER routing_rep_load_inserted ON {LEADS};
DROP TRIGGER routing_rep_load_updated ON {LEADS};
DROP TRIGGER routing_rep_load_deleted ON {LEADS};
DROP TRIGGER routing_rep_load_truncated ON {LEADS};
DROP FUNCTION routing_rep_load_cleared();
DROP FUNCTION routing_rep_load_moved();
DROP FUNCTION routing_rep_load_add(bigint, integer);
"""

# SQLite (the one-command demo): row triggers, one per direction of the move.
SQLITE_ADD = (f"INSERT INTO {LOADS} (rep_id, open_leads) VALUES (NEW.owner_id, 1) "
              "ON CONFLICT(rep_id) DO UPDATE SET open_leads = open_leads + 1;")
SQLITE_REMOVE = f"UPDATE {LOADS} SET open_leads = open_leads - 1 WHERE rep_id = OLD.owner_id;"
SQLITE_MOVED = f"(OLD.owner_id IS NOT NEW.owner_id OR (OLD.status IN {OPEN}) IS NOT (NEW.status IN {OPEN}))"
SQLITE_TRIGGERS = {
    "routing_rep_load_inserted": f"AFTER INSERT ON {LEADS} WHEN NEW.owner_id IS NOT NULL AND NEW.status IN {OPEN} "
                                 f"BEGIN {SQLITE_ADD} END",
    "routing_rep_load_updated_from": f"AFTER UPDATE OF owner_id, status ON {LEADS} WHEN {SQLITE_MOVED} "
                                     f"AND OLD.owner_id IS NOT NULL AND OLD.status IN {OPEN} BEGIN {SQLITE_REMOVE} END",
    "routing_rep_load_updated_to": f"AFTER UPDATE OF owner_id, status ON {LEADS} WHEN {SQLITE_MOVED} "
                                   f"AND NEW.owner_id IS NOT NULL AND NEW.status IN {OPEN} BEGIN {SQLITE_ADD} END",
    "routing_rep_load_deleted": f"AFTER DELETE ON {LEADS} WHEN OLD.owner_id IS NOT NULL AND OLD.status IN {OPEN} "
                                f"BEGIN {SQLITE_REMOVE} END",
}

BACKFILL = f"""
INSERT INTO {LOADS} (rep_id, open_leads)
SELECT rep.id, count(lead.id) FROM reps_rep rep
LEFT JOIN {LEADS} lead ON lead.owner_id = rep.id AND lead.status IN {OPEN}
GROUP BY rep.id
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_CREATE)
    elif schema_editor.connection.vendor == "sqlite":
        for name, body in SQLITE_TRIGGERS.items():
            schema_editor.execute(f"CREATE TRIGGER {name} {body};")
    schema_editor.execute(BACKFILL)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_DROP)
    elif schema_editor.connection.vendor == "sqlite":
        for name in SQLITE_TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER {name};")


class Migration(migrations.Migration):

    dependencies = [
        ("reps", "0006_rep_language"),
        ("leads", "0009_intake_form_thank_you_in_the_visitors_language"),
        ("routing", "0013_rule_config_trigger_per_row"),
    ]

    operations = [
        migrations.CreateModel(
            name="RepLoad",
            fields=[
                ("rep", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True,
                                             related_name="load", serialize=False, to="reps.rep")),
                ("open_leads", models.IntegerField(default=0)),
            ],
            options={"default_permissions": ()},
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
