"""Hot queries whose SQL is compiled once per thread instead of on every request.

Django builds and compiles a queryset's SQL each time it runs. On the paths every request takes
(the signed-in session, the terminal behind an API key, the card behind a tap) that costs the web
worker several times what the round trip to the database does: on the benchmark machine the
session look-up with its user and roles took 1.46 ms of CPU through the ORM and 0.19 ms as the same
SQL through a cursor (docs/performance.md).

A PreparedRead builds its queryset once with marker values standing in for the parameters,
compiles it, and remembers where each marker landed among the SQL parameters. Each call then only
binds the new values, runs the SQL and turns rows into model instances the way Django's own
ModelIterable does, `select_related` objects included, so callers get the same objects as before.

Only parameters compared for equality in `filter()` can be markers (`pk=`, `key_prefix=`,
`date=`; never in `exclude()`), or lists of integers for `__in` (`item_ids=list[int]`: compiled
once per list length):
the compiled parameter must be the marker itself. Preparing checks that and fails loudly
otherwise, so a query that cannot be prepared is found the first time it runs, in tests.

`insert_instance(s)` and `update_row` do the same for the rows every money request writes.
"""

import datetime
import itertools
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import get_related_populators

_marker_numbers = itertools.count(1)


INT_LIST = list[int]


def _marker(kind: type, length: int = 0):
    if kind == INT_LIST:
        return [_marker(int) for _ in range(length)]
    number = next(_marker_numbers)
    if kind is int:
        # In the range of a 32-bit integer column (Django compiles an out-of-range comparison to
        # "no rows"), and no literal of our queries looks like it.
        return 2_147_000_000 + number
    if kind is str:
        return f"\x1fprepared-read-marker-{number}\x1f"
    if kind is uuid.UUID:
        return uuid.UUID(int=0x7319_0000_0000_0000_0000_0000_0000_0000 + number)
    if kind is datetime.date:
        return datetime.date(2999, 1, 1) + datetime.timedelta(days=number)
    raise TypeError(f"a prepared read's parameter must be int, str, uuid.UUID, datetime.date or list[int], not {kind!r}")


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    slots: dict  # parameter name (or (name, index) for a list's element) -> [(position in params, how to adapt a value)]
    compiler: object
    converters: dict
    model: type
    fields_slice: slice
    init_list: list
    related_populators: list
    annotations: dict
    db: str


class PreparedRead:
    """`PreparedRead(lambda pk: Model.objects.filter(pk=pk)[:1], pk=int)`, then `.first(pk=7)`."""

    def __init__(self, build: Callable[..., QuerySet], **parameters: type):
        self._build = build
        self._parameters = parameters
        self._lists = [name for name, kind in parameters.items() if kind == INT_LIST]
        self._local = threading.local()  # compiled forms per thread: their converters hold that thread's connection

    def all(self, **values) -> list:
        if set(values) != set(self._parameters):
            raise TypeError(f"expected parameters {sorted(self._parameters)}, got {sorted(values)}")
        # No column holds a number past 64 bits (an id typed into a URL, say) and no driver binds one:
        # an equality on it matches nothing, as Django's own integer lookups decide; in a list, that
        # element matches nothing.
        if any(_beyond_64_bits(values[name]) for name in self._parameters if name not in self._lists):
            return []
        for name in self._lists:
            values[name] = [element for element in values[name] if not _beyond_64_bits(element)]
            if not values[name]:
                return []
        lengths = tuple(len(values[name]) for name in self._lists)
        compiled = self._compiled(lengths)
        params = list(compiled.params)
        for name, value in values.items():
            for index, element in enumerate(value) if name in self._lists else ((None, value),):
                for position, adapt in compiled.slots[name if index is None else (name, index)]:
                    params[position] = adapt(element)
        with connections[compiled.db].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        return [self._instance(compiled, row) for row in self._converted(compiled, rows)]

    def first(self, **values):
        found = self.all(**values)
        return found[0] if found else None

    # --- compiling once ---------------------------------------------------------------------

    def _compiled(self, lengths: tuple) -> _Compiled:
        by_lengths = getattr(self._local, "by_lengths", None)
        if by_lengths is None:
            by_lengths = self._local.by_lengths = {}
        compiled = by_lengths.get(lengths)
        if compiled is None:
            compiled = by_lengths[lengths] = self._compile(dict(zip(self._lists, lengths, strict=True)))
        return compiled

    def _compile(self, lengths: dict) -> _Compiled:
        markers = {name: _marker(kind, lengths.get(name, 0)) for name, kind in self._parameters.items()}
        queryset = self._build(**markers)
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()  # also fills compiler.select and klass_info
        slots = {}
        for name, marker in markers.items():
            if name in lengths:
                slots.update({(name, index): _positions(name, element, params) for index, element in enumerate(marker)})
            else:
                slots[name] = _positions(name, marker, params)
        klass_info = compiler.klass_info
        select = compiler.select
        select_fields = klass_info["select_fields"]
        start, end = select_fields[0], select_fields[-1] + 1
        columns = [expression for expression, _, _ in select[: compiler.col_count]]
        return _Compiled(
            sql=sql,
            params=tuple(params),
            slots=slots,
            compiler=compiler,
            converters=compiler.get_converters(columns),
            model=klass_info["model"],
            fields_slice=slice(start, end),
            init_list=[column[0].target.attname for column in select[start:end]],
            related_populators=get_related_populators(klass_info, select, queryset.db),
            annotations=dict(compiler.annotation_col_map or {}),
            db=queryset.db,
        )

    @staticmethod
    def _converted(compiled: _Compiled, rows):
        if not compiled.converters:
            return rows
        return compiled.compiler.apply_converters(rows, compiled.converters)

    @staticmethod
    def _instance(compiled: _Compiled, row):
        obj = compiled.model.from_db(compiled.db, compiled.init_list, row[compiled.fields_slice])
        for populator in compiled.related_populators:
            populator.populate(row, obj)
        for name, position in compiled.annotations.items():
            setattr(obj, name, row[position])
        return obj


def _positions(name: str, marker, params) -> list:
    """Where the marker landed among the compiled parameters, and how a value must be shaped to
    take its place."""
    found = []
    for position, param in enumerate(params):
        if isinstance(marker, uuid.UUID):
            if param == marker and isinstance(param, uuid.UUID):
                found.append((position, _as_uuid))
        elif isinstance(marker, datetime.date):
            if param == marker and type(param) is datetime.date:
                found.append((position, _same))
        elif param == marker and isinstance(param, type(marker)):
            # The backend may wrap a value in a type of its own (psycopg's Int8 for a bigint column): keep it.
            found.append((position, _same if type(param) is type(marker) else type(param)))
    if not found:
        raise ValueError(f"parameter {name!r} is not compared for equality in the prepared query")
    return found


def _beyond_64_bits(value) -> bool:
    return isinstance(value, int) and not -(2**63) <= value < 2**63


def _same(value):
    return value


def _as_uuid(value) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


# --- Writes -----------------------------------------------------------------------------------
# The same cost, for the few rows every money request writes outside the ledger: an ORM INSERT or
# UPDATE is built and compiled per call. These write one row's columns as given (each adapted by its
# model field, as the ORM would), with no signals: use them only for models that have no receivers.


def insert_instance(obj):
    """INSERT a new model instance (every concrete column but its auto primary key, as `save()` would)
    and give it its primary key. Returns the instance, like `Model.objects.create`."""
    insert_instances([obj])
    return obj


def insert_instances(objs: list) -> list:
    """`insert_instance` for several instances of one model in one INSERT (PostgreSQL returns
    the new keys in the order of the rows, which Django's bulk_create relies on as well)."""
    if not objs:
        return objs
    model = type(objs[0])
    connection = connections["default"]
    fields = [field for field in model._meta.concrete_fields if not (field.primary_key and field.db_returning)]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params = [field.get_db_prep_save(field.pre_save(obj, add=True), connection) for obj in objs for field in fields]
    pk_column = connection.ops.quote_name(model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) VALUES {', '.join([row] * len(objs))} "
            f"RETURNING {pk_column}",
            params,
        )
        keys = [found[0] for found in cursor.fetchall()]
    for obj, key in zip(objs, keys, strict=True):
        obj.pk = key
        obj._state.adding = False
        obj._state.db = "default"
    return objs


def update_row(model, pk, values: dict) -> int:
    """UPDATE the columns `values` names on the row `pk` of `model`; returns the rows changed (0 or 1)."""
    connection = connections["default"]
    fields = [model._meta.get_field(name) for name in values]
    assignments = ", ".join(f"{connection.ops.quote_name(field.column)} = %s" for field in fields)
    params = [field.get_db_prep_save(value, connection) for field, value in zip(fields, values.values(), strict=True)]
    pk_column = connection.ops.quote_name(model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {connection.ops.quote_name(model._meta.db_table)} SET {assignments} WHERE {pk_column} = %s", [*params, pk]
        )
        return cursor.rowcount
