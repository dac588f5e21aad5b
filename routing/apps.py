from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "routing"
    verbose_name = _("Routing")

    def ready(self):
        from routing import signals  # noqa: F401 — connects the receivers
        from routing.backlog import retry_backlog_when_capacity_frees
        from routing.checks import check_site_url_is_set
        from routing.events import LEAD_CLOSED, OWNER_CHANGED, REP_AVAILABLE, subscribe
        from routing.notifications import notify_owner_changes

        # Who reacts to a change of owner, a closed lead, a rep back: the writers know none of them.
        subscribe(OWNER_CHANGED, notify_owner_changes)
        for event in (OWNER_CHANGED, LEAD_CLOSED, REP_AVAILABLE):
            subscribe(event, retry_backlog_when_capacity_frees)
        checks.register(check_site_url_is_set, deploy=True)
