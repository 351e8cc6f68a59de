"""Staging values of one legacy record: pure, no database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from app.config import ConfigError, legacy_connections, load_column_map, positive_int
from app.legacy_import import staging
from app.legacy_import.masking import mask_email, mask_name, mask_phone, mask_value
from app.legacy_import.references import RunReferences, SessionDetails
from app.legacy_import.source import DEFAULT_LAYOUT, LegacyRecord, build_layout, json_ready
from app.legacy_import.vocab import SessionType


def record(**values: object) -> LegacyRecord:
    return LegacyRecord(legacy_id=7, values={"id": 7, **values}, raw={"id": 7, **values})


def test_a_clean_row_is_normalized() -> None:
    row = staging.student_values(
        record(
            first_name="Amine",
            last_name="Benali",
            phone="0559 44 61 68",
            email=" Amine.Benali@Gmail.com ",
            birth_date=dt.date(1998, 3, 15),
            status="Formée",
            formation_id=3,
            session_id=12,
        ),
        "stagiaires",
        run_id=1,
    )
    assert row["phone_normalized"] == "213559446168"
    assert row["phone_raw"] == "0559 44 61 68"
    assert row["email_normalized"] == "amine.benali@gmail.com"
    assert row["email_status"] == "valid"
    assert row["birth_date"] == dt.date(1998, 3, 15)
    assert row["birth_date_raw"] == "1998-03-15"
    assert (row["legacy_formation_id"], row["legacy_session_id"]) == (3, 12)
    assert row["normalization_issues"] is None
    assert row["text_repairs"] is None


def test_a_messy_row_is_staged_with_what_went_wrong() -> None:
    row = staging.student_values(
        record(
            first_name="ChÃ©rif",
            last_name=None,
            phone="00",
            email="amine@",
            birth_date="0000-00-00",
            status="FormÃ©e",
            formation_id=0,
            session_id="abc",
        ),
        "archives",
        run_id=1,
    )
    assert row["first_name"] == "Chérif"
    assert row["status_text"] == "Formée"
    assert row["text_repairs"] == ["first_name", "status"]
    assert row["phone_normalized"] is None
    assert row["phone_raw"] == "00"
    assert row["normalization_issues"] == ["phone_invalid", "email_invalid", "birth_date_zero_date"]
    assert row["legacy_session_id"] is None
    assert row["birth_date_raw"] == "0000-00-00"


CLEAN = {
    "first_name": "Amine",
    "last_name": "Benali",
    "phone": "0559446168",
    "email": "amine.benali@gmail.com",
    "birth_date": "15/03/1998",
    "status": "Formée",
}


@pytest.mark.parametrize(
    ("normalizer", "issues", "staged"),
    [
        (
            "clean_name",
            ["first_name_error", "last_name_error", "status_error"],
            {"first_name": None, "last_name": None, "status_text": None, "name_key": None},
        ),
        (
            "normalize_phone",
            ["phone_error", "phone_invalid"],
            {"phone_normalized": None, "phone_status": "invalid"},
        ),
        (
            "normalize_email",
            ["email_error", "email_invalid"],
            {"email_normalized": None, "email_status": "invalid"},
        ),
        ("parse_birth_date", ["birth_date_error", "birth_date_unparseable"], {"birth_date": None}),
        ("name_key", ["name_key_error"], {"name_key": None, "first_name": "Amine"}),
    ],
)
def test_a_normalizer_that_raises_does_not_lose_the_row(
    monkeypatch: pytest.MonkeyPatch, normalizer: str, issues: list[str], staged: dict[str, object]
) -> None:
    def broken(*_raw: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(staging.normalize, normalizer, broken)
    row = staging.student_values(record(**CLEAN), "stagiaires", run_id=1)
    assert row["normalization_issues"] == issues
    assert {name: row[name] for name in staged} == staged
    assert (row["phone_raw"], row["email_raw"], row["birth_date_raw"]) == (
        "0559446168",
        CLEAN["email"],
        "15/03/1998",
    )


def test_the_clean_values_raise_no_issue() -> None:
    row = staging.student_values(record(**CLEAN), "stagiaires", run_id=1)
    assert row["normalization_issues"] is None
    assert (row["name_key"], row["phone_normalized"], row["birth_date"]) == (
        "amine benali",
        "213559446168",
        dt.date(1998, 3, 15),
    )


def test_a_training_copies_its_formation_and_session_from_the_run_mappings() -> None:
    references = RunReferences(
        formations=frozenset({3}),
        session_types={12: SessionType.REAL_SESSION},
        session_formations={12: 3},
        formation_names={3: "Pâtisserie"},
        session_details={12: SessionDetails("PAT-12", dt.date(2019, 1, 6), dt.date(2019, 6, 30))},
    )
    row = {"id": 40, "import_run_id": 1, "legacy_formation_id": 3, "legacy_session_id": 12}

    training = staging.training_values(
        {**row, "import_action": "create_legacy_completed_training"}, references
    )

    assert training == {
        "student_import_id": 40,
        "import_run_id": 1,
        "legacy_formation_id": 3,
        "legacy_formation_name": "Pâtisserie",
        "legacy_session_id": 12,
        "legacy_session_code": "PAT-12",
        "session_starts_on": dt.date(2019, 1, 6),
        "session_ends_on": dt.date(2019, 6, 30),
        "session_type": "real_session",
        "import_action": "create_legacy_completed_training",
    }
    waiting = staging.training_values({**row, "legacy_formation_id": 99, "legacy_session_id": 1}, references)
    assert (waiting["legacy_formation_name"], waiting["legacy_session_code"]) == (None, None)
    assert (waiting["session_type"], waiting["import_action"]) == ("waiting_session", None)
    dangling = staging.training_values({**row, "legacy_session_id": 77}, references)
    assert (dangling["session_type"], dangling["session_starts_on"]) == ("unknown", None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3, 3),
        ("12", 12),
        (" 7 ", 7),
        (Decimal("5"), 5),
        (None, None),
        (True, None),
        (1.5, None),
        ("", None),
        (2**63 - 1, 2**63 - 1),
        (2**64 - 1, None),
        (str(2**63), None),
    ],
)
def test_legacy_references(value: object, expected: int | None) -> None:
    assert staging.as_reference(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0559", "0559"),
        ("", ""),
        (None, None),
        (559446168, "559446168"),
        (dt.date(1998, 3, 15), "1998-03-15"),
    ],
)
def test_raw_values_as_text(value: object, expected: str | None) -> None:
    assert staging.as_text(value) == expected


def test_overlong_values_are_clipped_and_recorded() -> None:
    row = staging.student_values(record(first_name="A" * 300), "stagiaires", run_id=1)
    assert len(row["first_name"]) == 191
    assert "first_name_truncated" in row["normalization_issues"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (Decimal("12.50"), "12.50"),
        (dt.date(2020, 1, 2), "2020-01-02"),
        (dt.datetime(2020, 1, 2, 3, 4, 5), "2020-01-02T03:04:05"),
        (b"Form\xc3\xa9e", "Formée"),
        (b"\xff\xfe", {"base64": "//4="}),
        (dt.timedelta(hours=1), "1:00:00"),
    ],
)
def test_raw_values_become_json(value: object, expected: object) -> None:
    assert json_ready(value) == expected


def test_the_layout_can_be_overridden() -> None:
    layout = build_layout({"stagiaires": {"table": "eleves", "columns": {"phone": "tel", "email": None}}})
    assert layout["stagiaires"]["table"] == "eleves"
    assert layout["stagiaires"]["columns"]["phone"] == "tel"
    assert layout["stagiaires"]["columns"]["email"] is None
    assert DEFAULT_LAYOUT["stagiaires"]["columns"]["phone"] == "telephone"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"students": {}}, "unknown legacy table 'students'"),
        ({"stagiaires": {"columns": {"mobile": "tel"}}}, "'stagiaires' has no field 'mobile'"),
        ({"stagiaires": "tel"}, "'stagiaires' must map to an object"),
    ],
)
def test_a_wrong_override_is_a_clear_error(override: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_layout(override)


def test_column_map_is_json_or_a_file(tmp_path: Path) -> None:
    mapping_file = tmp_path / "map.json"
    mapping_file.write_text('{"stagiaires": {"table": "eleves"}}', encoding="utf-8")
    assert load_column_map(str(mapping_file)) == {"stagiaires": {"table": "eleves"}}
    assert load_column_map("") == {}
    assert load_column_map('{"archives": {}}') == {"archives": {}}
    with pytest.raises(ConfigError, match="no such file"):
        load_column_map("/nonexistent/map.json")
    with pytest.raises(ConfigError, match="must be a JSON object"):
        load_column_map("[]")


def test_named_legacy_connections() -> None:
    environ = {
        "LEGACY_DATABASE_URL": "mysql+pymysql://r@h/a",
        "LEGACY_OLD2019_DATABASE_URL": "sqlite:///x.db",
        "LEGACY_EMPTY_DATABASE_URL": " ",
        "DATABASE_URL": "sqlite:///app.db",
    }
    assert legacy_connections(environ) == {"legacy": "mysql+pymysql://r@h/a", "old2019": "sqlite:///x.db"}


@pytest.mark.parametrize("raw", ["0", "-3", "abc", "1.5"])
def test_batch_size_must_be_positive(raw: str) -> None:
    with pytest.raises(ConfigError, match="LEGACY_BATCH_SIZE must be a positive integer"):
        positive_int("LEGACY_BATCH_SIZE", raw, 2000)


def test_masks() -> None:
    assert mask_phone("213559446168") == "**********68"
    assert mask_email("amine.kaci@gmail.com") == "a***@gmail.com"
    assert mask_name(" Benali") == "B***"
    assert mask_value(dt.date(1998, 3, 15)) == "***"
    assert (mask_phone(None), mask_email(None), mask_name(None), mask_value(None)) == (None,) * 4
