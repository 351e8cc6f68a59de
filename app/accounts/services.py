"""Staff accounts: creation, roles, explicit grants, and password checks with throttling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from app.accounts.models import LoginThrottle, Permission, Role, User
from app.accounts.permissions import ALL_PERMISSIONS, ROLES
from app.audit.services import record
from app.models_base import utcnow

MIN_PASSWORD_LENGTH = 12
FREE_FAILURES = 5  # failures allowed before sign-ins are slowed down
MAX_BLOCK = timedelta(minutes=15)


class AccountError(Exception):
    """Bad input for an account operation; the message is one line for the operator."""


def find_user(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(func.lower(User.email) == email.strip().lower())).first()


def role_named(session: Session, name: str) -> Role:
    role = session.scalars(select(Role).where(Role.name == name)).first()
    if role is None:
        raise AccountError(f"unknown role {name!r}; choose one of: {', '.join(ROLES)}")
    return role


def create_staff(session: Session, email: str, password: str, role_name: str) -> User:
    email = email.strip().lower()
    if "@" not in email:
        raise AccountError("the e-mail address is not valid")
    if find_user(session, email) is not None:
        raise AccountError("an account with this e-mail address already exists")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    user = User(
        email=email, password_hash=generate_password_hash(password), role=role_named(session, role_name)
    )
    session.add(user)
    session.flush()
    record(
        session,
        "account.created",
        object_type="user",
        object_id=user.id,
        actor_label="cli",
        details={"role": role_name},
    )
    session.commit()
    return user


def reset_demo_admin(session: Session, email: str, password: str) -> User:
    """The demo's administrator, with a new password each time the demo starts."""
    user = find_user(session, email)
    if user is None:
        return create_staff(session, email, password, "administrator")
    user.password_hash = generate_password_hash(password)
    user.role = role_named(session, "administrator")
    record(session, "account.demo_password_reset", object_type="user", object_id=user.id, actor_label="cli")
    session.commit()
    return user


def set_role(session: Session, email: str, role_name: str) -> User:
    user = _staff(session, email)
    before = user.role.name if user.role else None
    user.role = role_named(session, role_name)
    record(
        session,
        "account.role_changed",
        object_type="user",
        object_id=user.id,
        actor_label="cli",
        details={"before": before, "after": role_name},
    )
    session.commit()
    return user


def grant(session: Session, email: str, code: str) -> User:
    if code not in ALL_PERMISSIONS:
        raise AccountError(f"unknown permission {code!r}; choose one of: {', '.join(ALL_PERMISSIONS)}")
    user = _staff(session, email)
    permission = session.scalars(select(Permission).where(Permission.code == code)).one()
    if permission not in user.extra_permissions:
        user.extra_permissions.append(permission)
    record(
        session,
        "account.permission_granted",
        object_type="user",
        object_id=user.id,
        actor_label="cli",
        details={"permission": code},
    )
    session.commit()
    return user


def _staff(session: Session, email: str) -> User:
    user = find_user(session, email)
    if user is None or user.password_hash is None:
        raise AccountError("no staff account with this e-mail address")
    return user


def throttle_wait(session: Session, keys: list[str], now: datetime | None = None) -> timedelta:
    """How long sign-ins for these keys (e-mail, client address) must still wait."""
    now = now or utcnow()
    blocks = session.scalars(select(LoginThrottle.blocked_until).where(LoginThrottle.key.in_(keys))).all()
    waits = [_aware(until) - now for until in blocks if until is not None and _aware(until) > now]
    return max(waits, default=timedelta(0))


def record_failure(session: Session, keys: list[str]) -> None:
    """Each failure past the free ones doubles the wait: 2 s, 4 s, 8 s, ... up to 15 minutes."""
    now = utcnow()
    for key in keys:
        throttle = session.get(LoginThrottle, key) or LoginThrottle(key=key, failures=0)
        throttle.failures = (throttle.failures or 0) + 1
        throttle.last_failure_at = now
        extra = throttle.failures - FREE_FAILURES
        if extra > 0:
            throttle.blocked_until = now + min(timedelta(seconds=2**extra), MAX_BLOCK)
        session.add(throttle)
    session.commit()


def clear_failures(session: Session, keys: list[str]) -> None:
    for key in keys:
        throttle = session.get(LoginThrottle, key)
        if throttle is not None:
            session.delete(throttle)
    session.commit()


def authenticate(session: Session, email: str, password: str) -> User | None:
    user = find_user(session, email)
    if user is None or user.password_hash is None or not user.is_active:
        check_password_hash(generate_password_hash("timing"), password)  # same cost either way
        return None
    return user if check_password_hash(user.password_hash, password) else None


def _aware(value: datetime) -> datetime:
    """SQLite gives back naive datetimes; they were written in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
