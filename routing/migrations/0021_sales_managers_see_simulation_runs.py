"""Sales managers get the permissions of simulation runs, as of every model of our apps (the group got its permissions
before this model existed)."""

from django.db import migrations

from leadrouting.migration_permissions import grant_sales_managers


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0020_simulation_runs"),
    ]

    operations = [migrations.RunPython(grant_sales_managers("routing", "simulationrun"), migrations.RunPython.noop)]
