"""Hot reads written as SQL, loaded into model instances with documented Django APIs only.

Why: building and compiling a QuerySet costs the web worker about 0.5 ms per query, several
times the query's own round trip (docs/performance.md). The few reads every money request makes
(a card by its number, a voucher with its program, an account with its owner's link) are written
once as SQL in their app's `queries.py`, where they can be read and reviewed, and run here.

Only public interfaces are used: `connection.cursor()`, the Model `_meta` API
(`concrete_fields`), `Field.from_db_value()` (each field's documented conversion of what the
database returns) and `Model.from_db()` (Django's documented hook for loading a model from a row).
A row is split into consecutive column groups, one per model named in the call, in the order of
`columns()`; a LEFT JOIN that found nothing gives a group whose primary key is NULL, loaded as None.
Columns selected after the groups come back as plain values at the end of the tuple.
Related rows are attached by plain assignment (`card.student = student`), which is the public
way to fill a foreign key's cache.

psycopg prepares a statement on the server after it has run a few times (settings' DATABASES
OPTIONS), so these statements are parsed and planned once per connection too.
"""

from collections.abc import Sequence
from functools import cache

from django.db import connection
from django.db.models import Model


@cache
def _attnames(model: type[Model]) -> tuple[str, ...]:
    return tuple(field.attname for field in model._meta.concrete_fields)


@cache
def _converters(model: type[Model]) -> tuple[tuple[int, object], ...]:
    """(position, field) of each field that converts what the database gives it (`Field.from_db_value`,
    the documented hook: JSON arrives as text, for one), as the ORM would apply it."""
    return tuple((index, field) for index, field in enumerate(model._meta.concrete_fields) if hasattr(field, "from_db_value"))


@cache
def _pk_index(model: type[Model]) -> int:
    return _attnames(model).index(model._meta.pk.attname)


@cache
def columns(model: type[Model], alias: str) -> str:
    """`alias."col", ...` for every concrete field of `model`, in the order `fetch` expects."""
    names = (field.column for field in model._meta.concrete_fields)
    return ", ".join(f'{alias}."{name}"' for name in names)


def fetch(sql: str, params: Sequence, models: Sequence[type[Model]]) -> list[tuple[Model | None, ...]]:
    """Run `sql` (selecting `columns(model, ...)` of each of `models`, in that order) and load every
    row as a tuple of instances; a group whose primary key is NULL (a LEFT JOIN that found nothing) is None."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    widths = [len(_attnames(model)) for model in models]
    loaded = []
    for row in rows:
        instances, start = [], 0
        for model, width in zip(models, widths, strict=True):
            values = list(row[start : start + width])
            start += width
            for index, field in _converters(model):
                values[index] = field.from_db_value(values[index], None, connection)
            found = values[_pk_index(model)] is not None  # a found row's primary key is never NULL
            instances.append(model.from_db(connection.alias, _attnames(model), values) if found else None)
        instances.extend(row[start:])  # columns after the models' groups come as they are (a flag, a count)
        loaded.append(tuple(instances))
    return loaded


def fetch_one(sql: str, params: Sequence, models: Sequence[type[Model]]) -> tuple[Model | None, ...] | None:
    rows = fetch(sql, params, models)
    return rows[0] if rows else None


def rows(sql: str, params: Sequence) -> list[tuple]:
    """Plain rows, for a read that needs no model (a statement page's lines)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def scalar(sql: str, params: Sequence):
    """The first column of the first row, or None when there is no row."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None
