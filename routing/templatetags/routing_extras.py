"""Small filters for the routing pages: who the user is, and numbers people read."""

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from reps import scoping

register = template.Library()


@register.filter
def is_sales_manager(user) -> bool:
    return scoping.is_sales_manager(user)


@register.filter
def has_rep(user) -> bool:
    return scoping.rep_for(user) is not None


@register.filter
def duration(value) -> str:
    """A timedelta as "45 s", "12 min" or "3 h 5 min"; an em dash for none."""
    if value is None:
        return "—"
    seconds = int(value.total_seconds())
    if seconds < 60:
        return _("%(s)s s") % {"s": seconds}
    minutes = seconds // 60
    if minutes < 60:
        return _("%(m)s min") % {"m": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _("%(h)s h %(m)s min") % {"h": hours, "m": minutes}
    return _("%(d)s days") % {"d": hours // 24}


@register.filter
def percent(value) -> str:
    return "—" if value is None else f"{value * 100:.0f} %"


@register.filter
def count(value) -> str:
    """A whole number grouped as the reader's language groups it: 100,000 / 100.000."""
    return number_format(value, force_grouping=True)
