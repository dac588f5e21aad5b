"""manage.py load_demo: a demo organisation with reps, rules and leads (see leadrouting.demo)."""

from django.core.management.base import BaseCommand, CommandError
from django.db.models import ProtectedError

from leadrouting import demo


class Command(BaseCommand):
    help = "Load a demo organisation: teams, ~20 reps, territories, accounts, rules and ~200 leads. Safe to run twice."

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="Delete the demo data first, then load it again.")
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000/", help="Where the app is served, for the printed instructions."
        )

    def handle(self, *args, reset=False, url="", **options):
        if reset:
            try:
                demo.demo_delete()
            except ProtectedError as error:
                raise CommandError(
                    "Could not delete the demo: data outside the demo still points at demo reps or teams "
                    f"({len(error.protected_objects)} objects, e.g. {next(iter(error.protected_objects))}). "
                    "Reassign or delete those first."
                ) from None
            self.stdout.write("Deleted the demo data.")
        if demo.demo_load():
            self.stdout.write(self.style.SUCCESS("Demo organisation loaded."))
        else:
            self.stdout.write(
                f"Demo already loaded (user '{demo.MANAGER_USERNAME}' exists); nothing changed. "
                "Use --reset to rebuild it."
            )
        summary = demo.demo_summary()
        statuses = ", ".join(f"{status} {count}" for status, count in summary["lead_statuses"].items()) or "none"
        self.stdout.write(
            f"{summary['teams']} teams, {summary['reps']} reps, {summary['territories']} territories, "
            f"{summary['accounts']} accounts, {summary['rules']} routing rules, {summary['leads']} demo leads "
            f"({statuses})."
        )
        self.stdout.write("")
        base = url.rstrip("/")
        self.stdout.write(f"Open {url}")
        self.stdout.write(f"  Sales manager: {demo.MANAGER_USERNAME} / {demo.MANAGER_PASSWORD} (the dashboard)")
        self.stdout.write(f"  Rep:           {demo.REP_USERNAME} / {demo.REP_PASSWORD} (the queue)")
        self.stdout.write(f"  Administrator: {demo.ADMIN_USERNAME} / {demo.ADMIN_PASSWORD} ({base}/admin/)")
        self.stdout.write(f"Intake form (send a lead as a prospect would): {base}/f/{demo.INTAKE_FORM_SLUG}/")
        experiment = demo.demo_experiment()
        if experiment is not None:
            self.stdout.write(f"A/B experiment '{experiment}': {base}/experiments/{experiment.pk}/")
