"""manage.py import_leads leads.csv --source "Trade fair" [--map "E-Mail=email"] [--dry-run]"""

from django.core.management.base import BaseCommand, CommandError

from leads.csv_import import CsvFileError, csv_read, leads_import, mapping_suggest, rows_check, rows_map
from leads.models import INTAKE_FIELDS


class Command(BaseCommand):
    help = "Imports leads from a CSV file (first line: column names); each valid row is created and routed."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--source", default="", help="Source set on every imported lead.")
        parser.add_argument("--map", action="append", default=[], metavar="COLUMN=FIELD",
                            help="Map a column to a lead field (repeatable); columns named like a field map themselves.")
        parser.add_argument("--dry-run", action="store_true", help="Check every row, create nothing.")

    def handle(self, *args, path, source, map, dry_run, **options):
        try:
            with open(path, "rb") as file:
                headers, rows = csv_read(file.read())
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}") from None
        except CsvFileError as error:
            raise CommandError(str(error)) from None
        mapping = mapping_suggest(headers)
        for item in map:
            column, _, field = item.partition("=")
            if column.strip() not in headers or field.strip() not in INTAKE_FIELDS:
                raise CommandError(f"--map {item!r}: use COLUMN=FIELD with a column of the file ({', '.join(headers)}) "
                                   f"and a lead field ({', '.join(INTAKE_FIELDS)}).")
            mapping = {i: f for i, f in mapping.items() if f != field.strip()}
            mapping[headers.index(column.strip())] = field.strip()
        if not mapping:
            raise CommandError("No column maps to a lead field; name them like the fields or use --map.")
        self.stdout.write("Columns: " + ", ".join(f"{headers[i]} -> {f}" for i, f in sorted(mapping.items())))
        mapped = rows_map(rows, mapping)
        outcomes = rows_check(mapped) if dry_run else leads_import(mapped=mapped, source=source).rows
        failed = [row for row in outcomes if row.errors]
        for row in failed:
            reasons = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in row.errors.items())
            self.stdout.write(f"line {row.line}: {reasons}")
        merged = sum(1 for row in outcomes if row.merged)
        verb = "would be imported" if dry_run else "imported"
        self.stdout.write(self.style.SUCCESS(
            f"{len(outcomes) - len(failed) - merged} {verb}, {merged} merged into open leads, {len(failed)} failed."
        ))
