# Each lead keeps the rep of its latest assignment (Lead.last_owner), so a manager's scope finds the
# unowned leads their reps left with an index instead of working out every unowned lead's latest
# assignment on every scoped page (reps.scoping, issue 14). Backfilled from the assignments in one
# statement; the index is built CONCURRENTLY so the upgrade does not lock leads_lead while it builds,
# hence not atomic.

import django.db.models.deletion
from django.db import migrations, models

from leadrouting.migration_operations import AddIndexWithoutLocking

# The rep of each lead's latest assignment, as reps.scoping read it before: newest created_at, then id.
POSTGRESQL_BACKFILL = """
UPDATE leads_lead AS lead SET last_owner_id = latest.rep_id
FROM (SELECT DISTINCT ON (lead_id) lead_id, rep_id FROM routing_assignment
      ORDER BY lead_id, created_at DESC, id DESC) AS latest
WHERE latest.lead_id = lead.id
"""
SQLITE_BACKFILL = """
UPDATE leads_lead SET last_owner_id = (
    SELECT rep_id FROM routing_assignment WHERE lead_id = leads_lead.id ORDER BY created_at DESC, id DESC LIMIT 1)
WHERE EXISTS (SELECT 1 FROM routing_assignment WHERE lead_id = leads_lead.id)
"""


def backfill_last_owner(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    schema_editor.execute(POSTGRESQL_BACKFILL if postgresql else SQLITE_BACKFILL)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("leads", "0011_queue_and_pool_indexes"),
        ("reps", "0006_rep_language"),
        ("routing", "0021_sales_managers_see_simulation_runs"),
    ]

    operations = [
        migrations.AddField(
            model_name="lead",
            name="last_owner",
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True,
                                    on_delete=django.db.models.deletion.PROTECT, related_name="+", to="reps.rep",
                                    verbose_name="last owner"),
        ),
        migrations.RunPython(backfill_last_owner, migrations.RunPython.noop, elidable=True),
        AddIndexWithoutLocking(
            model_name="lead",
            index=models.Index(condition=models.Q(("owner__isnull", True)), fields=["last_owner"],
                               name="lead_left_by_rep"),
        ),
    ]
