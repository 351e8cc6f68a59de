"""`flask legacy ...`: thin commands over the legacy import services."""

from __future__ import annotations

import atexit
import functools
import gc
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError
from tqdm import tqdm

from app.config import ConfigError
from app.extensions import db
from app.legacy_import import export as export_service
from app.legacy_import import tasks
from app.legacy_import.commit import commit_report, rollback_report
from app.legacy_import.connections import open_reader
from app.legacy_import.demo import demo_command
from app.legacy_import.models import LegacyImportRun
from app.legacy_import.pipeline import run_ingestion, run_named_phase, stopped_phase
from app.legacy_import.reports import run_summary
from app.legacy_import.runs import RunError, create_run, describe_error, get_run
from app.legacy_import.settings import check_settings
from app.legacy_import.source import LegacySourceError

F = TypeVar("F", bound=Callable[..., Any])

legacy_cli = AppGroup("legacy", help="Import the old platform's students into staging.")
legacy_cli.add_command(demo_command)

json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object only.")
run_option = click.option("--run", "run_id", type=int, required=True, help="Import run id.")


class CommandFailed(Exception):
    """Raised after the command printed what it could; carries the one-line error."""


def one_line_errors(command: F) -> F:
    """Known failures end the command with a one-line error on stderr and exit code 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (ConfigError, RunError, LegacySourceError, CommandFailed, tasks.TaskFailed) as error:
            _fail(str(error))
        except SQLAlchemyError as error:
            _fail(f"app database error: {describe_error(error)} (is it migrated? run 'flask db upgrade')")

    return wrapper  # type: ignore[return-value]


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def emit(payload: dict[str, Any], as_json: bool, human: Callable[[dict[str, Any]], str]) -> None:
    click.echo(json.dumps(payload, default=str) if as_json else human(payload))


def describe_run(summary: dict[str, Any]) -> str:
    progress = summary["progress"]
    lines = [
        f"Run {summary['run_id']} ({summary['connection']}"
        + (f", {summary['label']}" if summary["label"] else "")
        + f"): {summary['status']}",
        f"  step: {summary['step'] or '-'}   rows: {progress['rows_done']}/{progress['rows_total']}"
        f" ({progress['percent']}%)",
    ]
    if summary["failure_reason"]:
        lines.append(f"  failure: {summary['failure_reason']}")
    lines += [f"  {name}: {value}" for name, value in summary["counters"].items()]
    return "\n".join(lines)


def describe_report(report: dict[str, Any]) -> str:
    lines = [f"Dry run of run {report['run_id']}: {report['rows']} staged rows, nothing written."]
    for title, key in (
        ("Classification", "by_classification"),
        ("Validation state", "by_validation_state"),
        ("Import action", "by_import_action"),
        ("Session type", "by_session_type"),
        ("CRM leads", "leads"),
        ("Completed trainings", "completed_trainings"),
        ("Deferred", "deferred"),
        ("Blocked", "blocked"),
    ):
        counts = report[key]
        lines.append(f"{title}:" + ("" if counts else " none"))
        lines += [f"  {name:<36} {count:>8}" for name, count in counts.items()]
    return "\n".join(lines)


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    bar = tqdm(unit="rows", file=sys.stderr, dynamic_ncols=True)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        bar.close()


Work = Callable[[Callable[[int, int], None] | None], LegacyImportRun]
async_option = click.option(
    "--async", "enqueue", is_flag=True, help="Hand the work to a Celery worker and print the run id."
)


def _execute(run_id: int, as_json: bool, work: Work) -> dict[str, Any]:
    """Run `work` on a run with a progress bar; a failure leaves the run `failed` and ends the
    command with one line saying how to resume it.

    What the process has loaded before the work (the app, its libraries) outlives it: frozen
    meanwhile, the garbage collector does not walk it at each full collection (measured: 0.5 ->
    0.15 s of full collections in an import of 100k rows), nor do the helper processes forked
    from it. The same goes for the interpreter's last collections as the process exits
    (`_freeze_at_exit`)."""
    _freeze_at_exit()
    gc.freeze()
    try:
        with progress_bar(not as_json) as progress:
            run = work(progress)
    except RunError:
        raise
    except Exception as error:  # noqa: BLE001 - the run recorded it; the operator gets one line
        summary = run_summary(get_run(db.session(), run_id))
        if as_json:
            click.echo(json.dumps(summary, default=str))
        raise CommandFailed(
            f"run {run_id} failed ({summary['failure_reason'] or describe_error(error)}); "
            f"continue it with: flask legacy resume --run={run_id}"
        ) from None
    finally:
        gc.unfreeze()  # collectable again, should the process go on (a test runner)
    return run_summary(run)


@functools.cache
def _freeze_at_exit() -> None:
    """At exit, freeze what is still alive: the interpreter's last collections then skip the
    app, its libraries and the normalizers' caches, which die with the process anyway
    (measured: 0.36 -> 0.13 s from the end of a 100k-row import to the end of its process).
    Once per process: a test runner running many commands registers it once."""
    atexit.register(gc.freeze)


def _start(
    run_id: int, phase: str | None, enqueue: bool, as_json: bool, batch_size: int | None = None
) -> dict[str, Any]:
    """Run the ingestion (`phase` None) or a phase here, or enqueue it for a worker. The run row
    is committed before anything is enqueued; a bad setting stops it before it starts."""
    check_settings(current_app.config)
    if enqueue:
        db.session.commit()
        if phase is None:
            tasks.ingest_run.delay(run_id)
        else:
            tasks.run_phase.delay(run_id, phase, batch_size)
        return {**run_summary(get_run(db.session(), run_id)), "enqueued": True}
    config = current_app.config
    if phase is None:
        session = db.session()
        return _execute(run_id, as_json, lambda progress: run_ingestion(session, config, run_id, progress))
    return _execute(
        run_id,
        as_json,
        lambda progress: run_named_phase(db.session(), config, run_id, phase, progress, batch_size),
    )


def _describe_started(summary: dict[str, Any]) -> str:
    if summary.get("enqueued"):
        return (
            f"Run {summary['run_id']} enqueued; follow it with: flask legacy status --run={summary['run_id']}"
        )
    return describe_run(summary)


@legacy_cli.command("import")
@click.option("--connection", "connection_name", default="legacy", show_default=True)
@click.option("--label", default=None, help="A label to recognise the run by.")
@async_option
@json_option
@one_line_errors
def import_command(connection_name: str, label: str | None, enqueue: bool, as_json: bool) -> None:
    """Create a run and stage every legacy row into it."""
    # A bad connection name or setting fails here, before any run is created.
    open_reader(current_app.config, connection_name).close()
    check_settings(current_app.config)
    run = create_run(db.session(), connection_name, label)
    emit(_start(run.id, None, enqueue, as_json), as_json, _describe_started)


def phase_command(name: str, help_text: str) -> None:
    @legacy_cli.command(name, help=help_text)
    @run_option
    @async_option
    @json_option
    @one_line_errors
    def command(run_id: int, enqueue: bool, as_json: bool) -> None:
        get_run(db.session(), run_id)
        emit(_start(run_id, name, enqueue, as_json), as_json, _describe_started)


phase_command("validate", "Type the sessions, hint at duplicates, and give every row its validation state.")
phase_command("classify", "Classify every row from its legacy status and give it its import action.")


@legacy_cli.command("dry-run")
@run_option
@async_option
@json_option
@one_line_errors
def dry_run_command(run_id: int, enqueue: bool, as_json: bool) -> None:
    """Report what a commit would do, writing nothing outside staging; stored on the run."""
    summary = _start(run_id, "dry-run", enqueue, as_json)
    if enqueue:
        emit(summary, as_json, _describe_started)
        return
    emit(get_run(db.session(), run_id).dry_run_report or {}, as_json, describe_report)


@legacy_cli.command("commit")
@run_option
@click.option(
    "--batch",
    "batch_size",
    type=click.IntRange(min=1, max=10_000),
    default=100,
    show_default=True,
    help="Rows per transaction.",
)
@async_option
@json_option
@one_line_errors
def commit_command(run_id: int, batch_size: int, enqueue: bool, as_json: bool) -> None:
    """Create the CRM leads and completed trainings the dry run planned (safe to re-run)."""
    get_run(db.session(), run_id)
    summary = _start(run_id, "commit", enqueue, as_json, batch_size)
    emit({**summary, "commit": commit_report(db.session(), run_id)}, as_json, describe_commit)


@legacy_cli.command("rollback")
@run_option
@async_option
@json_option
@one_line_errors
def rollback_command(run_id: int, enqueue: bool, as_json: bool) -> None:
    """Undo exactly what the run's commit created; what was changed since is left and reported."""
    get_run(db.session(), run_id)
    summary = _start(run_id, "rollback", enqueue, as_json)
    emit({**summary, "rollback": rollback_report(db.session(), run_id)}, as_json, describe_commit)


def describe_commit(summary: dict[str, Any]) -> str:
    if summary.get("enqueued"):
        return _describe_started(summary)
    details = summary.get("commit") or summary.get("rollback") or {}
    return describe_run(summary) + "\n" + "\n".join(f"  {name}: {count}" for name, count in details.items())


@legacy_cli.command("resume")
@run_option
@async_option
@json_option
@one_line_errors
def resume_command(run_id: int, enqueue: bool, as_json: bool) -> None:
    """Continue a failed or interrupted run from its last checkpoint, in whatever step it was."""
    phase = stopped_phase(current_app.config, get_run(db.session(), run_id))
    emit(_start(run_id, phase, enqueue, as_json), as_json, _describe_started)


@legacy_cli.command("status")
@click.option("--run", "run_id", type=int, default=None, help="One run; every run when omitted.")
@json_option
@one_line_errors
def status_command(run_id: int | None, as_json: bool) -> None:
    """Show the status, step, progress and counters of one run or of every run."""
    if run_id is not None:
        emit(run_summary(get_run(db.session(), run_id)), as_json, describe_run)
        return
    runs = db.session.scalars(db.select(LegacyImportRun).order_by(LegacyImportRun.id)).all()
    payload = {"runs": [run_summary(run) for run in runs]}
    emit(payload, as_json, lambda p: "\n".join(describe_run(r) for r in p["runs"]) or "No import runs yet.")


@legacy_cli.command("export")
@run_option
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--format", "fmt", type=click.Choice(export_service.FORMATS), default="csv", show_default=True)
@click.option("--include-pii", is_flag=True, help="Write phones, e-mails, names and raw payloads unmasked.")
@json_option
@one_line_errors
def export_command(run_id: int, output: Path, fmt: str, include_pii: bool, as_json: bool) -> None:
    """Write one line per staged student of a run (CSV or JSON lines)."""
    try:
        count = export_service.export_run(db.session(), run_id, output, fmt, include_pii)
    except OSError as error:
        raise CommandFailed(f"cannot write {output}: {error.strerror}") from None
    payload = {"run_id": run_id, "output": str(output), "format": fmt, "rows": count, "pii": include_pii}
    emit(
        payload,
        as_json,
        lambda p: f"Exported {p['rows']} rows of run {run_id} to {p['output']}"
        + (" (with personal data)" if include_pii else " (personal data masked)"),
    )
