"""The legacy source: a read-only view of the old platform's database.

Nothing outside this module knows the legacy table or column names. The layout defaults to
`legacy-schema.sql` and can be overridden with `LEGACY_COLUMN_MAP`, e.g.
`{"stagiaires": {"table": "eleves", "columns": {"phone": "tel"}}}`.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import decimal
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from app.config import ConfigError

# Logical field -> legacy column, per legacy entity.
DEFAULT_LAYOUT: dict[str, dict[str, Any]] = {
    "formations": {
        "table": "formations",
        "columns": {"id": "id", "name": "nom"},
    },
    "session_ecoins": {
        "table": "session_ecoins",
        "columns": {
            "id": "id",
            "code": "code",
            "formation_id": "formation_id",
            "starts_on": "date_debut",
            "ends_on": "date_fin",
        },
    },
    "stagiaires": {
        "table": "stagiaires",
        "columns": {
            "id": "id",
            "last_name": "nom",
            "first_name": "prenom",
            "phone": "telephone",
            "email": "email",
            "birth_date": "date_naissance",
            "status": "statut",
            "formation_id": "formation_id",
            "session_id": "session_ecoin_id",
        },
    },
    "archives": {
        "table": "archives",
        "columns": {
            "id": "id",
            "stagiaire_id": "stagiaire_id",
            "last_name": "nom",
            "first_name": "prenom",
            "phone": "telephone",
            "email": "email",
            "birth_date": "date_naissance",
            "status": "statut",
            "formation_id": "formation_id",
            "session_id": "session_ecoin_id",
        },
    },
}

# Below every legacy id: the ids are unsigned (legacy-schema.sql), and 0 is an id a row can hold.
BEFORE_FIRST_ID = -1
ALLOWED_STATEMENTS = ("select", "show", "pragma", "set session", "set names", "with")


class LegacySourceError(Exception):
    """The legacy source cannot be read as configured; the message is one line, without PII."""

    safe_message = True


@dataclass(frozen=True, slots=True)
class LegacyRecord:
    legacy_id: int
    values: dict[str, Any]  # logical field -> value, None when the layout has no such column
    raw: dict[str, Any]  # the source row, every column, JSON-ready


class LegacySourceReader(Protocol):
    """What the importer needs from a legacy source."""

    def check_layout(self) -> None: ...

    def chunk_bounds(self, entity: str, rows: int, after_id: int | None = None) -> list[tuple[int, int]]: ...

    def count(self, entity: str, after_id: int = BEFORE_FIRST_ID, up_to_id: int | None = None) -> int: ...

    def read_batches(
        self, entity: str, after_id: int, batch_size: int, up_to_id: int | None = None
    ) -> Iterator[list[LegacyRecord]]: ...

    def close(self) -> None: ...


def build_layout(overrides: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    layout = copy.deepcopy(DEFAULT_LAYOUT)
    for entity, override in overrides.items():
        if entity not in layout:
            raise ConfigError(f"LEGACY_COLUMN_MAP: unknown legacy table {entity!r}")
        if not isinstance(override, Mapping):
            raise ConfigError(f"LEGACY_COLUMN_MAP: {entity!r} must map to an object")
        if "table" in override:
            layout[entity]["table"] = str(override["table"])
        for field, column in dict(override.get("columns", {})).items():
            if field not in layout[entity]["columns"]:
                raise ConfigError(f"LEGACY_COLUMN_MAP: {entity!r} has no field {field!r}")
            layout[entity]["columns"][field] = column  # None: the source lacks it
    return layout


def json_ready(value: Any) -> Any:
    """A driver value as JSON can hold it, keeping what the source said."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, dt.timedelta)):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return {"base64": base64.b64encode(data).decode("ascii")}
    return str(value)


def read_only_engine(url: str) -> Engine:
    """An engine whose connections are read-only at the database level, and which refuses
    anything but reads before it reaches the database."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError("legacy database URL is not a valid SQLAlchemy URL") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        engine = _sqlite_read_only(parsed)
    elif backend in ("mysql", "mariadb"):
        engine = create_engine(parsed, pool_pre_ping=True)
        event.listen(engine, "connect", _mysql_read_only)
    elif backend == "postgresql":
        engine = create_engine(parsed, connect_args={"options": "-c default_transaction_read_only=on"})
    else:
        raise ConfigError(f"legacy database backend {backend!r} is not supported")
    event.listen(engine, "before_cursor_execute", _refuse_writes, retval=False)
    return engine


def _sqlite_read_only(url: URL) -> Engine:
    path = url.database
    if not path or path == ":memory:":
        raise ConfigError("a SQLite legacy database must be a file")
    ro_url = url.set(database=f"file:{path}?mode=ro", query={"uri": "true"})
    engine = create_engine(ro_url)

    def query_only(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA query_only=ON")

    event.listen(engine, "connect", query_only)
    return engine


def _mysql_read_only(dbapi_connection: Any, _record: Any) -> None:
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET SESSION TRANSACTION READ ONLY")


def _refuse_writes(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    if not statement.lstrip().lower().startswith(ALLOWED_STATEMENTS):
        raise LegacySourceError("refused a non-read statement on the legacy connection")


class DatabaseLegacySourceReader:
    """Reads the legacy tables through a read-only connection, in keyset-paged batches."""

    def __init__(self, url: str, column_map: Mapping[str, Any] | None = None) -> None:
        self.url = url  # with column_map, what another process needs to open the same source
        self.column_map = dict(column_map or {})
        self.layout = build_layout(self.column_map)
        self.engine = read_only_engine(url)
        self._quote = self.engine.dialect.identifier_preparer.quote

    def close(self) -> None:
        self.engine.dispose()

    def check_layout(self) -> None:
        """Fail early, in one line, when a configured table or column is missing."""
        for entity, spec in self.layout.items():
            present = set(self._columns_of(spec["table"]))
            for field, column in spec["columns"].items():
                if column is not None and column not in present:
                    raise LegacySourceError(
                        f"legacy table {spec['table']!r} has no column {column!r} "
                        f"(field {field!r} of {entity}; see LEGACY_COLUMN_MAP)"
                    )

    def chunk_bounds(self, entity: str, rows: int, after_id: int | None = None) -> list[tuple[int, int]]:
        """Id ranges `(after_id, up_to_id]` of `rows` rows each (the last one fewer), in id order,
        from the first row (or the first after `after_id`) to the last.

        Cut by rows, not by id span, so that sparse or far-apart ids (an id of 999999999 among
        a thousand rows) make no empty chunks. Each cut is one keyset query that walks `rows`
        entries of the id index (LIMIT/OFFSET: any SQL database, MySQL 5.7 included)."""
        table, id_column = self._table_and_id(entity)
        cut_after = text(
            f"SELECT {id_column} FROM {table} WHERE {id_column} > :after_id "
            f"ORDER BY {id_column} LIMIT 1 OFFSET {int(rows) - 1}"
        )
        with self._connect() as conn:
            low, high = conn.execute(text(f"SELECT MIN({id_column}), MAX({id_column}) FROM {table}")).one()
            if low is None:
                return []
            bounds = []
            after_id = int(low) - 1 if after_id is None else after_id
            while after_id < int(high):
                cut = conn.execute(cut_after, {"after_id": after_id}).scalar()
                up_to_id = int(high) if cut is None else int(cut)
                bounds.append((after_id, up_to_id))
                after_id = up_to_id
        return bounds

    def count(self, entity: str, after_id: int = BEFORE_FIRST_ID, up_to_id: int | None = None) -> int:
        table, id_column = self._table_and_id(entity)
        where, params = self._id_range(id_column, after_id, up_to_id)
        with self._connect() as conn:
            return int(conn.execute(text(f"SELECT COUNT(*) FROM {table} WHERE {where}"), params).scalar_one())

    def read_batches(
        self, entity: str, after_id: int, batch_size: int, up_to_id: int | None = None
    ) -> Iterator[list[LegacyRecord]]:
        """Rows with `after_id < id <= up_to_id`, in id order, `batch_size` at a time.

        Each batch is one short keyset query, so memory does not grow with the table and no
        long-running read holds the legacy server."""
        table, id_column = self._table_and_id(entity)
        fields = {f: c for f, c in self.layout[entity]["columns"].items() if c is not None}
        while True:
            where, params = self._id_range(id_column, after_id, up_to_id)
            sql = f"SELECT * FROM {table} WHERE {where} ORDER BY {id_column} LIMIT {int(batch_size)}"
            with self._connect() as conn:
                result = conn.execute(text(sql), params)
                batch = [self._record(row, fields) for row in result.mappings()]
            if not batch:
                return
            yield batch
            after_id = batch[-1].legacy_id
            if len(batch) < batch_size:
                return

    def _record(self, row: Mapping[Any, Any], fields: dict[str, str]) -> LegacyRecord:
        raw = {column: json_ready(value) for column, value in row.items()}
        values = {field: row[column] for field, column in fields.items()}
        return LegacyRecord(legacy_id=int(values["id"]), values=values, raw=raw)

    def _table_and_id(self, entity: str) -> tuple[str, str]:
        spec = self.layout[entity]
        return self._quote(spec["table"]), self._quote(spec["columns"]["id"])

    @staticmethod
    def _id_range(id_column: str, after_id: int, up_to_id: int | None) -> tuple[str, dict[str, int]]:
        if up_to_id is None:
            return f"{id_column} > :after_id", {"after_id": after_id}
        return f"{id_column} > :after_id AND {id_column} <= :up_to_id", {
            "after_id": after_id,
            "up_to_id": up_to_id,
        }

    def _columns_of(self, table: str) -> list[str]:
        try:
            with self._connect() as conn:
                result = conn.execute(text(f"SELECT * FROM {self._quote(table)} WHERE 1 = 0"))
                return list(result.keys())
        except SQLAlchemyError:
            raise LegacySourceError(f"legacy table {table!r} cannot be read") from None

    def _connect(self) -> Connection:
        try:
            return self.engine.connect()
        except SQLAlchemyError as error:
            reason = type(getattr(error, "orig", error)).__name__
            raise LegacySourceError(f"cannot connect to the legacy database ({reason})") from None
