"""Writing many model rows in one statement, with the rows sent as one JSON parameter.

Routing writes a batch's assignments, decisions (about 2 kB of JSON trace each), events, leads and
rotation states together. Django's bulk_create sends each column as an array that psycopg escapes
element by element in Python; a VALUES list with a parameter per value (500 for 50 decisions) is
parsed again by psycopg for every statement (it caches statements of up to 50 parameters) and
quoted value by value. Here the rows travel as one JSON document, encoded in C by `json`, that
PostgreSQL unpacks with `jsonb_to_recordset` into the columns' own types: one parameter, one cached
statement per table and row shape.

Other databases (the SQLite demo) use Django's bulk_create and bulk_update.
"""

import datetime as dt
import decimal
import json
import uuid

from django.db import connections, router
from psycopg.types.json import Json, Jsonb


def insert_rows(model, objs) -> None:
    """Inserts new objects and sets their primary keys, as bulk_create does."""
    if not objs:
        return
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs)
        return
    meta = model._meta
    fields = [field for field in meta.concrete_fields if field is not meta.pk and not field.generated]
    rows = []
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="insert_rows")
        rows.append({field.column: field.get_db_prep_save(field.pre_save(obj, add=True), connection)
                     for field in fields})
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    # ORDER BY the rows' positions: RETURNING gives the new keys in the order the rows were inserted.
    sql = (f"INSERT INTO {quote(meta.db_table)} ({columns}) SELECT {columns}"
           f" FROM {_recordset(fields, connection)} WITH ORDINALITY AS v({columns}, position) ORDER BY position"
           f" RETURNING {quote(meta.pk.column)}")
    try:
        payload = rows_json(rows)
    except ValueError:  # a float JSON cannot hold (infinity, NaN), which PostgreSQL can: Django's own write
        model.objects.bulk_create(objs)
        return
    with connection.cursor() as cursor:
        cursor.execute(sql, [payload])
        for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
            obj.pk = pk
            obj._state.adding, obj._state.db = False, connection.alias


def update_rows(model, objs, field_names) -> None:
    """Writes each object's values of `field_names` to its row, as bulk_update does."""
    if not objs:
        return
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objs, field_names)
        return
    fields = [model._meta.pk] + [model._meta.get_field(name) for name in field_names]
    rows = [{field.column: field.get_db_prep_save(getattr(obj, field.attname), connection) for field in fields}
            for obj in objs]
    quote = connection.ops.quote_name
    key, *columns = [quote(field.column) for field in fields]
    assignments = ", ".join(f"{column} = v.{column}" for column in columns)
    sql = (f"UPDATE {quote(model._meta.db_table)} AS t SET {assignments}"
           f" FROM {_recordset(fields, connection)} AS v({key}, {', '.join(columns)}) WHERE t.{key} = v.{key}")
    try:
        payload = rows_json(rows)
    except ValueError:  # a float JSON cannot hold (infinity, NaN), which PostgreSQL can: Django's own write
        model.objects.bulk_update(objs, field_names)
        return
    with connection.cursor() as cursor:
        cursor.execute(sql, [payload])


def _recordset(fields, connection) -> str:
    """The JSON parameter as rows of the fields' columns, each in its column's type."""
    quote = connection.ops.quote_name
    definitions = ", ".join(f"{quote(field.column)} {field.db_type(connection)}" for field in fields)
    return f"ROWS FROM (jsonb_to_recordset(%s::jsonb) AS ({definitions}))"


def rows_json(rows) -> str:
    """The rows as one JSON array; values as PostgreSQL reads them back in their columns' types.

    Raises ValueError for a float that JSON cannot hold (infinity, NaN).
    """
    return json.dumps(rows, default=_json_value, allow_nan=False, separators=(",", ":"))


def _json_value(value):
    if isinstance(value, (Jsonb, Json)):  # a JSONField's value, as Django prepared it: stored as the JSON itself
        # Django wraps it with `json.dumps`, or with its field's encoder, whose output is read back.
        return value.obj if value.dumps in (None, json.dumps) else json.loads(value.dumps(value.obj))
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()  # every digit of the microseconds, unlike Django's JSON encoder
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, dt.timedelta):
        return f"{value.total_seconds()} seconds"
    raise TypeError(f"{type(value).__name__} cannot be written through JSON")
