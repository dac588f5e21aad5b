"""The reps of each rep set of the daily lead figures, so a team's figures are a join, not a regex over every row.

The rows already computed get their sets' members here, in one statement; the days recomputed later
add theirs (routing.daily_stats). SQLite recomputes every day it reads, so it needs no backfill.
"""

import django.db.models.deletion
from django.db import migrations, models

POSTGRESQL_BACKFILL = """
INSERT INTO routing_repsetmember (rep_set, rep_id)
SELECT sets.rep_set, member::integer
FROM (SELECT DISTINCT rep_set FROM routing_dailyleadstats WHERE rep_set <> '') sets,
     unnest(string_to_array(trim(BOTH ',' FROM sets.rep_set), ',')) AS member
ON CONFLICT DO NOTHING
"""


def backfill(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_BACKFILL)


class Migration(migrations.Migration):

    dependencies = [
        ('reps', '0006_rep_language'),
        ('routing', '0021_sales_managers_see_simulation_runs'),
    ]

    operations = [
        migrations.CreateModel(
            name='RepSetMember',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('rep_set', models.CharField(max_length=400)),
                ('rep', models.ForeignKey(db_constraint=False, db_index=False,
                                          on_delete=django.db.models.deletion.DO_NOTHING, related_name='+',
                                          to='reps.rep')),
            ],
            options={
                'default_permissions': (),
                'constraints': [models.UniqueConstraint(fields=('rep', 'rep_set'), name='repsetmember_rep_rep_set')],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
