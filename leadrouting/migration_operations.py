"""Index operations for migrations that run on PostgreSQL (production, tests) and on SQLite (the one-command demo).

Django's AddIndexConcurrently / RemoveIndexConcurrently speak PostgreSQL only: on SQLite they crash
`migrate`, and with them `bin/run-demo`. These build the index CONCURRENTLY on PostgreSQL (an upgrade
does not lock a table of a million leads while it builds) and plainly elsewhere. PostgreSQL's own
index kinds (GIN for the trigram search) exist only there; elsewhere the search reads the table.
"""

from django.contrib.postgres.indexes import PostgresIndex
from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db.migrations.operations import AddIndex, RemoveIndex


def _postgresql(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


class AddIndexWithoutLocking(AddIndexConcurrently):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if _postgresql(schema_editor):
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        elif not isinstance(self.index, PostgresIndex):
            AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if _postgresql(schema_editor):
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        elif not isinstance(self.index, PostgresIndex):
            AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class RemoveIndexWithoutLocking(RemoveIndexConcurrently):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if _postgresql(schema_editor):
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        elif not isinstance(self._index(from_state, app_label), PostgresIndex):
            RemoveIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if _postgresql(schema_editor):
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        elif not isinstance(self._index(to_state, app_label), PostgresIndex):
            RemoveIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)

    def _index(self, state, app_label):
        return state.models[app_label, self.model_name_lower].get_index_by_name(self.name)


def foreign_key_index_drop(app_label: str, model_name: str, field_name: str) -> tuple:
    """RunPython functions (forwards, backwards) dropping, or making again, the index Django made for a foreign key.

    For a foreign key that becomes `db_index=False` because another index serves it: AlterField would
    rebuild the whole table on SQLite, recreating every index of the model, PostgreSQL's own kinds
    (GIN) included, which SQLite cannot make. This drops the one index by the name Django gave it;
    CONCURRENTLY on PostgreSQL (the migration must not be atomic), so no write waits.
    """

    def _index(apps, schema_editor):
        model = apps.get_model(app_label, model_name)
        field = model._meta.get_field(field_name)
        return model, field, schema_editor._create_index_name(model._meta.db_table, [field.column], suffix="")

    def forwards(apps, schema_editor):
        _model, _field, name = _index(apps, schema_editor)
        concurrently = "CONCURRENTLY " if _postgresql(schema_editor) else ""
        schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS {schema_editor.quote_name(name)}")

    def backwards(apps, schema_editor):
        model, field, _name = _index(apps, schema_editor)
        schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))

    return forwards, backwards
