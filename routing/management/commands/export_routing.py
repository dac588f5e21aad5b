"""manage.py export_routing [-o routing.json]"""

from django.core.management.base import BaseCommand, CommandError

from routing.config_file import routing_config_export, routing_config_json


class Command(BaseCommand):
    help = ("Writes the routing configuration (territories, pools, every rule with its conditions and required "
            "skills) as JSON, to keep in git and load elsewhere with import_routing.")

    def add_arguments(self, parser):
        parser.add_argument("-o", "--output", metavar="FILE", help="Write to this file instead of standard output.")

    def handle(self, *args, output, **options):
        text = routing_config_json(routing_config_export())
        if output is None:
            self.stdout.write(text, ending="")
            return
        try:
            with open(output, "w", encoding="utf-8") as file:
                file.write(text)
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error.strerror}") from None
        self.stderr.write(f"Routing configuration written to {output}.")
