"""Bulk writes of staging rows: COPY on PostgreSQL, executemany elsewhere.

FIELD-NOTES measured psycopg 3 COPY at ~125k rows/s against ~30k for executemany, and
SQLAlchemy's multi-row VALUES for psycopg spends most of its time parsing the huge statement.
The COPY is binary, each column dumped as the type the table declares (read from the catalog):
for 352k hint rows, 0.2 s of Python against 1.2-1.7 s in text, and no text for the server to
parse. Values must then be of that type (an int for a bigint, a str for a varchar): the rows
written here are the normalizers' and rules' own, typed values; a JSON column is sent as the
JSON text it already is.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

import psycopg
from psycopg import sql
from sqlalchemy import (
    JSON,
    DateTime,
    Integer,
    String,
    Table,
    Text,
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import REGCLASS, aggregate_order_by
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable


def changed_rows(session: Session, statement: Executable) -> int:
    """Run an INSERT, UPDATE or DELETE; how many rows it changed. (SQLAlchemy keeps an INSERT's
    count from psycopg 3 only when asked to: `preserve_rowcount`.)"""
    result = session.execute(statement, execution_options={"preserve_rowcount": True})
    return cast(CursorResult[Any], result).rowcount


def reserve_ids(session: Session, table: Table, count: int) -> list[int] | None:
    """`count` new ids from `table`'s id sequence, in one round trip, for rows to be written
    with them (PostgreSQL; None elsewhere: SQLite has no sequence to take them from).

    The sequence is looked up once, in a subquery: called for each id, `pg_get_serial_sequence`
    searched the catalog 2,000 times a batch (measured: 8.5 ms a batch against 1.6 ms). The ids
    come back as one array, which the driver reads in C: a result row per id cost 2-4 ms of
    Python a batch of 2,000, the array 1 ms."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    sequence = select(func.pg_get_serial_sequence(table.name, "id")).scalar_subquery().cast(REGCLASS)
    ids = select(func.nextval(sequence).label("id")).select_from(func.generate_series(1, count)).subquery()
    return list(session.scalar(select(func.array_agg(aggregate_order_by(ids.c.id, ids.c.id)))) or ())


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys) into `table` in the session's transaction."""
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        given = list(rows[0])
        values_of = operator.itemgetter(*given)
        _copy(session, table, given, (_as_tuple(values_of(row), len(given)) for row in rows))
    else:
        session.execute(insert(table), list(rows))


def insert_with_ids(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """`insert_rows`, after which each row holds its id. Ids already given are kept. Others are
    reserved before the COPY on PostgreSQL (`reserve_ids`; a sequence is not rolled back, so a
    refused batch retried row by row keeps them), and come back from the INSERT elsewhere."""
    if not rows:
        return
    if "id" not in rows[0]:
        ids = reserve_ids(session, table, len(rows))
        if ids is None:
            returning = insert(table).returning(table.c.id, sort_by_parameter_order=True)
            for row, row_id in zip(rows, session.scalars(returning, list(rows)), strict=True):
                row["id"] = row_id
            return
        for row, row_id in zip(rows, ids, strict=True):
            row["id"] = row_id
    insert_rows(session, table, rows)


def insert_tuples(
    session: Session, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert `rows` (tuples of the values of `columns`) into `table` in the session's
    transaction: `insert_rows` without a dict per row, for the largest writes."""
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        _copy(session, table, columns, rows)
    else:
        session.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])


def _copy(session: Session, table: Table, given: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
    defaults = _python_defaults(table, set(given))
    columns = [*given, *defaults]
    constant = tuple(defaults.values())
    as_json = [index for index, name in enumerate(columns) if isinstance(table.c[name].type, JSON)]
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    types = _binary_types(session, table, columns)
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor, cursor.copy(statement) as copy:
            copy.set_types(types)
            for row in rows:
                if as_json:
                    values = [*row, *constant]
                    for index in as_json:
                        values[index] = _json(values[index])
                    copy.write_row(values)
                else:
                    copy.write_row(row + constant)
    except (psycopg.Error, TypeError, ValueError, AttributeError) as error:
        # As an INSERT through SQLAlchemy would fail, whether the server refused a value or
        # it could not be dumped as its column's type: callers' fallbacks handle both.
        raise DBAPIError(f"COPY {table.name}", None, error) from error


def _binary_types(session: Session, table: Table, columns: Sequence[str]) -> list[str]:
    """The type each column is dumped as: the one the table declares, JSON as its text (the
    `json` type's binary form is its text). The catalog is read once per table and connection
    (kept in its `info`): an import asked it before every COPY, twice a batch."""
    connection = session.connection()
    known: dict[str, dict[str, str]] = connection.info.setdefault("copy_column_types", {})
    if table.name not in known:
        known[table.name] = dict(
            connection.execute(
                text(
                    "SELECT a.attname, t.typname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
                    "WHERE a.attrelid = CAST(:table AS regclass) AND a.attnum > 0 AND NOT a.attisdropped"
                ),
                {"table": table.name},
            )
            .tuples()
            .all()
        )
    declared = known[table.name]
    return ["text" if declared[name] == "json" else declared[name] for name in columns]


def _as_tuple(values: Any, count: int) -> tuple[Any, ...]:
    """What `itemgetter` gave for `count` keys: a tuple, or the value itself for one key."""
    return values if count > 1 else (values,)


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _python_defaults(table: Table, given: set[str]) -> dict[str, Any]:
    """The Python-side column defaults an INSERT would apply and COPY does not (one value per
    call, so a batch shares its `created_at`)."""
    defaults = {}
    for column in table.columns:
        default = column.default
        if column.name in given or column.primary_key or default is None:
            continue
        if default.is_callable:
            defaults[column.name] = default.arg(None)  # type: ignore[attr-defined]
        elif default.is_scalar:
            defaults[column.name] = default.arg  # type: ignore[attr-defined]
    return defaults


def analyze(
    session: Session, columns: Mapping[Table, tuple[str, ...]], sample_target: int | None = None
) -> None:
    """After a bulk write on PostgreSQL, refresh the planner's statistics of these tables'
    columns (and commit): autovacuum may lag or be off, and plans made for yesterday's sizes
    read the wrong index (measured: a batch's hints look-up 32 -> 6 ms). Only the columns
    queries look rows up by: the others (raw payloads, JSON, free text) cost most of a
    whole-table ANALYZE and steer no plan.

    PostgreSQL samples 300 rows per unit of statistics target, 30,000 at its default of 100,
    and reads the pages they lie on: most of a 100k-row staging table. `sample_target` lowers
    the target for this ANALYZE alone, for columns a few thousand rows describe as well (the
    runs, the source tables, a handful of states); autovacuum's next ANALYZE uses the default."""
    if session.get_bind().dialect.name != "postgresql":
        return
    if sample_target is not None:
        session.execute(text(f"SET LOCAL default_statistics_target = {int(sample_target)}"))
    tables = ", ".join(f"{table.name} ({', '.join(names)})" for table, names in columns.items())
    session.execute(text(f"ANALYZE {tables}"))
    session.commit()


def update_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]], key: str = "b_id") -> None:
    """Update rows of `table` by id: each dict holds the id under `key` and the new values (the
    same columns in every dict). On PostgreSQL one set-based UPDATE ... FROM unnest(arrays) per
    call; elsewhere an executemany."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(update(table).where(table.c.id == bindparam(key)), list(rows))
        return
    columns = [name for name in rows[0] if name != key]
    params: dict[str, Any] = {"ids": [row[key] for row in rows]}
    sources, assignments = ["CAST(:ids AS bigint[])"], []
    for index, name in enumerate(columns):
        is_json = isinstance(table.c[name].type, JSON)
        values = [row[name] for row in rows]
        params[f"c{index}"] = [_json(v) for v in values] if is_json else values
        sources.append(f"CAST(:c{index} AS {_array_type(table.c[name].type)})")
        assignments.append(f"{name} = v.c{index}" + ("::json" if is_json else ""))
    names = ", ".join(["id", *(f"c{index}" for index in range(len(columns)))])
    statement = (
        f"UPDATE {table.name} SET {', '.join(assignments)} "
        f"FROM unnest({', '.join(sources)}) AS v({names}) WHERE {table.name}.id = v.id"
    )
    session.execute(text(statement), params)


def _array_type(column_type: Any) -> str:
    if isinstance(column_type, JSON | String | Text):
        return "text[]"
    if isinstance(column_type, Integer):  # BigInteger is an Integer
        return "bigint[]"
    if isinstance(column_type, DateTime):
        return "timestamptz[]"
    raise TypeError(f"no array type for {column_type!r}")
