"""First-touch deadlines: how long a rep has to contact a lead before it is reassigned."""

import datetime as dt

from django.conf import settings

from reps.availability import add_working_time


def sla_minutes_for(rule) -> int:
    """The rule's time to first touch, or the global default when the rule sets none (or there is no rule)."""
    if rule is not None and rule.sla_minutes:
        return rule.sla_minutes
    return settings.ROUTING_DEFAULT_SLA_MINUTES


def sla_deadline(*, rule, assigned_at: dt.datetime, rep=None) -> dt.datetime:
    """When the first touch is due; in the rep's working time when the rule says so and the rep has a calendar."""
    minutes = sla_minutes_for(rule)
    if rule is not None and rule.sla_working_time_only and rep is not None and rep.calendar_id:
        due = add_working_time(rep, start=assigned_at, minutes=minutes)
        if due is not None:
            return due
    return assigned_at + dt.timedelta(minutes=minutes)
