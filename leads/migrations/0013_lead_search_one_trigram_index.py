# The admin's lead search reads one trigram index over the email, names and company joined (leads.models.lead_search_text)
# instead of one per column. Routing changes a lead's owner, which PostgreSQL cannot do as a HOT update (the owner is
# indexed), so every index of leads_lead gets a new entry when a lead is routed: four trigram indexes meant four GIN
# insertions (and four pending-list appends to clean up later) at intake and again at routing, for columns that did
# not change. One index holds the same trigrams for one insertion. Built CONCURRENTLY before the old ones are dropped,
# so the search stays indexed during the upgrade and no write waits; hence not atomic. A build interrupted half-way
# leaves an INVALID index: drop it, then migrate again.

import django.contrib.postgres.indexes
import django.db.models.functions.text
from django.db import migrations

import leads.models
from leadrouting.migration_operations import AddIndexWithoutLocking, RemoveIndexWithoutLocking


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("leads", "0012_lead_last_owner"),
    ]

    operations = [
        AddIndexWithoutLocking(
            model_name="lead",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass(
                    django.db.models.functions.text.Upper(
                        leads.models.LeadSearchText("email", "first_name", "last_name", "company")),
                    name="gin_trgm_ops"),
                name="lead_search_trgm",
            ),
        ),
        *[RemoveIndexWithoutLocking(model_name="lead", name=f"lead_{column}_trgm")
          for column in ("email", "first_name", "last_name", "company")],
    ]
