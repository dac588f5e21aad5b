# The admin's audit lists on a year of data (issue 14): their default order, newest first, read
# from an index instead of sorting a million rows (2.6 s -> 7 ms measured). Built CONCURRENTLY so
# an upgrade does not lock the tables while they build, hence not atomic.

from django.db import migrations, models

from leadrouting.migration_operations import AddIndexWithoutLocking


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("routing", "0014_rep_load_counter"),
    ]

    operations = [
        # The admin's assignments list, newest first, and its date filter.
        AddIndexWithoutLocking(
            model_name="assignment",
            index=models.Index(fields=["-created_at", "-id"], name="assignment_created"),
        ),
        # The admin's routing decisions list, newest first, and its date filter.
        AddIndexWithoutLocking(
            model_name="routingdecision",
            index=models.Index(fields=["-created_at", "-id"], name="decision_created"),
        ),
    ]
