"""Used by migrations: a model added after the groups were made gets the Sales managers' permissions too.

The group holds every permission of our apps (routing/migrations/0002_groups.py), but permissions are created only
after `migrate`: a migration that adds a model grants its permissions with this, in the same run.
"""

from django.contrib.auth.management import create_permissions

SALES_MANAGERS = "Sales managers"


def grant_sales_managers(app_label: str, model_name: str):
    """A RunPython function giving the Sales managers group every permission of one model."""

    def grant(apps, schema_editor):
        using = schema_editor.connection.alias
        app_config = apps.get_app_config(app_label)
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True  # migration state apps have none: "no models" otherwise
        create_permissions(app_config, apps=apps, verbosity=0, using=using)
        app_config.models_module = models_module
        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
        managers = Group.objects.using(using).filter(name=SALES_MANAGERS).first()
        if managers is not None:
            managers.permissions.add(
                *Permission.objects.using(using).filter(content_type__app_label=app_label,
                                                        content_type__model=model_name)
            )

    return grant
