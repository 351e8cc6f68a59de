from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade

from app import create_app
from app.extensions import db
from app.legacy_import.demo import generate_legacy_database
from tests.support.databases import mariadb_database, postgres_database

DEMO_ROWS = 600
ROOT_DIR = Path(__file__).resolve().parent.parent
REFERENCE_TABLES = {"roles", "permissions", "role_permissions"}  # seeded by the migrations


def make_app(database_url: str, **config: object) -> Flask:
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "TESTING": True,
            "LEGACY_CONNECTIONS": {},
            "LEGACY_COLUMN_MAP": "",
            "LEGACY_BATCH_SIZE": "",
            **config,
        }
    )


def migrate(app: Flask) -> None:
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An app database built once by the migrations, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "app.sqlite"
    migrate(make_app(f"sqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_database() as url:
        migrate(make_app(url))
        yield url


@pytest.fixture(scope="session")
def legacy_sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('legacy') / 'legacy.sqlite'}"
    generate_legacy_database(url, DEMO_ROWS)
    return url


@pytest.fixture(scope="session")
def legacy_mariadb_url() -> Iterator[str]:
    with mariadb_database() as url:
        generate_legacy_database(url, DEMO_ROWS)
        yield url


def truncate_app_tables(app: Flask) -> None:
    with app.app_context():
        names = ", ".join(t.name for t in db.metadata.sorted_tables if t.name not in REFERENCE_TABLES)
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        db.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def app_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The app database, on each backend: a fresh migrated SQLite copy, or PostgreSQL emptied."""
    if request.param == "sqlite":
        path = tmp_path / "app.sqlite"
        shutil.copy(request.getfixturevalue("migrated_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_url")
    truncate_app_tables(make_app(url))
    yield url


@pytest.fixture
def sqlite_app(tmp_path: Path, migrated_sqlite_template: Path, legacy_sqlite_url: str) -> Flask:
    path = tmp_path / "app.sqlite"
    shutil.copy(migrated_sqlite_template, path)
    return make_app(f"sqlite:///{path}", LEGACY_CONNECTIONS={"legacy": legacy_sqlite_url})


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the test item, so fixtures can tell whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
