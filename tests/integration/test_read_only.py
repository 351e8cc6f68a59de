"""The legacy connection is read-only at the database level, on every supported backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from app.legacy_import.demo import generate_legacy_database, legacy_fingerprint
from app.legacy_import.source import LegacySourceError, read_only_engine
from tests.support.databases import postgres_database

pytestmark = pytest.mark.integration

WRITES = (
    "UPDATE stagiaires SET nom = 'x' WHERE id = 1",
    "DELETE FROM archives",
    "INSERT INTO formations (id, nom) VALUES (999999, 'x')",
    "CREATE TABLE intruder (id INTEGER)",
)
READ_ONLY_ERRORS = {
    "mysql": "read only",  # MariaDB 1792: "Cannot execute statement in a READ ONLY transaction"
    "postgresql": "read-only transaction",
    "sqlite": "readonly",
}


@pytest.fixture(scope="module")
def legacy_postgres_url() -> Iterator[str]:
    with postgres_database("legacy_pg") as url:
        generate_legacy_database(url, 50)
        yield url


@pytest.fixture(params=["mariadb", "postgresql", "sqlite"])
def legacy_url(request: pytest.FixtureRequest) -> str:
    fixture = {
        "mariadb": "legacy_mariadb_url",
        "postgresql": "legacy_postgres_url",
        "sqlite": "legacy_sqlite_url",
    }
    return request.getfixturevalue(fixture[request.param])


@pytest.mark.parametrize("statement", WRITES)
def test_the_database_refuses_writes_on_the_legacy_connection(legacy_url: str, statement: str) -> None:
    before = legacy_fingerprint(legacy_url)
    engine = read_only_engine(legacy_url)
    connection = engine.raw_connection()  # below SQLAlchemy: only the database can refuse now
    try:
        cursor = connection.cursor()
        with pytest.raises(Exception) as refused:
            cursor.execute(statement)
            connection.commit()
        assert READ_ONLY_ERRORS[engine.dialect.name] in str(refused.value).lower()
    finally:
        connection.close()
        engine.dispose()
    assert legacy_fingerprint(legacy_url) == before


def test_the_reader_refuses_non_select_statements_before_sending_them(legacy_url: str) -> None:
    engine = read_only_engine(legacy_url)
    with engine.connect() as conn, pytest.raises(LegacySourceError):
        conn.execute(text("DELETE FROM stagiaires"))
    engine.dispose()


def test_a_select_still_works(legacy_url: str) -> None:
    engine = read_only_engine(legacy_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM stagiaires")).scalar_one() > 0
    engine.dispose()
