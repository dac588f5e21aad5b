"""The two permission groups: sales managers configure everything, reps only read leads, accounts and reps."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MANAGED_APPS = ["reps", "leads", "routing"]
SALES_MANAGERS = "Sales managers"
REPS = "Reps"
# (app label, codename): reps work from their own queue pages, not from the configuration.
REP_PERMISSIONS = [("leads", "view_lead"), ("leads", "view_account"), ("reps", "view_rep")]
# Seeing every team is given to people one by one, never to the whole group (reps 0002 adds it;
# depending on the migration order it may already exist when this runs).
NOT_FOR_THE_GROUP = [("reps", "view_all_teams")]


def _create_all_permissions(apps, using):
    """Permissions are normally created after migrate; this migration needs them now."""
    for label in ["auth", "contenttypes", *MANAGED_APPS]:
        app_config = apps.get_app_config(label)
        models_module = getattr(app_config, "models_module", None)
        # Migration state apps have no models module, which create_permissions reads as "no models".
        app_config.models_module = models_module or True
        create_permissions(app_config, apps=apps, verbosity=0, using=using)
        app_config.models_module = models_module


def create_groups(apps, schema_editor):
    using = schema_editor.connection.alias
    _create_all_permissions(apps, using)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.using(using)

    managers, _ = Group.objects.using(using).get_or_create(name=SALES_MANAGERS)
    granted = (
        permissions.filter(content_type__app_label__in=MANAGED_APPS)
        | permissions.filter(content_type__app_label="auth", codename="view_user")
    )
    for app, codename in NOT_FOR_THE_GROUP:
        granted = granted.exclude(content_type__app_label=app, codename=codename)
    managers.permissions.set(granted)
    reps, _ = Group.objects.using(using).get_or_create(name=REPS)
    reps.permissions.set(
        [permissions.get(content_type__app_label=app, codename=codename) for app, codename in REP_PERMISSIONS]
    )


def remove_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name__in=[SALES_MANAGERS, REPS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("reps", "0001_initial"),
        ("leads", "0002_initial"),
        ("routing", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
