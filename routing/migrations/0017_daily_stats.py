"""The per-day figures of the dashboard and the trends (routing.daily_stats), and the triggers that mark them stale.

Every writer of leads and assignments (the engine, the owner-change writer, the lifecycle, the admin,
bulk updates, raw SQL) changes the figures, so the database marks the hours it touched itself: one
row per transaction and hour (ON CONFLICT DO NOTHING), so concurrent writers never wait for each
other. The existing history is marked stale once here; the first read (or `manage.py
routing_daily_stats`) computes it. SQLite has no marks: there every read recomputes its days.
"""

import django.db.models.deletion
from django.db import migrations, models


MARK = "routing_daily_stats_mark"
POSTGRESQL_CREATE = f"""
CREATE FUNCTION {MARK}(at timestamptz) RETURNS void LANGUAGE sql AS $$
    INSERT INTO routing_dailystatsstalehour (hour, transaction_id) VALUES (date_trunc('hour', at), txid_current())
    ON CONFLICT DO NOTHING
$$;
CREATE FUNCTION routing_daily_stats_lead_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN PERFORM {MARK}(OLD.created_at); END IF;
    IF TG_OP <> 'DELETE' AND NEW.created_at IS NOT NULL THEN PERFORM {MARK}(NEW.created_at); END IF;
    RETURN NULL;
END $$;
CREATE FUNCTION routing_daily_stats_assignment_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE changed routing_assignment;
BEGIN
    changed := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    -- The day of the assignment (distribution, reassignments) and the day of its lead (rep set, rule).
    PERFORM {MARK}(changed.created_at);
    PERFORM {MARK}(created_at) FROM leads_lead WHERE id = changed.lead_id;
    RETURN NULL;
END $$;
CREATE TRIGGER routing_daily_stats_lead_written AFTER INSERT OR DELETE ON leads_lead
    FOR EACH ROW EXECUTE FUNCTION routing_daily_stats_lead_changed();
-- Only the columns the figures read: the engine's queue bookkeeping (routing_requested_at, attempts) marks nothing.
CREATE TRIGGER routing_daily_stats_lead_updated AFTER UPDATE ON leads_lead
    FOR EACH ROW WHEN ((OLD.owner_id, OLD.status, OLD.first_touch_at, OLD.sla_due_at, OLD.created_at)
                       IS DISTINCT FROM (NEW.owner_id, NEW.status, NEW.first_touch_at, NEW.sla_due_at, NEW.created_at))
    EXECUTE FUNCTION routing_daily_stats_lead_changed();
CREATE TRIGGER routing_daily_stats_assignment_written AFTER INSERT OR UPDATE OR DELETE ON routing_assignment
    FOR EACH ROW EXECUTE FUNCTION routing_daily_stats_assignment_changed();
INSERT INTO routing_dailystatsstalehour (hour, transaction_id)
    SELECT DISTINCT date_trunc('hour', created_at), 0 FROM leads_lead
    UNION SELECT DISTINCT date_trunc('hour', created_at), 0 FROM routing_assignment;
"""
POSTGRESQL_DROP = f"""
DROP TRIGGER routing_daily_stats_lead_written ON leads_lead;
DROP TRIGGER routing_daily_stats_lead_updated ON leads_lead;
DROP TRIGGER routing_daily_stats_assignment_written ON routing_assignment;
DROP FUNCTION routing_daily_stats_lead_changed();
DROP FUNCTION routing_daily_stats_assignment_changed();
DROP FUNCTION {MARK}(timestamptz);
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_CREATE)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_DROP)


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0009_intake_form_thank_you_in_the_visitors_language'),
        ('reps', '0006_rep_language'),
        ("routing", "0016_decision_trace_to_compact"),
    ]

    operations = [
        migrations.CreateModel(
            name='DailyStatsStaleHour',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('hour', models.DateTimeField()),
                ('transaction_id', models.BigIntegerField()),
            ],
            options={
                'default_permissions': (),
                'constraints': [models.UniqueConstraint(fields=('hour', 'transaction_id'), name='dailystatsstalehour_one_per_transaction')],
            },
        ),
        migrations.CreateModel(
            name='DailyAssignmentStats',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('assigned', models.PositiveIntegerField(default=0)),
                ('reassignments', models.PositiveIntegerField(default=0)),
                ('sla_reassigned', models.PositiveIntegerField(default=0)),
                ('rep', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='reps.rep')),
            ],
            options={
                'default_permissions': (),
                'constraints': [models.UniqueConstraint(fields=('day', 'rep'), name='dailyassignmentstats_day_rep')],
            },
        ),
        migrations.CreateModel(
            name='DailyLeadStats',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
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
                ('owner', models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='reps.rep')),
                ('rule', models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='routing.routingrule')),
            ],
            options={
                'default_permissions': (),
                'indexes': [models.Index(fields=['day'], name='dailyleadstats_day')],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
