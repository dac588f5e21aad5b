"""Signals only enqueue: a new lead wakes the routing workers once its transaction commits."""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from leads.models import Lead, LeadEvent


@receiver(post_save, sender=Lead, dispatch_uid="routing_wake_on_new_lead")
def wake_workers_for_new_lead(sender, instance, created, **kwargs):
    if created and instance.routing_requested_at is not None:
        from routing.jobs import wake_routing_workers

        transaction.on_commit(wake_routing_workers)


@receiver(post_save, sender=Lead, dispatch_uid="routing_backlog_on_closed_lead")
def retry_backlog_when_a_lead_closes(sender, instance, created, update_fields=None, **kwargs):
    """A lead saved as converted or lost frees its owner's capacity (the admin, imports)."""
    if instance.status in Lead.CLOSED_STATUSES and (update_fields is None or "status" in update_fields):
        from routing.backlog import on_capacity_freed

        on_capacity_freed()


@receiver(post_save, sender=LeadEvent, dispatch_uid="routing_backlog_on_close_event")
def retry_backlog_when_a_close_is_recorded(sender, instance, created, **kwargs):
    """leads.lifecycle closes leads with QuerySet.update(); its "status" timeline row says so."""
    if created and instance.kind == LeadEvent.Kind.STATUS and (instance.data or {}).get("to") in Lead.CLOSED_STATUSES:
        from routing.backlog import on_capacity_freed

        on_capacity_freed()

# The compiled rules cached in each worker are invalidated by triggers in PostgreSQL, not by signals here:
# see routing/migrations/0009_config_version_triggers.py.
