"""Opening the named legacy connections configured for the app."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.config import ConfigError, load_column_map
from app.legacy_import.source import DatabaseLegacySourceReader


def open_reader(config: Mapping[str, Any], connection_name: str) -> DatabaseLegacySourceReader:
    connections: dict[str, str] = config["LEGACY_CONNECTIONS"]
    if connection_name not in connections:
        variable = (
            "LEGACY_DATABASE_URL"
            if connection_name == "legacy"
            else (f"LEGACY_{connection_name.upper()}_DATABASE_URL")
        )
        raise ConfigError(f"no legacy connection named {connection_name!r}: set {variable}")
    column_map = load_column_map(config.get("LEGACY_COLUMN_MAP"))
    return DatabaseLegacySourceReader(connections[connection_name], column_map)
