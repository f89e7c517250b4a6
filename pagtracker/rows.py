"""Writes prepared before a transaction and run inside it as plain statements.

On SQLite every write transaction holds the one write lock, so whatever Python runs inside it
runs for every writer in turn: the ORM's ``create`` and ``save`` spend ~0.3 ms each building
and compiling their SQL. ``insert`` and ``update`` do that work first, with the fields' own
``pre_save`` and ``get_db_prep_save`` (the values the ORM itself would send, on SQLite and
PostgreSQL alike), and ``run`` then costs one ``execute`` per statement. ``select`` and ``get``
read with a statement compiled once per shape. Used on the hottest paths (creating, reading
and confirming a charge); everything else uses the ORM."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX
from django.db.models import AutoField, BigAutoField, Model, SmallAutoField

_AUTO = (AutoField, BigAutoField, SmallAutoField)
_insert_sql: dict[type[Model], tuple[str, list[Any]]] = {}


@dataclass(frozen=True)
class Statement:
    sql: str
    params: list[Any]


_qmark: dict[str, str] = {}


def _execute(sql: str, params: list[Any]) -> Any:
    """Run one statement; the cursor. On SQLite, when nothing records queries (no DEBUG, no
    CaptureQueriesContext, no execute wrapper), straight on the driver with the SQL converted
    to ``?`` placeholders once per shape: Django's cursor layers and its per-call conversion
    cost ~15 µs a statement, inside the write lock. Errors are Django's either way."""
    if connection.vendor == "sqlite" and not (
        connection.queries_logged or connection.execute_wrappers
    ):
        qmark = _qmark.get(sql)
        if qmark is None:
            qmark = _qmark[sql] = FORMAT_QMARK_REGEX.sub("?", sql).replace("%%", "%")
        connection.ensure_connection()
        connection.validate_no_broken_transaction()
        with connection.wrap_database_errors:
            return connection.connection.execute(qmark, params)
    cursor = connection.cursor()
    cursor.execute(sql, params)
    return cursor


def _insert_shape(model: type[Model]) -> tuple[str, list[Any]]:
    shape = _insert_sql.get(model)
    if shape is None:
        fields = [
            f
            for f in model._meta.local_concrete_fields
            if not (f.primary_key and isinstance(f, _AUTO))
        ]
        qn = connection.ops.quote_name
        sql = "INSERT INTO {} ({}) VALUES ({})".format(
            qn(model._meta.db_table),
            ", ".join(qn(str(f.column)) for f in fields),
            ", ".join(["%s"] * len(fields)),
        )
        shape = _insert_sql[model] = (sql, fields)
    return shape


def insert(obj: Model) -> Statement:
    """The INSERT of a new instance (defaults and ``auto_now`` applied now). An auto-increment
    primary key is left to the database and not read back."""
    sql, fields = _insert_shape(type(obj))
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection=connection) for f in fields]
    return Statement(sql, params)


def update(obj: Model, fields: Sequence[str], *, where: dict[str, Any]) -> Statement:
    """``UPDATE ... SET <fields of obj> WHERE pk = obj.pk AND <where>``; ``run`` gives the
    number of rows it changed, so ``where`` can be the state the change requires."""
    meta = obj._meta
    qn = connection.ops.quote_name
    sets, params = [], []
    for name in fields:
        field: Any = meta.get_field(name)
        sets.append(f"{qn(field.column)} = %s")
        params.append(field.get_db_prep_save(field.pre_save(obj, False), connection=connection))
    pk: Any = meta.pk
    conditions = [f"{qn(pk.column)} = %s"]
    params.append(pk.get_db_prep_value(obj.pk, connection))
    for name, value in where.items():
        field = meta.get_field(name)
        conditions.append(f"{qn(field.column)} = %s")
        params.append(field.get_db_prep_value(value, connection))
    sql = "UPDATE {} SET {} WHERE {}".format(
        qn(meta.db_table), ", ".join(sets), " AND ".join(conditions)
    )
    return Statement(sql, params)


_select_sql: dict[tuple[Any, ...], tuple[str, list[Any], list[Any]]] = {}


def select(
    model: type[Model], fields: Sequence[str], *, where: dict[str, Any]
) -> list[tuple[Any, ...]]:
    """``SELECT <fields> FROM <model> WHERE <field = value | field IS NULL> ...``, with the
    values converted as the ORM converts them (UUIDs, JSON, datetimes)."""
    shape_key = (model, tuple(fields), tuple((k, v is None) for k, v in where.items()))
    shape = _select_sql.get(shape_key)
    meta = model._meta
    if shape is None:
        qn = connection.ops.quote_name
        cols = [meta.get_field(name).get_col(meta.db_table) for name in fields]  # type: ignore[union-attr]
        converters = [
            connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            for col in cols
        ]
        conditions = []
        where_fields = []
        for name, value in where.items():
            field: Any = meta.get_field(name)
            if value is None:
                conditions.append(f"{qn(field.column)} IS NULL")
            else:
                conditions.append(f"{qn(field.column)} = %s")
                where_fields.append(field)
        sql = "SELECT {} FROM {} WHERE {}".format(
            ", ".join(qn(str(col.target.column)) for col in cols),
            qn(meta.db_table),
            " AND ".join(conditions),
        )
        shape = _select_sql[shape_key] = (
            sql,
            where_fields,
            list(zip(cols, converters, strict=True)),
        )
    sql, where_fields, columns = shape
    values = [v for v in where.values() if v is not None]
    params = [f.get_db_prep_value(v, connection) for f, v in zip(where_fields, values, strict=True)]
    cursor = _execute(sql, params)
    try:
        fetched = cursor.fetchall()
    finally:
        cursor.close()
    out = []
    for row in fetched:
        converted = []
        for value, (col, convs) in zip(row, columns, strict=True):
            for convert in convs:
                value = convert(value, col, connection)
            converted.append(value)
        out.append(tuple(converted))
    return out


def get(model: type[Model], *, where: dict[str, Any]) -> Any | None:
    """The one instance matching ``where`` (on a unique key), built as the ORM builds it
    (``Model.from_db``), or None. For the hottest reads: a charge by id."""
    fields = model._meta.concrete_fields
    found = select(model, [f.name for f in fields], where=where)
    if not found:
        return None
    if len(found) > 1:
        raise model.MultipleObjectsReturned(f"{len(found)} rows match {where}")  # type: ignore[attr-defined]
    return model.from_db(connection.alias, [f.attname for f in fields], found[0])


def run(statement: Statement) -> int:
    """Execute one prepared statement in the current transaction; the rows it touched."""
    cursor = _execute(statement.sql, statement.params)
    try:
        return int(cursor.rowcount)
    finally:
        cursor.close()
