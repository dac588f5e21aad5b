from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RepsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reps"
    verbose_name = _("Organisation")
