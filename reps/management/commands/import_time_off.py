import zoneinfo
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone

from reps.ical import RECURRENCE_WINDOW, IcsFileError, absences_from_ics
from reps.models import Rep
from reps.services import rep_import_time_off


class Command(BaseCommand):
    help = ("Adds a rep's time off from an iCalendar (.ics) export: each event's start, end and summary. "
            "Times without a time zone are read in the rep's. A recurring event adds its occurrences of the next "
            f"{RECURRENCE_WINDOW.days} days. An event that cannot be read is reported and the others are imported. "
            "Importing the same file again adds nothing.")

    def add_arguments(self, parser):
        parser.add_argument("rep", help="The rep's username or email address.")
        parser.add_argument("file", type=Path, help="The .ics file.")
        parser.add_argument("--dry-run", action="store_true", help="Show what would be added, change nothing.")

    def handle(self, *args, rep, file, dry_run, **options):
        found = list(Rep.objects.select_related("user").filter(Q(user__username=rep) | Q(user__email__iexact=rep))[:2])
        if len(found) != 1:
            raise CommandError(f"{'No' if not found else 'More than one'} rep has the username or email {rep!r}.")
        rep = found[0]
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {file}: {error}") from None
        try:
            absences, skipped = absences_from_ics(text, default_zone=zoneinfo.ZoneInfo(rep.time_zone),
                                                  now=timezone.now())
        except IcsFileError as error:
            raise CommandError(f"Cannot read {file}: {error}.") from None
        for event in skipped:
            uid = f", UID {event.uid}" if event.uid else ""
            self.stderr.write(f"Skipped the event at line {event.line} ({event.summary or 'no summary'}{uid}): "
                              f"{event.reason}.")
        for absence in absences:
            self.stdout.write(f"{absence.start.isoformat()} – {absence.end.isoformat()}  {absence.summary}")
        if dry_run:
            self.stdout.write(f"Dry run: {len(absences)} periods read for {rep.name}, nothing saved.")
            return
        try:
            added, existing = rep_import_time_off(rep=rep, absences=absences)
        except ValidationError as error:
            raise CommandError(f"Nothing imported: {'; '.join(error.messages)}") from None
        self.stdout.write(f"{rep.name}: {added} time off periods added, {existing} already there, "
                          f"{len(skipped)} events skipped.")
