"""Sales managers get the permissions of API submissions, as of every model of our apps (the group got its
permissions before this model existed)."""

from django.db import migrations

from leadrouting.migration_permissions import grant_sales_managers


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0006_api_submissions_and_routing_scope"),
        ("routing", "0002_groups"),
    ]

    operations = [migrations.RunPython(grant_sales_managers("leads", "apisubmission"), migrations.RunPython.noop)]
