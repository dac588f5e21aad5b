"""A rule update moves the configuration version through a row trigger that skips the rotation counter.

0011 compared the whole statement's old and new rows through transition tables. The engine
updates `rotation_seq` of the rules it picked through in every routing batch, so every batch
paid for building both transition tables and comparing them as JSON. A row trigger whose WHEN
clause leaves out `rotation_seq` does not even fire for those updates.
SQLite keeps 0011's row triggers, which already work this way.
"""

from django.db import migrations

RULES = "routing_routingrule"
NOT_CONFIGURATION = "rotation_seq"  # fairness state the engine moves, not configuration (see 0011)

POSTGRESQL_FORWARD = f"""
DROP TRIGGER routing_config_updated ON {RULES};
DROP FUNCTION routing_rules_updated();
CREATE TRIGGER routing_config_updated AFTER UPDATE ON {RULES}
    FOR EACH ROW
    WHEN ((to_jsonb(OLD) - '{NOT_CONFIGURATION}') IS DISTINCT FROM (to_jsonb(NEW) - '{NOT_CONFIGURATION}'))
    EXECUTE FUNCTION routing_config_changed();
"""

POSTGRESQL_BACKWARD = f"""
DROP TRIGGER routing_config_updated ON {RULES};
CREATE FUNCTION routing_rules_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM old_rules JOIN new_rules ON new_rules.id = old_rules.id
               WHERE to_jsonb(old_rules) - '{NOT_CONFIGURATION}'
                     IS DISTINCT FROM to_jsonb(new_rules) - '{NOT_CONFIGURATION}') THEN
        PERFORM routing_config_version_bump();
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER routing_config_updated AFTER UPDATE ON {RULES}
    REFERENCING OLD TABLE AS old_rules NEW TABLE AS new_rules
    FOR EACH STATEMENT EXECUTE FUNCTION routing_rules_updated();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_BACKWARD)


class Migration(migrations.Migration):

    dependencies = [("routing", "0012_audit_tables_headings_translated")]

    operations = [migrations.RunPython(forward, backward)]
