"""Recording audit events."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.audit.models import AuditEvent


def record(
    session: Session,
    action: str,
    *,
    object_type: str | None = None,
    object_id: object = None,
    actor_id: int | None = None,
    actor_label: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Add an audit event to the session; the caller's transaction commits it."""
    session.add(
        AuditEvent(
            action=action,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id),
            actor_id=actor_id,
            actor_label=actor_label,
            details=details,
        )
    )
