"""First-touch deadlines: how long a rep has to contact a lead before it is reassigned."""

import datetime as dt

from django.conf import settings


def sla_minutes_for(rule) -> int:
    """The rule's time to first touch, or the global default when the rule sets none (or there is no rule)."""
    if rule is not None and rule.sla_minutes:
        return rule.sla_minutes
    return settings.ROUTING_DEFAULT_SLA_MINUTES


def sla_deadline(*, rule, assigned_at: dt.datetime) -> dt.datetime:
    return assigned_at + dt.timedelta(minutes=sla_minutes_for(rule))
