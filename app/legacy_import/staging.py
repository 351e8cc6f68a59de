"""Turning a legacy record into staging values: pure, no database.

A value that cannot be normalized never stops the row: the problem is recorded in the row's
`normalization_issues`, and the raw value is kept beside the normalized one.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from app.legacy_import import normalize
from app.legacy_import.references import NO_SESSION_DETAILS, RunReferences
from app.legacy_import.source import LegacyRecord, json_ready

T = TypeVar("T")
P = ParamSpec("P")

TEXT_LIMIT = 191
# What a value that raised is staged as.
NO_TEXT: tuple[str | None, bool] = (None, False)  # a text that could not be read, not repaired
NO_PHONE = normalize.PhoneResult(None, (), normalize.INVALID)
NO_EMAIL = normalize.EmailResult(None, normalize.INVALID)
NO_BIRTH_DATE = normalize.BirthDateResult(None, normalize.UNPARSEABLE)


@dataclass
class RowNotes:
    """What happened to one row while it was normalized."""

    issues: list[str] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)

    def attempt(
        self, name: str, fallback: T, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``function(*args, **kwargs)``, or ``fallback`` with ``<name>_error`` noted when it raises."""
        try:
            return function(*args, **kwargs)
        except Exception:  # noqa: BLE001 - one bad value must never stop the row
            self.issues.append(f"{name}_error")
            return fallback

    def clip(self, name: str, value: str | None, limit: int = TEXT_LIMIT) -> str | None:
        if value is not None and len(value) > limit:
            self.issues.append(f"{name}_truncated")
            return value[:limit]
        return value


def as_text(value: Any) -> str | None:
    """The raw value as text, as the legacy database showed it."""
    if value is None or isinstance(value, str):
        return value
    ready = json_ready(value)
    return ready if isinstance(ready, str) else str(ready)


# The app database's BIGINT; the legacy BIGINT UNSIGNED reaches 2**64 - 1 (a -1 gone unsigned).
REFERENCE_RANGE = range(-(2**63), 2**63)


def as_reference(value: Any) -> int | None:
    """A legacy foreign key as an int; None for NULL, anything that is not a whole number, or
    a number no row of the app database could carry (the raw payload keeps it)."""
    if value is None or isinstance(value, bool):
        return None
    if type(value) is int:  # what an integer column gives; subclasses go through str() below
        number = value
    else:
        try:
            number = int(str(value).strip())
        except ValueError:
            return None
    return number if number in REFERENCE_RANGE else None


def student_values(
    record: LegacyRecord, source_table: str, run_id: int, today: dt.date | None = None
) -> dict[str, Any]:
    """The row's staging values; a birth date after `today` (default: now) is out of range.
    A batch passes its own `today`: asking the clock for each row took 0.6 us of its ~23."""
    notes = RowNotes()
    values = record.values
    first_name, first_repaired = notes.attempt(
        "first_name", NO_TEXT, normalize.clean_name, values.get("first_name")
    )
    last_name, last_repaired = notes.attempt(
        "last_name", NO_TEXT, normalize.clean_name, values.get("last_name")
    )
    status_text, status_repaired = notes.attempt(
        "status", NO_TEXT, normalize.clean_name, values.get("status")
    )
    for name, repaired in (
        ("first_name", first_repaired),
        ("last_name", last_repaired),
        ("status", status_repaired),
    ):
        if repaired:
            notes.repairs.append(name)
    phone = notes.attempt("phone", NO_PHONE, normalize.normalize_phone, values.get("phone"))
    email = notes.attempt("email", NO_EMAIL, normalize.normalize_email, values.get("email"))
    birth = notes.attempt(
        "birth_date", NO_BIRTH_DATE, normalize.parse_birth_date, values.get("birth_date"), today
    )
    if phone.status == "invalid":
        notes.issues.append("phone_invalid")
    if email.status == "invalid":
        notes.issues.append("email_invalid")
    if birth.issue:
        notes.issues.append(f"birth_date_{birth.issue}")
    key = notes.attempt("name_key", None, normalize.name_key, first_name, last_name)
    return {
        "import_run_id": run_id,
        "source_table": source_table,
        "legacy_id": record.legacy_id,
        "legacy_stagiaire_id": as_reference(values.get("stagiaire_id")),
        "first_name": notes.clip("first_name", first_name),
        "last_name": notes.clip("last_name", last_name),
        "name_key": notes.clip("name_key", key, 400),
        "phone_raw": as_text(values.get("phone")),
        "phone_normalized": phone.normalized,
        "phone_alternates": list(phone.alternates) or None,
        "phone_status": phone.status,
        "email_raw": as_text(values.get("email")),
        "email_normalized": notes.clip("email", email.normalized, 255),
        "email_status": email.status,
        "birth_date": birth.value,
        "birth_date_raw": notes.clip("birth_date_raw", as_text(values.get("birth_date"))),
        "status_raw": notes.clip("status_raw", as_text(values.get("status"))),
        "status_text": notes.clip("status", status_text),
        "legacy_formation_id": as_reference(values.get("formation_id")),
        "legacy_session_id": as_reference(values.get("session_id")),
        "normalization_issues": notes.issues or None,
        "text_repairs": notes.repairs or None,
        "raw_payload": record.raw,
    }


def training_values(row: Mapping[str, Any], references: RunReferences) -> dict[str, Any]:
    """The training child of a row as staged (with its id): its formation's name and its
    session's code and dates come from the run's mappings, its session type from the rules."""
    formation_id, session_id = row["legacy_formation_id"], row["legacy_session_id"]
    details = references.session_details.get(session_id, NO_SESSION_DETAILS)
    return {
        "student_import_id": row["id"],
        "import_run_id": row["import_run_id"],
        "legacy_formation_id": formation_id,
        "legacy_formation_name": references.formation_names.get(formation_id),
        "legacy_session_id": session_id,
        "legacy_session_code": details.code,
        "session_starts_on": details.starts_on,
        "session_ends_on": details.ends_on,
        "session_type": references.session_decision(session_id).session_type.value,
        "import_action": row.get("import_action"),  # none on a row staged without its values
    }


def formation_values(record: LegacyRecord, run_id: int) -> dict[str, Any]:
    name, _ = normalize.clean_name(record.values.get("name"))
    return {
        "import_run_id": run_id,
        "legacy_formation_id": record.legacy_id,
        "legacy_name": name[:255] if name else None,
        "raw_payload": record.raw,
    }


def session_values(record: LegacyRecord, run_id: int) -> dict[str, Any]:
    values = record.values
    code, _ = normalize.clean_name(values.get("code"))
    return {
        "import_run_id": run_id,
        "legacy_session_id": record.legacy_id,
        "code": code[:TEXT_LIMIT] if code else None,
        "legacy_formation_id": as_reference(values.get("formation_id")),
        "starts_on": _session_date(values.get("starts_on")),
        "ends_on": _session_date(values.get("ends_on")),
        "raw_payload": record.raw,
    }


def _session_date(value: Any) -> dt.date | None:
    return normalize.parse_birth_date(value, today=dt.date.max).value


def fallback_values(row: dict[str, Any]) -> dict[str, Any]:
    """What to stage when the database refuses a row's normalized values: the identity and a
    text form of the raw payload, with the problem recorded, so that the row is never lost."""
    payload_text = json.dumps(row["raw_payload"], ensure_ascii=True, default=str)
    reserved = {"id": row["id"]} if "id" in row else {}  # the id its training is found by
    return {
        **reserved,
        "import_run_id": row["import_run_id"],
        "source_table": row["source_table"],
        "legacy_id": row["legacy_id"],
        "legacy_stagiaire_id": row["legacy_stagiaire_id"],
        "legacy_formation_id": row["legacy_formation_id"],
        "legacy_session_id": row["legacy_session_id"],
        "phone_status": "invalid",
        "email_status": "invalid",
        "normalization_issues": ["staging_error"],
        "raw_payload": {"unstorable_payload": payload_text},
    }
