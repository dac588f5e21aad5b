"""manage.py routing_check_loads [--fix]"""

from django.core.management.base import BaseCommand, CommandError

from routing.capacity import rep_load_mismatches


class Command(BaseCommand):
    help = ("Compares each rep's open-lead counter (kept by database triggers, read by the capacity checks) with "
            "a count of their open leads; --fix sets wrong counters to the count. Safe while workers route.")

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true", help="Set every wrong counter to the counted value.")

    def handle(self, *args, fix, **options):
        wrong = rep_load_mismatches(fix=fix)
        for rep, counter, counted in wrong:
            self.stdout.write(f"{rep} (rep {rep.pk}): counter {counter}, counted {counted}"
                              + (" - fixed" if fix else ""))
        if not wrong:
            self.stdout.write("Every rep's open-lead counter matches the count.")
        elif not fix:
            raise CommandError(f"{len(wrong)} counter(s) wrong; run again with --fix to repair them.")
        else:
            self.stdout.write(f"{len(wrong)} counter(s) fixed.")
