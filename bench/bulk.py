"""Bulk loading with PostgreSQL COPY, driven by the Django models so the loader follows the schema.

A caller names the columns it fills (by attname, e.g. `school_id`); every other
concrete field gets its model default, evaluated once per table. A NOT NULL field
with neither is an error, so a new required column shows up here at once instead
of as a COPY failure halfway through a load.
"""

from collections.abc import Iterable

from django.db import connection, models
from psycopg.types.json import Jsonb

_NO_DEFAULT = object()


def _default(field: models.Field):
    if field.has_default():
        return field.get_default()
    if field.null:
        return None
    if isinstance(field, models.CharField | models.TextField) and field.blank:
        return ""
    return _NO_DEFAULT


def copy_rows(model: type[models.Model], columns: list[str], rows: Iterable[tuple]) -> int:
    """COPY `rows` (tuples in the order of `columns`) into the model's table. Returns the row count."""
    fields = {field.attname: field for field in model._meta.concrete_fields}
    unknown = set(columns) - set(fields)
    if unknown:
        raise ValueError(f"{model.__name__} has no columns {sorted(unknown)}")
    rest = [field for name, field in fields.items() if name not in columns]
    defaults = []
    for field in rest:
        value = _default(field)
        if value is _NO_DEFAULT:
            raise ValueError(f"{model.__name__}.{field.attname} is required and has no default: give it")
        defaults.append(Jsonb(value) if isinstance(field, models.JSONField) and value is not None else value)
    json_positions = [i for i, name in enumerate(columns) if isinstance(fields[name], models.JSONField)]
    names = ", ".join(connection.ops.quote_name(fields[name].column) for name in columns)
    names += "".join(", " + connection.ops.quote_name(field.column) for field in rest)
    tail = tuple(defaults)
    count = 0
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        with cursor.copy(f"COPY {connection.ops.quote_name(model._meta.db_table)} ({names}) FROM STDIN") as copy:
            write = copy.write_row
            if json_positions:
                for row in rows:
                    row = list(row)
                    for i in json_positions:
                        row[i] = Jsonb(row[i])
                    write((*row, *tail))
                    count += 1
            else:
                for row in rows:
                    write((*row, *tail))
                    count += 1
    if "id" in columns:
        reset_sequences(model)
    return count


def next_id(model: type[models.Model]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {connection.ops.quote_name(model._meta.db_table)}")
        return cursor.fetchone()[0]


def reset_sequences(*models_: type[models.Model]) -> None:
    """After COPY with explicit ids, move each id sequence past the largest id."""
    with connection.cursor() as cursor:
        for model in models_:
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, 'id'), GREATEST((SELECT MAX(id) FROM {connection.ops.quote_name(table)}), 1))",
                [table],
            )
