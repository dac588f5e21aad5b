"""Signals only enqueue: a new lead wakes the routing workers once its transaction commits."""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from leads.models import Lead


@receiver(post_save, sender=Lead, dispatch_uid="routing_wake_on_new_lead")
def wake_workers_for_new_lead(sender, instance, created, **kwargs):
    if created and instance.routing_requested_at is not None:
        from routing.jobs import wake_routing_workers

        transaction.on_commit(wake_routing_workers)


# The compiled rules cached in each worker are invalidated by triggers in PostgreSQL, not by signals here:
# see routing/migrations/0011_config_version_triggers.py.
