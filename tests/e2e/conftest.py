from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.accounts.permissions import ROLES, VIEW_RAW
from app.accounts.services import create_staff, grant
from app.extensions import db
from tests.conftest import make_app

PASSWORD = "correct horse battery staple"
CSRF_FIELD = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def email_for(role: str) -> str:
    return f"{role}@ecoin.test"


@pytest.fixture
def web_app(tmp_path: Path, migrated_sqlite_template: Path, legacy_sqlite_url: str) -> Iterator[Flask]:
    path = tmp_path / "app.sqlite"
    shutil.copy(migrated_sqlite_template, path)
    app = make_app(
        f"sqlite:///{path}", LEGACY_CONNECTIONS={"legacy": legacy_sqlite_url}, SESSION_COOKIE_SECURE=False
    )
    with app.app_context():
        for role in ROLES:
            create_staff(db.session, email_for(role), PASSWORD, role)
        create_staff(db.session, "raw.viewer@ecoin.test", PASSWORD, "viewer")
        grant(db.session, "raw.viewer@ecoin.test", VIEW_RAW)
    yield app


def csrf_token(client: FlaskClient, path: str) -> str:
    match = CSRF_FIELD.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> None:
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_token(client, "/login")}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


@pytest.fixture
def client_as(web_app: Flask):  # type: ignore[no-untyped-def]
    def make(role: str | None) -> FlaskClient:
        client = web_app.test_client()
        if role is not None:
            sign_in(client, email_for(role) if role in ROLES else role)
        return client

    return make
