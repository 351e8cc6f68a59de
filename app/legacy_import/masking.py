"""Masking of personal data for lists, exports and command output."""

from __future__ import annotations

from typing import Any

MASK = "***"


def mask_phone(value: str | None) -> str | None:
    """Only the last two digits stay: `213559446168` -> `**********68`."""
    if not value:
        return value
    keep = 2 if len(value) > 4 else 0
    return "*" * (len(value) - keep) + value[len(value) - keep :]


def mask_email(value: str | None) -> str | None:
    """First character and domain stay: `amine.kaci@gmail.com` -> `a***@gmail.com`."""
    if not value:
        return value
    local, at, domain = value.partition("@")
    return f"{local[:1]}{MASK}{at}{domain}" if at else f"{value[:1]}{MASK}"


def mask_name(value: str | None) -> str | None:
    """Only the initial stays: `Benali` -> `B***`."""
    if not value:
        return value
    return f"{value.strip()[:1]}{MASK}"


def mask_value(value: Any) -> Any:
    """Anything else personal (birth dates, raw payloads): nothing of it stays."""
    return None if value in (None, "") else MASK
