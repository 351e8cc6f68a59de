"""Signing in and out, throttling, sessions, CSRF and security headers, through the test client."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.e2e.conftest import PASSWORD, csrf_token, email_for, sign_in


def test_signed_out_visitors_are_sent_to_the_sign_in_page(web_app: Flask) -> None:
    response = web_app.test_client().get("/admin/legacy-imports")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_sign_in_then_out(web_app: Flask) -> None:
    client = web_app.test_client()
    sign_in(client, email_for("viewer"))
    assert client.get("/admin/legacy-imports").status_code == 200
    token = csrf_token(client, "/admin/legacy-imports")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/admin/legacy-imports").status_code == 302


def test_a_wrong_password_is_refused_and_repeated_failures_are_slowed(web_app: Flask) -> None:
    client = web_app.test_client()
    statuses = []
    for _ in range(7):
        response = client.post(
            "/login",
            data={
                "email": email_for("viewer"),
                "password": "wrong password!",
                "csrf_token": csrf_token(client, "/login"),
            },
        )
        statuses.append(response.status_code)
    assert statuses[:6] == [401] * 6
    assert statuses[6] == 429
    blocked = client.post(
        "/login",
        data={"email": email_for("viewer"), "password": PASSWORD, "csrf_token": csrf_token(client, "/login")},
    )
    assert blocked.status_code == 429  # even the right password waits


def test_a_post_without_csrf_token_is_refused(web_app: Flask) -> None:
    response = web_app.test_client().post("/login", data={"email": email_for("viewer"), "password": PASSWORD})
    assert response.status_code == 400


def test_security_headers_and_cookie_flags(web_app: Flask) -> None:
    client: FlaskClient = web_app.test_client()
    response = client.get("/login")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    sign_in(client, email_for("viewer"))
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"


def test_an_idle_session_expires(web_app: Flask) -> None:
    client = web_app.test_client()
    sign_in(client, email_for("viewer"))
    with client.session_transaction() as session:
        session["seen_at"] -= 31 * 60
    response = client.get("/admin/legacy-imports")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_error_pages_leak_nothing(web_app: Flask) -> None:
    client = web_app.test_client()
    sign_in(client, email_for("viewer"))
    response = client.get("/admin/legacy-imports/nope/nothing")
    assert response.status_code == 404
    assert "Page introuvable" in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_staff_accounts_from_the_command_line(web_app: Flask) -> None:
    runner = web_app.test_cli_runner()
    created = runner.invoke(
        args=["users", "create", "--email=Nadia@Ecoin.test", "--password-stdin", "--role=reviewer", "--json"],
        input="a long enough secret\n",
    )
    assert created.exit_code == 0, created.stderr
    assert "nadia" not in created.stdout.lower()
    changed = runner.invoke(args=["users", "set-role", "--email=nadia@ecoin.test", "--role=import_manager"])
    assert changed.exit_code == 0
    client = web_app.test_client()
    sign_in(client, "nadia@ecoin.test", "a long enough secret")
    assert client.get("/admin/legacy-imports").status_code == 200


def test_bad_account_input_is_a_one_line_error(web_app: Flask) -> None:
    runner = web_app.test_cli_runner()
    short = runner.invoke(
        args=["users", "create", "--email=x@ecoin.test", "--password-stdin", "--role=viewer"], input="short\n"
    )
    assert short.exit_code == 1
    assert short.stderr == "Error: the password must have at least 12 characters\n"
    twice = runner.invoke(
        args=["users", "create", f"--email={email_for('viewer')}", "--password-stdin", "--role=viewer"],
        input="a long enough secret\n",
    )
    assert twice.stderr == "Error: an account with this e-mail address already exists\n"
    no_stdin = runner.invoke(args=["users", "create", "--email=y@ecoin.test", "--role=viewer"])
    assert no_stdin.stderr == "Error: give the password on standard input with --password-stdin\n"
