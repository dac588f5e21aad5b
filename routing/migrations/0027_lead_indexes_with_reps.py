# A scoped sales manager's count of assignments or decisions ("to, from or of a lead of my teams", reps.scoping)
# read every row's heap until 10,001 matched: for one team of twenty, 220,000 decisions of 2 kB of trace each
# (200 ms). The lead's index with the reps the scope tests lets the count read the index alone, in its order
# (leadrouting.pagination.CappedCountPaginator.count_order): 40 ms. These indexes replace the foreign keys' own
# indexes on lead, which they serve as well. Built CONCURRENTLY before the old ones are dropped; hence not atomic.

import django.db.models.deletion
from django.db import migrations, models

from leadrouting.migration_operations import AddIndexWithoutLocking, foreign_key_index_drop


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("leads", "0014_lead_owner_index_with_id"),
        ("routing", "0026_roster_version"),
    ]

    operations = [
        AddIndexWithoutLocking(
            model_name="assignment",
            index=models.Index(fields=["lead"], include=("rep", "from_rep"), name="assignment_lead_reps"),
        ),
        AddIndexWithoutLocking(
            model_name="routingdecision",
            index=models.Index(fields=["lead"], include=("chosen_rep",), name="decision_lead_rep"),
        ),
        *[
            migrations.SeparateDatabaseAndState(
                state_operations=[
                    migrations.AlterField(
                        model_name=model_name,
                        name="lead",
                        field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                                related_name=related_name, to="leads.lead", verbose_name="lead"),
                    ),
                ],
                database_operations=[migrations.RunPython(*foreign_key_index_drop("routing", model_name, "lead"))],
            )
            for model_name, related_name in (("assignment", "assignments"), ("routingdecision", "decisions"))
        ],
    ]
