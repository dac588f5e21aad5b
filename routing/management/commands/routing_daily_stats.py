"""Computes the daily figures of the dashboard and the trends now, so that no page view waits for a backlog."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from leads.models import Lead
from routing.daily_stats import daily_stats_refresh, local_day, months_ended_within


class Command(BaseCommand):
    help = ("Recompute the dashboard's daily figures marked stale and sum the months that ended "
            "(after a migration, an import or a restore).")

    def handle(self, *args, **options):
        first = Lead.objects.order_by("created_at").values_list("created_at", flat=True).first()
        today = local_day(timezone.now())
        first_day = local_day(first) if first else today
        daily_stats_refresh(first_day=first_day, last_day=today, months=months_ended_within(first_day, today))
        self.stdout.write("Daily figures are current.")
