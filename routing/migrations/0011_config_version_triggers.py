"""The compiled-rules version moves inside the database, on every write to what workers compile.

Workers cache the compiled rules with the territory and team trees, skills, pools and running
experiments, and reload when RoutingConfigVersion moves. Triggers move it for every writer:
save(), QuerySet.update(), bulk_create/bulk_update, delete, raw SQL, a restore. post_save signals
missed every bulk path, and each new one had to remember a hand-written bump.

A random token rather than a counter: a counter restarting from 1 (a restored or flushed database)
could match a stale cache entry in a long-running worker.
"""

from django.db import migrations

# Tables whose rows the compiled rules hold (routing.ruleset.RuleSet.load), and the members of pools and
# territories, which the configuration import writes with the rules.
CONFIG_TABLES = [
    "routing_rulecondition", "routing_ruleskillrequirement", "routing_pool", "routing_pool_teams", "routing_pool_reps",
    "routing_routingexperiment", "reps_territory", "reps_territory_reps", "reps_territory_teams", "reps_team",
    "reps_skill",
]
RULES = "routing_routingrule"
# The engine moves a rule's rotation counter under the rule's lock for every lead it assigns: that is
# fairness state, not configuration, and must not make every worker recompile its rules.
NOT_CONFIGURATION = "rotation_seq"
TOKEN_MAX = 2**62 - 1

POSTGRESQL_CREATE = f"""
CREATE FUNCTION routing_config_version_bump() RETURNS void LANGUAGE sql AS $$
    INSERT INTO routing_routingconfigversion (id, version) VALUES (1, floor(random() * {TOKEN_MAX})::bigint)
    ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version
$$;
CREATE FUNCTION routing_config_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM routing_config_version_bump();
    RETURN NULL;
END $$;
CREATE FUNCTION routing_rules_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM old_rules JOIN new_rules ON new_rules.id = old_rules.id
               WHERE to_jsonb(old_rules) - '{NOT_CONFIGURATION}'
                     IS DISTINCT FROM to_jsonb(new_rules) - '{NOT_CONFIGURATION}') THEN
        PERFORM routing_config_version_bump();
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER routing_config_changed AFTER INSERT OR DELETE OR TRUNCATE ON {RULES}
    FOR EACH STATEMENT EXECUTE FUNCTION routing_config_changed();
CREATE TRIGGER routing_config_updated AFTER UPDATE ON {RULES}
    REFERENCING OLD TABLE AS old_rules NEW TABLE AS new_rules
    FOR EACH STATEMENT EXECUTE FUNCTION routing_rules_updated();
""" + "".join(f"""
CREATE TRIGGER routing_config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION routing_config_changed();
""" for table in CONFIG_TABLES)

POSTGRESQL_DROP = "".join(
    f"DROP TRIGGER routing_config_changed ON {table};\n" for table in [RULES, *CONFIG_TABLES]
) + f"""
DROP TRIGGER routing_config_updated ON {RULES};
DROP FUNCTION routing_rules_updated();
DROP FUNCTION routing_config_changed();
DROP FUNCTION routing_config_version_bump();
"""

# SQLite (the one-command demo) has row triggers only, and no way to compare whole rows: a rule update
# counts as configuration unless it moved the rotation counter alone (save() always moves updated_at).
SQLITE_BUMP = (f"INSERT INTO routing_routingconfigversion (id, version) VALUES (1, random() & {TOKEN_MAX}) "
               "ON CONFLICT(id) DO UPDATE SET version = excluded.version;")
SQLITE_WHEN = {(RULES, "UPDATE"): f"WHEN NEW.{NOT_CONFIGURATION} IS OLD.{NOT_CONFIGURATION} "
                                  "OR NEW.updated_at IS NOT OLD.updated_at"}
SQLITE_TRIGGERS = [(table, event) for table in [RULES, *CONFIG_TABLES] for event in ["INSERT", "UPDATE", "DELETE"]]


def _sqlite_name(table, event):
    return f"routing_config_{event.lower()}_{table}"


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_CREATE)
    elif schema_editor.connection.vendor == "sqlite":
        for table, event in SQLITE_TRIGGERS:
            schema_editor.execute(f"CREATE TRIGGER {_sqlite_name(table, event)} AFTER {event} ON {table} "
                                  f"{SQLITE_WHEN.get((table, event), '')} BEGIN {SQLITE_BUMP} END;")


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_DROP)
    elif schema_editor.connection.vendor == "sqlite":
        for table, event in SQLITE_TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER {_sqlite_name(table, event)};")


class Migration(migrations.Migration):

    dependencies = [
        ("reps", "0006_rep_language"),
        ("routing", "0010_rule_priority_unique"),
    ]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
