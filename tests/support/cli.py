"""Running `flask legacy ...` through the app's test CLI runner."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask


def legacy_json(app: Flask, *args: str) -> dict[str, Any]:
    """`flask legacy <args> --json`, which must succeed; its one JSON object."""
    result = app.test_cli_runner().invoke(args=["legacy", *args, "--json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)
