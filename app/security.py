"""Web security: sign-in sessions and their timeouts, permission checks, headers, error pages."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from flask import Flask, Response, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user

from app.accounts.models import User
from app.extensions import csrf, db, login_manager

F = TypeVar("F", bound=Callable[..., Any])

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=8)
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def permission_required(permission: str) -> Callable[[F], F]:
    """Signed out: the sign-in page. Signed in without `permission`: 403."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if permission != SIGNED_IN and not current_user.can(permission):
                abort(403)
            return view(*args, **kwargs)

        wrapper.required_permission = permission  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


SIGNED_IN = "signed_in"


def signed_in(view: F) -> F:
    """Any signed-in person may use this view (signing out, for one)."""
    return permission_required(SIGNED_IN)(view)


def public(view: F) -> F:
    """Marks a view that needs no sign-in (the sign-in page itself)."""
    view.public = True  # type: ignore[attr-defined]
    return view


def init_security(app: Flask) -> None:
    # Flask's defaults are SameSite unset and 31-day sessions (FIELD-NOTES): overridden here.
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=ABSOLUTE_TIMEOUT,
        WTF_CSRF_TIME_LIMIT=int(ABSOLUTE_TIMEOUT.total_seconds()),
    )
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Connectez-vous pour continuer."
    login_manager.session_protection = "strong"
    csrf.init_app(app)
    app.before_request(_expire_sessions)
    app.after_request(_security_headers)
    for code in (400, 403, 404, 405, 500):
        app.register_error_handler(code, _error_page)


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.is_active and user.password_hash else None


def start_session(user_id: int) -> None:
    """A new session at sign-in, with the clocks of its two timeouts."""
    session.clear()
    session.permanent = True
    now = int(time.time())
    session["signed_in_at"] = now
    session["seen_at"] = now


def _expire_sessions() -> Any:
    if not current_user.is_authenticated:
        return None
    now = int(time.time())
    signed_in, seen = session.get("signed_in_at", 0), session.get("seen_at", 0)
    if now - seen > IDLE_TIMEOUT.total_seconds() or now - signed_in > ABSOLUTE_TIMEOUT.total_seconds():
        logout_user()
        session.clear()
        flash("Votre session a expiré, reconnectez-vous.", "warning")
        return redirect(url_for("accounts.login", next=request.path))
    session["seen_at"] = now
    return None


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if not request.path.startswith("/static/"):
        headers["Cache-Control"] = "no-store"
    return response


def _error_page(error: Any) -> tuple[str, int]:
    code = getattr(error, "code", 500) or 500
    return render_template("errors/error.html", code=code), code
