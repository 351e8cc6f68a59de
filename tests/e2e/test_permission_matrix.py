"""Every registered route x every role (and signed out): allowed or denied as the permissions say.

A new route without a permission check fails here: each view must declare its permission with
`permission_required` (or `signed_in`), or be marked `public`.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from app.accounts.permissions import ROLE_PERMISSIONS, VIEW, VIEW_RAW
from app.security import SIGNED_IN
from tests.e2e.conftest import csrf_token

PEOPLE = {
    **{role: set(permissions) for role, permissions in ROLE_PERMISSIONS.items()},
    "raw.viewer@ecoin.test": {VIEW, VIEW_RAW},
}


def routes(app: Flask) -> list[tuple[str, str, Any]]:
    """(method, path with sample arguments, view) for every registered route."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        _, path = rule.build({argument: 1 for argument in rule.arguments}, append_unknown=False)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, path, app.view_functions[rule.endpoint]))
    return found


def required(view: Any) -> str | None:
    return getattr(view, "required_permission", None)


def test_every_route_declares_who_may_use_it(web_app: Flask) -> None:
    undeclared = [
        f"{method} {path}"
        for method, path, view in routes(web_app)
        if required(view) is None and not getattr(view, "public", False) and view.__name__ != "<lambda>"
    ]
    assert undeclared == []


@pytest.mark.parametrize("person", [None, *PEOPLE])
def test_the_permission_matrix(web_app: Flask, client_as: Any, person: str | None) -> None:
    web_app.test_cli_runner().invoke(args=["legacy", "import", "--json"])  # run 1, rows 1..
    client = client_as(person)
    token = csrf_token(client, "/login") if person is None else csrf_token(client, "/admin/legacy-imports")
    granted = PEOPLE.get(person or "", set())
    for method, path, view in routes(web_app):
        permission = required(view)
        if permission is None or path == "/logout":
            continue
        response = client.open(path, method=method, data={"csrf_token": token} if method == "POST" else None)
        where = f"{method} {path} as {person}"
        if person is None:
            assert response.status_code == 302 and "/login" in response.headers["Location"], where
        elif permission == SIGNED_IN or permission in granted:
            assert response.status_code not in (401, 403), where
            assert response.status_code < 500, where
        else:
            assert response.status_code == 403, where
