import django.db.models.constraints
from django.db import migrations, models


def separate_shared_priorities(apps, schema_editor):
    """Rules that share a priority move down just enough to get their own, in the order the engine ran them.

    The engine ordered rules by (priority, id), so a rule only moves behind the one it already followed;
    rules after it move only when they would now collide.
    """
    RoutingRule = apps.get_model("routing", "RoutingRule")
    previous = None
    for rule in RoutingRule.objects.order_by("priority", "id").only("pk", "priority"):
        if previous is not None and rule.priority <= previous:
            rule.priority = previous + 1
            rule.save(update_fields=["priority"])
        previous = rule.priority


class Migration(migrations.Migration):

    dependencies = [
        ('reps', '0006_rep_language'),
        ('routing', '0009_assignment_cause_from_reason'),
    ]

    operations = [
        migrations.RunPython(separate_shared_priorities, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='routingrule',
            name='priority',
            field=models.PositiveIntegerField(default=0, help_text='Lower runs first.', verbose_name='priority'),
        ),
        migrations.AddConstraint(
            model_name='routingrule',
            constraint=models.UniqueConstraint(deferrable=django.db.models.constraints.Deferrable['DEFERRED'], fields=('priority',), name='routing_rule_unique_priority'),
        ),
    ]
