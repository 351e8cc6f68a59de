"""Configuration read from the environment (a `.env` file works too)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = ROOT / "instance"
RULE_SETTINGS = (
    "LEGACY_CHUNK_SIZE",
    "LEGACY_IMPORT_PROCESSES",
    "LEGACY_LEASE_SECONDS",
    "LEGACY_SHARED_CONTACT_THRESHOLD",
    "LEGACY_SIMILAR_NAME_CUTOFF",
    "LEGACY_SIMILAR_NAMES_PER_ROW",
)
LEGACY_URL_VARIABLE = re.compile(r"^LEGACY_(?:(?P<name>[A-Z0-9_]+)_)?DATABASE_URL$")


class ConfigError(Exception):
    """Bad configuration; the message is one line an operator can act on."""

    safe_message = True


def legacy_connections(environ: dict[str, str]) -> dict[str, str]:
    """Named legacy connections: `LEGACY_DATABASE_URL` is `legacy`, `LEGACY_X_DATABASE_URL` is `x`."""
    connections = {}
    for key, value in environ.items():
        match = LEGACY_URL_VARIABLE.match(key)
        if match and value.strip():
            name = (match.group("name") or "legacy").lower()
            connections[name] = value.strip()
    return connections


def load_column_map(raw: str | None) -> dict[str, Any]:
    """`LEGACY_COLUMN_MAP`: a JSON object, or the path of a JSON file holding one."""
    if not raw or not raw.strip():
        return {}
    text = raw.strip()
    if not text.startswith(("{", "[")):
        path = Path(text)
        if not path.is_file():
            raise ConfigError(f"LEGACY_COLUMN_MAP: no such file: {text}")
        text = path.read_text(encoding="utf-8")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(f"LEGACY_COLUMN_MAP is not valid JSON: {error.msg} (line {error.lineno})") from None
    if not isinstance(value, dict):
        raise ConfigError("LEGACY_COLUMN_MAP must be a JSON object")
    return value


def positive_int(key: str, raw: object, default: int) -> int:
    text = str(raw or "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) == 0:
        raise ConfigError(f"{key} must be a positive integer, got {text!r}")
    return int(text)


def config_from_env(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Raw settings; values that can be wrong are checked where they are used, so that a bad
    one gives its one-line error from the command that needs it instead of breaking app loading."""
    env = dict(os.environ if environ is None else environ)
    default_db = f"sqlite:///{INSTANCE_DIR / 'ecoin.sqlite'}"
    return {
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL") or default_db,
        "SECRET_KEY": env.get("SECRET_KEY") or None,
        "LEGACY_CONNECTIONS": legacy_connections(env),
        "LEGACY_COLUMN_MAP": env.get("LEGACY_COLUMN_MAP", ""),
        "LEGACY_BATCH_SIZE": env.get("LEGACY_BATCH_SIZE", ""),
        "CELERY_BROKER_URL": env.get("CELERY_BROKER_URL") or None,
        # Cookies only over HTTPS, unless explicitly turned off (the loopback demo, over HTTP).
        "SESSION_COOKIE_SECURE": env.get("SESSION_COOKIE_SECURE", "1").strip().lower()
        not in ("0", "false", "no"),
        **{key: env.get(key, "") for key in RULE_SETTINGS},
    }
