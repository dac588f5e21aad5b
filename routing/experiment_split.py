"""Which group of a running A/B experiment a lead joins, and which rule places that group: read by the engine."""

import hashlib

from routing.models import RoutingExperiment, RoutingRule

Group = RoutingExperiment.Group


def experiment_group_for(experiment: RoutingExperiment, lead_id: int) -> str:
    """"test" when the lead's bucket (0-99) is below the test share, else "control".

    The bucket is a hash of the experiment's and the lead's ids: the same lead always lands
    in the same group of an experiment (routed again, it stays there), consecutive leads do
    not simply alternate, and two experiments split independently of each other.
    """
    digest = hashlib.blake2b(f"{experiment.pk}:{lead_id}".encode(), digest_size=8).digest()
    bucket = int.from_bytes(digest, "big") % 100
    return Group.TEST if bucket < experiment.test_share else Group.CONTROL


def group_share(experiment: RoutingExperiment, group: str) -> int:
    """The group's percentage of the leads."""
    return experiment.test_share if group == Group.TEST else 100 - experiment.test_share


def placing_rule(experiment: RoutingExperiment, group: str) -> RoutingRule:
    """The rule whose target and strategy place the group's leads."""
    return experiment.variant_rule if group == Group.TEST else experiment.control_rule
