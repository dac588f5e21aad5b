# Indexes for the admin's lead lists on a year of data (issue 14). Built CONCURRENTLY: upgrading a
# database with a million leads does not lock the table while they build (minutes), so the
# migration is not atomic. A build interrupted half-way leaves an INVALID index: drop it, then migrate again.

import django.contrib.postgres.indexes
import django.db.models.functions.text
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

from leadrouting.migration_operations import AddIndexWithoutLocking


def _trigram_index(column):
    return django.contrib.postgres.indexes.GinIndex(
        django.contrib.postgres.indexes.OpClass(django.db.models.functions.text.Upper(column), name="gin_trgm_ops"),
        name=f"lead_{column}_trgm",
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("leads", "0009_intake_form_thank_you_in_the_visitors_language"),
    ]

    operations = [
        # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it.
        TrigramExtension(),
        # The admin's lead search (leads.selectors.lead_search_q): a word anywhere in the email, name or company.
        *[AddIndexWithoutLocking(model_name="lead", index=_trigram_index(column))
          for column in ("email", "first_name", "last_name", "company")],
        # The admin's country and source filters (leads.selectors.lead_column_values): the values leads have,
        # by skipping along the index.
        AddIndexWithoutLocking(model_name="lead", index=models.Index(fields=["country"], name="lead_country")),
        AddIndexWithoutLocking(model_name="lead", index=models.Index(fields=["source"], name="lead_source")),
        # The admin's lead events list in its default order, and its date filter.
        AddIndexWithoutLocking(model_name="leadevent",
                             index=models.Index(fields=["created_at", "id"], name="leadevent_created")),
    ]
