# compact_routing_decisions (routing.retention) finds the oldest decisions whose trace is not
# compacted yet through this partial index; it shrinks as decisions are compacted. CONCURRENTLY,
# so an upgrade does not lock the decisions table while it builds, hence not atomic.

from django.db import migrations, models

from leadrouting.migration_operations import AddIndexWithoutLocking


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("routing", "0015_admin_list_indexes"),
    ]

    operations = [
        AddIndexWithoutLocking(
            model_name="routingdecision",
            index=models.Index(fields=["created_at"], name="decision_trace_to_compact",
                               condition=~models.Q(trace__has_key="compacted")),
        ),
    ]
