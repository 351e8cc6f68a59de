"""`flask users ...`: staff accounts for the web workspace."""

from __future__ import annotations

import json
import os
import secrets
import sys

import click
from flask.cli import AppGroup

from app.accounts import services
from app.accounts.permissions import ALL_PERMISSIONS, ROLES
from app.extensions import db
from app.legacy_import.masking import mask_email

users_cli = AppGroup("users", help="Staff accounts for the web workspace.")

email_option = click.option("--email", required=True, help="The person's e-mail address (their sign-in).")
role_option = click.option("--role", type=click.Choice(ROLES), required=True)
json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object only.")


def _done(payload: dict[str, object], as_json: bool, message: str) -> None:
    click.echo(json.dumps(payload) if as_json else message)


def _fail(error: Exception) -> None:
    click.echo(f"Error: {error}", err=True)
    sys.exit(1)


@users_cli.command("create")
@email_option
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@role_option
@json_option
def create_command(email: str, password_stdin: bool, role: str, as_json: bool) -> None:
    """Create a staff account; the password is read from standard input, never an argument."""
    if not password_stdin:
        _fail(services.AccountError("give the password on standard input with --password-stdin"))
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = services.create_staff(db.session(), email, password, role)
    except services.AccountError as error:
        _fail(error)
        return
    _done(
        {"user_id": user.id, "role": role},
        as_json,
        f"Created staff account {user.id} ({mask_email(user.email)}) with role {role}",
    )


@users_cli.command("set-role")
@email_option
@role_option
@json_option
def set_role_command(email: str, role: str, as_json: bool) -> None:
    """Change a staff account's role."""
    try:
        user = services.set_role(db.session(), email, role)
    except services.AccountError as error:
        _fail(error)
        return
    _done({"user_id": user.id, "role": role}, as_json, f"Staff account {user.id} now has role {role}")


@users_cli.command("grant")
@email_option
@click.option("--permission", type=click.Choice(ALL_PERMISSIONS), required=True)
@json_option
def grant_command(email: str, permission: str, as_json: bool) -> None:
    """Grant one permission to a person, e.g. legacy_imports.view_raw."""
    try:
        user = services.grant(db.session(), email, permission)
    except services.AccountError as error:
        _fail(error)
        return
    _done(
        {"user_id": user.id, "permission": permission},
        as_json,
        f"Staff account {user.id} was granted {permission}",
    )


DEMO_ADMIN_EMAIL = "admin@ecoin.demo"


@users_cli.command("demo-admin")
def demo_admin_command() -> None:
    """Demo mode only (ECOIN_DEMO=1): (re)create the demo administrator with a fresh random
    password, printed once. Outside demo mode there is no default account or password."""
    if os.environ.get("ECOIN_DEMO") != "1":
        _fail(services.AccountError("demo-admin only works in demo mode (ECOIN_DEMO=1)"))
    password = secrets.token_urlsafe(12)
    services.reset_demo_admin(db.session(), DEMO_ADMIN_EMAIL, password)
    click.echo(f"Demo administrator: {DEMO_ADMIN_EMAIL}  one-time password: {password}")
