"""Sales managers get the permissions of the reps' status history, as of every model of our apps (the group got its
permissions before this model existed)."""

from django.db import migrations

from leadrouting.migration_permissions import grant_sales_managers


class Migration(migrations.Migration):
    dependencies = [
        ("reps", "0004_repstatuschange"),
        ("routing", "0002_groups"),
    ]

    operations = [migrations.RunPython(grant_sales_managers("reps", "repstatuschange"), migrations.RunPython.noop)]
