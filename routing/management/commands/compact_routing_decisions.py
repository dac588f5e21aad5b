from django.core.management.base import BaseCommand
from django.utils import timezone

from routing.retention import COMPACT_BATCH, decision_traces_compact


class Command(BaseCommand):
    help = ("Compacts the traces of routing decisions older than ROUTING_DECISION_TRACE_RETENTION_DAYS: each keeps "
            "its outcome, rule, chosen rep and cause; the other rules and candidates are counted, no longer listed. "
            "routing_sweeper does this in small jobs; run this once after an upgrade or a lowered retention.")

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=COMPACT_BATCH, help="Decisions per transaction.")

    def handle(self, *args, batch_size, **options):
        compacted = decision_traces_compact(now=timezone.now(), batch_size=max(1, batch_size))
        self.stdout.write(f"Compacted the traces of {compacted} routing decisions.")
