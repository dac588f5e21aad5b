from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "routing"
    verbose_name = _("Routing")

    def ready(self):
        from routing import signals  # noqa: F401 — connects the receivers
