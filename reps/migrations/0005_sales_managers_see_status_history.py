"""Sales managers get the permissions of the reps' status history, as of every model of our apps (the group got its
permissions before this model existed)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SALES_MANAGERS = "Sales managers"


def grant(apps, schema_editor):
    using = schema_editor.connection.alias
    app_config = apps.get_app_config("reps")
    models_module = getattr(app_config, "models_module", None)
    app_config.models_module = models_module or True  # migration state apps have none: "no models" otherwise
    create_permissions(app_config, apps=apps, verbosity=0, using=using)
    app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    managers = Group.objects.using(using).filter(name=SALES_MANAGERS).first()
    if managers is not None:
        managers.permissions.add(
            *Permission.objects.using(using).filter(content_type__app_label="reps", content_type__model="repstatuschange")
        )


class Migration(migrations.Migration):
    dependencies = [
        ("reps", "0004_repstatuschange"),
        ("routing", "0002_groups"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
