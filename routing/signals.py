"""Signals only enqueue: a new lead wakes the routing workers once its transaction commits."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from leads.models import Lead
from reps.models import Team, Territory
from routing.models import Pool, RoutingExperiment, RoutingRule, RuleCondition, RuleSkillRequirement
from routing.ruleset import bump_config_version


@receiver(post_save, sender=Lead, dispatch_uid="routing_wake_on_new_lead")
def wake_workers_for_new_lead(sender, instance, created, **kwargs):
    if created and instance.routing_requested_at is not None:
        from routing.jobs import wake_routing_workers

        transaction.on_commit(wake_routing_workers)


def _config_changed(sender, **kwargs):
    bump_config_version()


# Compiled rules are cached in each worker with the territory and team trees and the running experiments;
# any change to them invalidates the cache.
for model in (RoutingRule, RuleCondition, RuleSkillRequirement, Territory, Team, Pool, RoutingExperiment):
    post_save.connect(_config_changed, sender=model, dispatch_uid=f"routing_config_saved_{model.__name__}")
    post_delete.connect(_config_changed, sender=model, dispatch_uid=f"routing_config_deleted_{model.__name__}")
