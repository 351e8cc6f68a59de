"""Bulk writes of staging rows: COPY on PostgreSQL, executemany elsewhere.

FIELD-NOTES measured psycopg 3 COPY at ~125k rows/s against ~30k for executemany, and
SQLAlchemy's multi-row VALUES for psycopg spends most of its time parsing the huge statement.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import JSON, Table, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys) into `table` in the session's transaction."""
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        _copy_rows(session, table, rows)
    else:
        session.execute(insert(table), list(rows))


def _copy_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    defaults = _python_defaults(table, set(rows[0]))
    rows = [{**defaults, **row} for row in rows] if defaults else rows
    columns = list(rows[0])
    as_json = [isinstance(table.c[name].type, JSON) for name in columns]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(
                    [
                        _json(row[name]) if is_json else row[name]
                        for name, is_json in zip(columns, as_json, strict=True)
                    ]
                )
    except psycopg.Error as error:  # the same error an INSERT through SQLAlchemy would raise
        raise DBAPIError(f"COPY {table.name}", None, error) from error


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
