"""The audit log page, for administrators: newest first, filtered by action or actor."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.accounts.permissions import AUDIT
from app.audit.models import AuditEvent
from app.extensions import db
from app.security import permission_required

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")
PAGE_SIZE = 50


@dataclass(frozen=True)
class EventView:
    event: AuditEvent
    actor: str | None
    changes: list[tuple[str, Any, Any]]
    facts: list[tuple[str, str]]


@bp.route("")
@permission_required(AUDIT)
def log() -> str:
    action = (request.args.get("action") or "").strip()[:100]
    actor_id = request.args.get("actor", type=int)
    before = request.args.get("before", type=int)
    events, more = audit_page(db.session(), action, actor_id, before)
    return render_template(
        "audit/log.html",
        events=events,
        more=more,
        action=action,
        actor_id=actor_id,
        before=before,
        actors=staff(db.session()),
    )


def audit_page(
    session: Session, action: str, actor_id: int | None, before: int | None, limit: int = PAGE_SIZE
) -> tuple[list[EventView], bool]:
    """One page of events, newest first (keyset on id): `before` the last id of the previous page."""
    query = select(AuditEvent, User.email).outerjoin(User, User.id == AuditEvent.actor_id)
    if action:
        query = query.where(AuditEvent.action.startswith(action, autoescape=True))
    if actor_id is not None:
        query = query.where(AuditEvent.actor_id == actor_id)
    if before is not None:
        query = query.where(AuditEvent.id < before)
    found = list(session.execute(query.order_by(AuditEvent.id.desc()).limit(limit + 1)))
    views = [_view(event, email) for event, email in found[:limit]]
    return views, len(found) > limit


def staff(session: Session) -> list[tuple[int, str]]:
    """Staff accounts (those with a role): the people whose actions are audited."""
    query = select(User.id, User.email).where(User.role_id.is_not(None)).order_by(User.email)
    return [(user_id, email or f"utilisateur n°{user_id}") for user_id, email in session.execute(query)]


def _view(event: AuditEvent, email: str | None) -> EventView:
    details = dict(event.details or {})
    before, after = details.pop("before", None), details.pop("after", None)
    changes = []
    if isinstance(before, dict) or isinstance(after, dict):
        before, after = before or {}, after or {}
        changes = [(key, before.get(key), after.get(key)) for key in dict.fromkeys([*before, *after])]
    facts = [(key, _text(value)) for key, value in details.items()]
    return EventView(event, email or event.actor_label, changes, facts)


def _text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return "—" if value is None else str(value)
