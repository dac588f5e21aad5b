# Workers keep the reps of the rules' team targets between batches (routing.roster) and read them again when
# this token moves. As the configuration's (0011), it is moved by triggers, for every writer: a rep's status or
# limits changed in the admin, a membership added by the configuration import, a user renamed, raw SQL.

from django.db import migrations, models

# What routing.roster keeps of a rep: the rep row, its teams, its user (the name) and its calendar (the time
# zone). Working hours, holidays, time off and loads are read in every batch, not kept.
ROSTER_TABLES = ["reps_rep", "reps_rep_teams", "auth_user", "reps_availabilitycalendar"]
TOKEN_MAX = 2**62 - 1

POSTGRESQL_CREATE = f"""
CREATE FUNCTION routing_roster_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO routing_rosterversion (id, version) VALUES (1, floor(random() * {TOKEN_MAX})::bigint)
    ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version;
    RETURN NULL;
END $$;
""" + "".join(f"""
CREATE TRIGGER routing_roster_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION routing_roster_changed();
""" for table in ROSTER_TABLES)

POSTGRESQL_DROP = "".join(f"DROP TRIGGER routing_roster_changed ON {table};\n" for table in ROSTER_TABLES) + (
    "DROP FUNCTION routing_roster_changed();\n"
)

# SQLite (the one-command demo) has row triggers only.
SQLITE_BUMP = (f"INSERT INTO routing_rosterversion (id, version) VALUES (1, random() & {TOKEN_MAX}) "
               "ON CONFLICT(id) DO UPDATE SET version = excluded.version;")
SQLITE_TRIGGERS = [(table, event) for table in ROSTER_TABLES for event in ["INSERT", "UPDATE", "DELETE"]]


def _sqlite_name(table, event):
    return f"routing_roster_{event.lower()}_{table}"


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_CREATE)
    elif schema_editor.connection.vendor == "sqlite":
        for table, event in SQLITE_TRIGGERS:
            schema_editor.execute(f"CREATE TRIGGER {_sqlite_name(table, event)} AFTER {event} ON {table} "
                                  f"BEGIN {SQLITE_BUMP} END;")


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_DROP)
    elif schema_editor.connection.vendor == "sqlite":
        for table, event in SQLITE_TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER {_sqlite_name(table, event)};")


class Migration(migrations.Migration):

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("reps", "0006_rep_language"),
        ("routing", "0025_assignment_from_rep"),
    ]

    operations = [
        migrations.CreateModel(
            name="RosterVersion",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("version", models.PositiveBigIntegerField(default=0)),
            ],
            options={"default_permissions": ()},
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
