"""Runs: the list of import runs, one run's detail and live progress, and starting the work.

Views never do the work themselves: they commit the run row, then hand the work to a Celery
task. Without a broker, Celery runs the task in process (the demo), before the redirect.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.accounts.permissions import RUN, VALIDATE, VIEW
from app.audit.services import record
from app.extensions import db
from app.legacy_import import reports, tasks
from app.legacy_import.models import LegacyImportRun
from app.legacy_import.phases import Phase
from app.legacy_import.pipeline import phases
from app.legacy_import.runs import RunError, create_run, describe_error
from app.legacy_import.vocab import RunStatus
from app.legacy_import.web import bp
from app.legacy_import.web.forms import NewImportForm, PhaseForm
from app.legacy_import.web.labels import label, vocabulary
from app.security import permission_required

log = logging.getLogger(__name__)

RUNS_PER_PAGE = 50
COUNTER_LABELS = vocabulary("counter")  # every counter of a run has a label
NOT_STARTED = "Import non lancé : choisissez une connexion configurée (libellé : 191 caractères au plus)."
# A run in one of these is being worked on (or waits for a worker): its pages poll its progress.
WORKING = frozenset(
    {
        RunStatus.PENDING,
        RunStatus.INGESTING,
        RunStatus.VALIDATING,
        RunStatus.CLASSIFYING,
        RunStatus.COMMITTING,
        RunStatus.ROLLING_BACK,
    }
)


@bp.route("")
@permission_required(VIEW)
def runs() -> str:
    page = reports.runs_page(db.session(), request.args.get("before", type=int), RUNS_PER_PAGE)
    connections = current_app.config["LEGACY_CONNECTIONS"]
    return render_template(
        "legacy_import/runs.html",
        page=page,
        before=request.args.get("before", type=int),
        summaries={run.id: reports.run_summary(run) for run in page.runs},
        initiators=reports.initiators(db.session(), page.runs),
        new_form=NewImportForm.for_connections(connections) if current_user.can(RUN) else None,
        startable={run.id: startable_phases(run) for run in page.runs},
        **_page_helpers(),
    )


@bp.route("/new", methods=["POST"])
@permission_required(RUN)
def new_run() -> Response:
    form = NewImportForm.for_connections(current_app.config["LEGACY_CONNECTIONS"])
    if not form.validate_on_submit():
        flash(NOT_STARTED, "error")
        return redirect(url_for(".runs"))
    label = form.label.data or None
    run = create_run(db.session(), form.connection.data, label, initiated_by_id=current_user.id)
    run_id, connection = run.id, run.connection_name
    record(
        db.session(),
        "legacy_import.run_started",
        object_type="legacy_import_run",
        object_id=run_id,
        actor_id=current_user.id,
        details={"connection": connection},
    )
    db.session.commit()
    started = f"Import n°{run_id} lancé sur la connexion « {connection} »."
    _flash_outcome(run_id, _enqueue(run_id, None), started)
    return redirect(url_for(".run_detail", run_id=run_id))


@bp.route("/<int:run_id>/<phase>", methods=["POST"])
@permission_required(VALIDATE)
def start_phase(run_id: int, phase: str) -> Response:
    if phase not in WEB_PHASES:
        abort(404)
    run = _run_or_404(run_id)
    if not PhaseForm().validate_on_submit():
        abort(400)
    if phase not in startable_phases(run):
        flash(_cannot_start(run, phase), "error")
        return redirect(url_for(".run_detail", run_id=run_id))
    record(
        db.session(),
        "legacy_import.phase_started",
        object_type="legacy_import_run",
        object_id=run_id,
        actor_id=current_user.id,
        details={"phase": phase, "from_status": run.status},
    )
    db.session.commit()
    _flash_outcome(run_id, _enqueue(run_id, phase), f"{label(phase, 'phase')} de l'import n°{run_id} lancée.")
    return redirect(url_for(".run_detail", run_id=run_id))


@bp.route("/<int:run_id>")
@permission_required(VIEW)
def run_detail(run_id: int) -> str:
    run = _run_or_404(run_id)
    return render_template(
        "legacy_import/run_detail.html",
        run=run,
        summary=reports.run_summary(run),
        initiator=reports.initiators(db.session(), [run]).get(run.id),
        steps=step_rows(run.step_log),
        breakdowns=reports.run_breakdowns(db.session(), run_id),
        commits=reports.commit_activity(db.session(), run_id),
        startable={run.id: startable_phases(run)},
        **_page_helpers(),
    )


@bp.route("/<int:run_id>/progress.json")
@permission_required(VIEW)
def run_progress(run_id: int) -> Response:
    summary = reports.run_summary(_run_or_404(run_id))
    return jsonify(
        run_id=summary["run_id"],
        status=summary["status"],
        status_label=label(summary["status"], "run_status"),
        working=summary["status"] in WORKING,
        step=summary["step"],
        step_label=label(summary["step"], "step") if summary["step"] else None,
        **summary["progress"],
        counters=summary["counters"],
        failure_reason=summary["failure_reason"],
        started_at=summary["started_at"],
        finished_at=summary["finished_at"],
    )


# -- helpers --------------------------------------------------------------------------------


def _run_or_404(run_id: int) -> LegacyImportRun:
    run = db.session.get(LegacyImportRun, run_id)
    if run is None:
        abort(404)
    return run


WEB_PHASES = ("validate", "classify", "dry-run")  # commit and rollback start from the CLI only


def _phases() -> dict[str, Phase]:
    """The phases the workspace may start: never commit or rollback (SPEC, "Security")."""
    return {name: phase for name, phase in phases(current_app.config).items() if name in WEB_PHASES}


def startable_phases(run: LegacyImportRun) -> list[str]:
    """The phases the run's status lets start now (each phase's own `starts_from`)."""
    return [name for name, phase in _phases().items() if run.status in phase.starts_from]


def _cannot_start(run: LegacyImportRun, phase: str) -> str:
    allowed = ", ".join(f"« {label(s, 'run_status')} »" for s in sorted(_phases()[phase].starts_from))
    status = label(run.status, "run_status")
    return (
        f"{label(phase, 'phase')} impossible : l'import n°{run.id} est « {status} ». "
        f"Il doit être dans l'un de ces états : {allowed}."
    )


def _enqueue(run_id: int, phase: str | None) -> str | None:
    """Hand the ingestion (`phase` None) or a phase to Celery, once the run row is committed.
    Returns None when it went, else a one-line reason without row data. In process (no
    broker) the task runs here, and its failure, already recorded on the run, surfaces here."""
    try:
        if phase is None:
            tasks.ingest_run.delay(run_id)
        else:
            tasks.run_phase.delay(run_id, phase)
    except (tasks.TaskFailed, RunError) as error:
        db.session.rollback()
        return str(error)
    except Exception as error:  # noqa: BLE001 - e.g. the broker is down; logged, told in one line
        db.session.rollback()
        log.warning("run %s: could not start %s (%s)", run_id, phase or "import", describe_error(error))
        return describe_error(error)
    return None


def _flash_outcome(run_id: int, error: str | None, started: str) -> None:
    if error is None:
        flash(started, "success")
    else:
        flash(f"Le travail sur l'import n°{run_id} n'a pas abouti : {error}.", "error")


def step_rows(step_log: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The run's step log with times parsed and each finished step's duration."""
    rows = []
    for entry in step_log or []:
        started, finished = _parse(entry.get("started_at")), _parse(entry.get("finished_at"))
        rows.append(
            {
                "step": entry.get("step"),
                "started_at": started,
                "finished_at": finished,
                "duration": _duration(started, finished),
            }
        )
    return rows


def _parse(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _duration(started: datetime | None, finished: datetime | None) -> str | None:
    if started is None or finished is None:
        return None
    seconds = max(0, round((_utc(finished) - _utc(started)).total_seconds()))
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def _utc(value: datetime) -> datetime:
    """SQLite gives back naive datetimes; every time the app stores is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def when(value: datetime | None) -> str:
    return _utc(value).strftime("%Y-%m-%d %H:%M") if value is not None else "—"


def _page_helpers() -> dict[str, Any]:
    return {
        "working": WORKING,
        "when": when,
        "phase_form": PhaseForm() if current_user.can(VALIDATE) else None,
    }
