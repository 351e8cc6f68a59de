"""Sign-in and sign-out."""

from __future__ import annotations

import math
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from app.accounts import services
from app.accounts.forms import SignInForm
from app.audit.services import record
from app.extensions import db
from app.models_base import utcnow
from app.security import public, signed_in, start_session

bp = Blueprint("accounts", __name__)


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("legacy_web.runs"))
    form = SignInForm()
    if form.validate_on_submit():
        keys = [f"email:{form.email.data.strip().lower()}", f"ip:{request.remote_addr}"]
        wait = services.throttle_wait(db.session(), keys)
        if wait.total_seconds() > 0:
            flash(f"Trop de tentatives. Réessayez dans {math.ceil(wait.total_seconds())} s.", "error")
            return render_template("accounts/login.html", form=form), 429
        user = services.authenticate(db.session(), form.email.data, form.password.data)
        if user is None:
            services.record_failure(db.session(), keys)
            record(db.session(), "auth.sign_in_failed", details={"reason": "bad_credentials"})
            db.session.commit()
            flash("Adresse e-mail ou mot de passe incorrect.", "error")
            return render_template("accounts/login.html", form=form), 401
        services.clear_failures(db.session(), keys)
        start_session(user.id)
        login_user(user)
        user.last_login_at = utcnow()
        record(db.session(), "auth.signed_in", actor_id=user.id, object_type="user", object_id=user.id)
        db.session.commit()
        return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@signed_in
def logout() -> Response:
    user_id = current_user.id
    record(db.session(), "auth.signed_out", actor_id=user_id, object_type="user", object_id=user_id)
    db.session.commit()
    logout_user()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("accounts.login"))


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("legacy_web.runs")
