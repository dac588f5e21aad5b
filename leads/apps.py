from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "leads"
    verbose_name = _("Leads")

    def ready(self):
        from leads.checks import check_rate_limit_cache_is_shared

        checks.register(check_rate_limit_cache_is_shared, checks.Tags.caches, deploy=True)
