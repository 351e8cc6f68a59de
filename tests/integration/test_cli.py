"""The `flask legacy` contract on the embedded default: SQLite app database, SQLite legacy demo."""

from __future__ import annotations

import csv
import json
import logging
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app import create_app

pytestmark = pytest.mark.integration


def run_cli(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


def imported_run(app: Flask) -> dict[str, Any]:
    result = run_cli(app, "legacy", "import", "--connection=legacy", "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def legacy_personal_values(legacy_url: str) -> set[str]:
    """Every phone, e-mail and name of the legacy demo, as written there (long enough to matter)."""
    conn = sqlite3.connect(legacy_url.removeprefix("sqlite:///"))
    values: set[str] = set()
    for table in ("stagiaires", "archives"):
        for row in conn.execute(f"SELECT nom, prenom, telephone, email FROM {table}"):
            values.update(v.strip() for v in row if isinstance(v, str) and len(v.strip()) >= 5)
    conn.close()
    return values - {"NULL", "null", "néant", "inconnue"}


def test_import_with_json_prints_one_json_object(sqlite_app: Flask) -> None:
    result = run_cli(sqlite_app, "legacy", "import", "--connection=legacy", "--label=demo", "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert set(summary) >= {"run_id", "status", "counters"}
    assert summary["status"] == "ingested"
    assert summary["counters"]["stagiaires_staged"] + summary["counters"]["archives_staged"] == 600


def test_no_personal_data_in_output_or_logs(
    sqlite_app: Flask, legacy_sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    outputs = [run_cli(sqlite_app, "legacy", "import", "--connection=legacy")]
    run_id = imported_run(sqlite_app)["run_id"]
    outputs += [
        run_cli(sqlite_app, "legacy", "status"),
        run_cli(sqlite_app, "legacy", "status", f"--run={run_id}"),
    ]
    seen = "\n".join([o.stdout + o.stderr for o in outputs] + [caplog.text])
    assert "ingested" in seen
    leaked = [value for value in legacy_personal_values(legacy_sqlite_url) if value in seen]
    assert leaked == []


def test_unknown_connection_is_a_one_line_error(sqlite_app: Flask) -> None:
    result = run_cli(sqlite_app, "legacy", "import", "--connection=crm2019", "--json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "Error: no legacy connection named 'crm2019': set LEGACY_CRM2019_DATABASE_URL\n"


@pytest.mark.parametrize(
    ("setting", "value"),
    [("LEGACY_IMPORT_PROCESSES", "two"), ("LEGACY_BATCH_SIZE", "0"), ("LEGACY_CHUNK_SIZE", "-5")],
)
def test_a_bad_ingest_setting_is_a_one_line_error_and_makes_no_run(
    sqlite_app: Flask, setting: str, value: str
) -> None:
    sqlite_app.config[setting] = value
    result = run_cli(sqlite_app, "legacy", "import", "--json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: {setting} must be a positive integer, got {value!r}\n"
    assert json.loads(run_cli(sqlite_app, "legacy", "status", "--json").stdout)["runs"] == []


def test_a_bad_rule_setting_stops_validation_before_it_starts(sqlite_app: Flask) -> None:
    run_id = json.loads(run_cli(sqlite_app, "legacy", "import", "--json").stdout)["run_id"]
    sqlite_app.config["LEGACY_SHARED_CONTACT_THRESHOLD"] = "many"
    result = run_cli(sqlite_app, "legacy", "validate", f"--run={run_id}", "--json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "Error: LEGACY_SHARED_CONTACT_THRESHOLD must be a positive integer, got 'many'\n"
    status = json.loads(run_cli(sqlite_app, "legacy", "status", f"--run={run_id}", "--json").stdout)
    assert status["status"] == "ingested"


def test_unknown_run_is_a_one_line_error(sqlite_app: Flask) -> None:
    result = run_cli(sqlite_app, "legacy", "status", "--run=4242")
    assert result.exit_code == 1
    assert result.stderr == "Error: no import run with id 4242\n"


def test_bad_column_map_is_a_one_line_error(sqlite_app: Flask) -> None:
    sqlite_app.config["LEGACY_COLUMN_MAP"] = '{"stagiaires": {"columns": {"phone": }}'
    result = run_cli(sqlite_app, "legacy", "import")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: LEGACY_COLUMN_MAP is not valid JSON")
    assert result.stderr.count("\n") == 1


def renamed_phone_column(legacy_url: str, tmp_path: Path) -> str:
    path = tmp_path / "renamed.sqlite"
    shutil.copy(legacy_url.removeprefix("sqlite:///"), path)
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE stagiaires RENAME COLUMN telephone TO tel_portable")
    conn.commit()
    conn.close()
    return f"sqlite:///{path}"


def test_a_renamed_legacy_column_needs_only_configuration(
    sqlite_app: Flask, legacy_sqlite_url: str, tmp_path: Path
) -> None:
    sqlite_app.config["LEGACY_CONNECTIONS"] = {"legacy": renamed_phone_column(legacy_sqlite_url, tmp_path)}

    refused = run_cli(sqlite_app, "legacy", "import")
    assert refused.exit_code == 1
    assert "has no column 'telephone' (field 'phone' of stagiaires; see LEGACY_COLUMN_MAP)" in refused.stderr

    sqlite_app.config["LEGACY_COLUMN_MAP"] = json.dumps(
        {"stagiaires": {"columns": {"phone": "tel_portable"}}}
    )
    summary = imported_run(sqlite_app)
    assert summary["status"] == "ingested"
    assert summary["counters"]["phones_valid"] > 300


def test_status_lists_every_run(sqlite_app: Flask) -> None:
    first, second = imported_run(sqlite_app), imported_run(sqlite_app)
    result = run_cli(sqlite_app, "legacy", "status", "--json")
    runs = json.loads(result.stdout)["runs"]
    assert [r["run_id"] for r in runs] == [first["run_id"], second["run_id"]]
    assert runs[0]["progress"]["percent"] == 100.0


def test_export_masks_personal_data_unless_asked(
    sqlite_app: Flask, legacy_sqlite_url: str, tmp_path: Path
) -> None:
    run_id = imported_run(sqlite_app)["run_id"]
    masked, full = tmp_path / "masked.csv", tmp_path / "full.csv"
    assert run_cli(sqlite_app, "legacy", "export", f"--run={run_id}", f"--output={masked}").exit_code == 0
    result = run_cli(
        sqlite_app, "legacy", "export", f"--run={run_id}", f"--output={full}", "--include-pii", "--json"
    )
    assert json.loads(result.stdout)["rows"] == 600

    rows = list(csv.DictReader(masked.open(encoding="utf-8")))
    assert len(rows) == 600
    assert {"legacy_id", "phone_normalized", "email_status", "session_type", "raw_payload"} <= set(rows[0])
    personal = legacy_personal_values(legacy_sqlite_url)
    assert not any(value in masked.read_text(encoding="utf-8") for value in personal)
    full_text = full.read_text(encoding="utf-8")
    assert sum(value in full_text for value in personal) > len(personal) // 2


def test_export_as_json_lines(sqlite_app: Flask, tmp_path: Path) -> None:
    run_id = imported_run(sqlite_app)["run_id"]
    output = tmp_path / "rows.jsonl"
    result = run_cli(
        sqlite_app, "legacy", "export", f"--run={run_id}", f"--output={output}", "--format=jsonl"
    )
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 600
    assert all(line["raw_payload"] in ("***", None) for line in lines)


def test_the_app_factory_reads_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite'}")
    monkeypatch.setenv("LEGACY_DATABASE_URL", "mysql+pymysql://reader@db/old")
    monkeypatch.setenv("LEGACY_ARCHIVE2019_DATABASE_URL", "sqlite:////tmp/old.sqlite")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("x.sqlite")
    connections = app.config["LEGACY_CONNECTIONS"]
    assert connections["legacy"] == "mysql+pymysql://reader@db/old"
    assert connections["archive2019"] == "sqlite:////tmp/old.sqlite"
