"""The run's work as the entry points (CLI, Celery tasks, web) start it: one place to look up
a phase by name, and to run ingestion in process or enqueue it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from app.legacy_import import ingest
from app.legacy_import.classify import classification_phase
from app.legacy_import.commit import commit_phase, rollback_phase
from app.legacy_import.connections import open_reader
from app.legacy_import.dry_run import dry_run_phase
from app.legacy_import.models import LegacyImportRun
from app.legacy_import.phases import Phase, Progress, run_phase
from app.legacy_import.runs import get_run
from app.legacy_import.settings import IngestSettings, RuleSettings
from app.legacy_import.validate import validation_phase

PHASE_NAMES = ("validate", "classify", "dry-run", "commit", "rollback")


def phases(config: Mapping[str, Any]) -> dict[str, Phase]:
    settings = RuleSettings.from_config(config)
    return {
        "validate": validation_phase(settings),
        "classify": classification_phase(),
        "dry-run": dry_run_phase(),
        "commit": commit_phase(),
        "rollback": rollback_phase(),
    }


def stopped_phase(config: Mapping[str, Any], run: LegacyImportRun) -> str | None:
    """The phase a failed or interrupted run stopped in; None for its ingestion (or nothing)."""
    return next((name for name, phase in phases(config).items() if phase.owns(run)), None)


def run_ingestion(
    session: Session, config: Mapping[str, Any], run_id: int, progress: Progress | None = None
) -> LegacyImportRun:
    reader = open_reader(config, get_run(session, run_id).connection_name)
    try:
        return ingest.ingest(session, run_id, reader, IngestSettings.from_config(config), progress)
    finally:
        reader.close()


def run_named_phase(
    session: Session,
    config: Mapping[str, Any],
    run_id: int,
    name: str,
    progress: Progress | None = None,
    batch_size: int | None = None,
) -> LegacyImportRun:
    get_run(session, run_id)
    settings = IngestSettings.from_config(config)
    if batch_size is not None:
        settings = replace(settings, batch_size=batch_size)
    return run_phase(session, run_id, phases(config)[name], settings, progress)
