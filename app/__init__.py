"""ECOIN legacy import: the Flask application factory."""

from __future__ import annotations

import secrets
from typing import Any

from dotenv import load_dotenv
from flask import Flask
from sqlalchemy import event

from app.celery_app import celery_init_app
from app.config import INSTANCE_DIR, ROOT, config_from_env
from app.extensions import db, migrate
from app.security import init_security


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    load_dotenv(ROOT / ".env", override=False)
    app = Flask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder=str(ROOT / "templates"),
        static_folder="static",
    )
    app.config.from_mapping(config_from_env())
    app.config.update(overrides or {})
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = secrets.token_hex(32)
    INSTANCE_DIR.mkdir(exist_ok=True)
    register_extensions(app)
    register_models()
    register_commands(app)
    register_web(app)
    celery_init_app(app)
    return app


def register_extensions(app: Flask) -> None:
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(app.config["SQLALCHEMY_DATABASE_URI"]))
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)


def engine_options(url: str) -> dict[str, Any]:
    """PostgreSQL connections without statement preparing and without JIT compilation.

    psycopg prepares a statement it has run five times and keeps a hundred of them per
    connection; the batched statements of the importer are large, so that grows memory with
    every batch (measured: +58 MB over 100k rows). Preparing buys nothing here.

    PostgreSQL compiles a query whose estimated cost is high enough to machine code first,
    which pays off for hours-long analytics, not for this app's queries over one run: the
    classification check of a 100k-row run (its rows grouped by what the rules read) took
    1.5 s, 2.5 s of CPU of it compiling, against 0.55 s without; the run's breakdowns 85 ms
    of compiling each."""
    if url.startswith("postgresql+psycopg"):
        return {"connect_args": {"prepare_threshold": None, "options": "-c jit=off"}}
    return {}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def register_models() -> None:
    """Import every module's models so that the metadata (and Alembic) sees all tables."""
    from app.accounts import models as _accounts  # noqa: F401
    from app.audit import models as _audit  # noqa: F401
    from app.catalog import models as _catalog  # noqa: F401
    from app.crm import models as _crm  # noqa: F401
    from app.legacy_import import models as _legacy_import  # noqa: F401
    from app.legacy_import import tasks as _tasks  # noqa: F401


def register_commands(app: Flask) -> None:
    from app.accounts.cli import users_cli
    from app.legacy_import.cli import legacy_cli

    app.cli.add_command(legacy_cli)
    app.cli.add_command(users_cli)


NAV_LINKS = (
    ("legacy_web.runs", "Imports", "legacy_imports.view"),
    ("legacy_web.students", "Lignes importées", "legacy_imports.view"),
    ("legacy_web.review_queue", "Revue", "legacy_imports.view"),
    ("legacy_web.course_mapping", "Formations", "legacy_imports.view"),
    ("legacy_web.session_mapping", "Sessions", "legacy_imports.view"),
    ("audit.log", "Journal", "audit.view"),
)


def register_web(app: Flask) -> None:
    from flask import redirect, url_for

    from app.accounts.routes import bp as accounts_bp
    from app.audit.routes import bp as audit_bp
    from app.legacy_import.web import bp as legacy_bp

    init_security(app)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(legacy_bp)
    app.register_blueprint(audit_bp)
    app.add_url_rule("/", "home", lambda: redirect(url_for("legacy_web.runs")))
    app.context_processor(lambda: {"nav_links": NAV_LINKS})


__all__ = ["create_app"]
