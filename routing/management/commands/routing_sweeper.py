import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils import timezone

from routing.backlog import backlog_requeue_due
from routing.jobs import schedule_trace_compaction, sweep_stale_leads
from routing.notifications import sla_send_reminders
from routing.reassignment import sla_reassign_overdue
from routing.simulation_runs import simulation_runs_sweep


class Command(BaseCommand):
    help = ("Wakes routing workers for leads that waited too long (lost Redis message, Redis outage), reassigns "
            "leads past their first-touch deadline, reminds owners before it, and retries leads waiting for an "
            "eligible rep, compacts old routing decisions (ROUTING_DECISION_TRACE_RETENTION_DAYS), fails simulation "
            "runs whose worker stopped and deletes old ones. Run one or more.")

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=max(1, settings.ROUTING_SWEEP_AFTER_SECONDS / 2))
        parser.add_argument("--once", action="store_true", help="Sweep once and exit.")

    def handle(self, *args, interval, once, **options):
        while True:
            close_old_connections()
            try:
                if sweep_stale_leads():
                    self.stdout.write("Woke routing workers for leads waiting too long.")
                if moved := sla_reassign_overdue(now=timezone.now()):
                    self.stdout.write(f"Reassigned or escalated {moved} leads past their first-touch deadline.")
                if reminded := sla_send_reminders(now=timezone.now()):
                    self.stdout.write(f"Reminded the owners of {reminded} leads close to their first-touch deadline.")
                if requeued := backlog_requeue_due(now=timezone.now()):
                    self.stdout.write(f"Queued {requeued} leads waiting for an eligible rep for routing again.")
                schedule_trace_compaction()
                if swept := simulation_runs_sweep(now=timezone.now()):
                    self.stdout.write(f"Failed or deleted {swept} simulation runs (stalled, or past their retention).")
            except Exception as error:  # noqa: BLE001 — the sweeper outlives database restarts
                self.stderr.write(f"Sweep failed, retrying: {error}")
            if once:
                return
            time.sleep(interval)
