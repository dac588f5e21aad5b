"""manage.py import_routing routing.json [--dry-run] [--delete-missing]"""

from django.core.management.base import BaseCommand, CommandError

from routing.config_file import ConfigFileError, routing_config_from_json, routing_config_import


class Command(BaseCommand):
    help = ("Makes the routing configuration match a file written by export_routing: territories, pools and rules "
            "are matched by name, created or updated, all or nothing. Prints what changed.")

    def add_arguments(self, parser):
        parser.add_argument("path", help="The JSON file.")
        parser.add_argument("--dry-run", action="store_true", help="Check the file and show what would change, "
                                                                   "change nothing.")
        parser.add_argument("--delete-missing", action="store_true",
                            help="Also delete the rules, pools and territories the file leaves out.")

    def handle(self, *args, path, dry_run, delete_missing, **options):
        try:
            with open(path, "rb") as file:
                content = file.read()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}") from None
        try:
            report = routing_config_import(routing_config_from_json(content), dry_run=dry_run,
                                           delete_missing=delete_missing)
        except ConfigFileError as error:
            for message in error.messages:
                self.stderr.write(message)
            raise CommandError(f"Nothing was imported: {len(error.messages)} problem(s) in {path}.") from None
        if dry_run:
            self.stdout.write("Dry run: nothing was saved.")
        for line in report.lines():
            self.stdout.write(line)
