"""The daily figures summed by month, so the dashboard's 12 months read about 12 rows per group or rep, not 365.

No backfill: the first read that needs a month (or `manage.py routing_daily_stats`) sums it from the daily rows.
The daily tables' foreign keys lose the indexes no read uses (every read is by day).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('reps', '0006_rep_language'),
        ('routing', '0022_rep_set_members'),
    ]

    operations = [
        migrations.CreateModel(
            name='SummedMonth',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('month', models.DateField(unique=True)),
            ],
            options={
                'default_permissions': (),
            },
        ),
        migrations.AlterField(
            model_name='dailyassignmentstats',
            name='rep',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='reps.rep'),
        ),
        migrations.AlterField(
            model_name='dailyleadstats',
            name='owner',
            field=models.ForeignKey(db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='reps.rep'),
        ),
        migrations.AlterField(
            model_name='dailyleadstats',
            name='rule',
            field=models.ForeignKey(db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='routing.routingrule'),
        ),
        migrations.CreateModel(
            name='MonthlyAssignmentStats',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('assigned', models.PositiveIntegerField(default=0)),
                ('reassignments', models.PositiveIntegerField(default=0)),
                ('sla_reassigned', models.PositiveIntegerField(default=0)),
                ('month', models.DateField()),
                ('rep', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='reps.rep')),
            ],
            options={
                'default_permissions': (),
                'constraints': [models.UniqueConstraint(fields=('month', 'rep'), name='monthlyassignmentstats_month_rep')],
            },
        ),
        migrations.CreateModel(
            name='MonthlyLeadStats',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('rep_set', models.CharField(blank=True, max_length=400)),
                ('leads', models.PositiveIntegerField(default=0)),
                ('converted', models.PositiveIntegerField(default=0)),
                ('touched', models.PositiveIntegerField(default=0)),
                ('contacted_late', models.PositiveIntegerField(default=0)),
                ('sla_breached', models.PositiveIntegerField(default=0)),
                ('touched_within_1m', models.PositiveIntegerField(default=0)),
                ('touched_within_2m', models.PositiveIntegerField(default=0)),
                ('touched_within_5m', models.PositiveIntegerField(default=0)),
                ('touched_within_10m', models.PositiveIntegerField(default=0)),
                ('touched_within_15m', models.PositiveIntegerField(default=0)),
                ('touched_within_30m', models.PositiveIntegerField(default=0)),
                ('touched_within_1h', models.PositiveIntegerField(default=0)),
                ('touched_within_2h', models.PositiveIntegerField(default=0)),
                ('touched_within_4h', models.PositiveIntegerField(default=0)),
                ('touched_within_8h', models.PositiveIntegerField(default=0)),
                ('touched_within_1d', models.PositiveIntegerField(default=0)),
                ('touched_within_2d', models.PositiveIntegerField(default=0)),
                ('touched_within_1w', models.PositiveIntegerField(default=0)),
                ('touched_later', models.PositiveIntegerField(default=0)),
                ('month', models.DateField()),
                ('owner', models.ForeignKey(db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='reps.rep')),
                ('rule', models.ForeignKey(db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='routing.routingrule')),
            ],
            options={
                'default_permissions': (),
                'indexes': [models.Index(fields=['month'], name='monthlyleadstats_month')],
            },
        ),
    ]
