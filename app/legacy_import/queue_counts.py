"""The review queue's group counts, kept in `legacy_review_queue_counts` in step with the rows.

A row of the queue counts once in the group of each of its reasons (a row that gives no reason,
in the group named by its state), by validation state and by whether a reviewer has decided on
it. The two writes that move rows in the queue change the counts in the same transaction:
validation's batches (a row's state and reasons) and review actions (its decision). Both take the
run's row lock before they read the rows they change (`runs.lock_run`), so neither counts from
values the other is changing, and the counts are exact at every commit. The review page then
reads a few dozen counts instead of counting the queue (45-65 ms at a million staged rows).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Text, cast, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.legacy_import.models import QUEUE_COUNTS, STUDENTS, LegacyReviewQueueCount
from app.legacy_import.vocab import ValidationState

QUEUE_STATES = (ValidationState.NEEDS_REVIEW, ValidationState.DUPLICATE)

# (reason, validation state, pending): one group count.
QueueKey = tuple[str, str, bool]


def queue_keys(state: str | None, reasons: Iterable[str] | None, pending: bool) -> list[QueueKey]:
    """The group counts a row adds one to (`pending`: no reviewer's decision yet); none outside
    the queue."""
    if state not in QUEUE_STATES:
        return []
    groups = list(dict.fromkeys(str(reason) for reason in reasons or ())) or [str(state)]
    return [(reason, str(state), pending) for reason in groups]


def count_change(before: Iterable[QueueKey], after: Iterable[QueueKey]) -> Counter[QueueKey]:
    """What to add to each count (negative: to take away) when rows go from `before` to `after`."""
    change = Counter(after)
    change.subtract(before)
    return Counter({key: n for key, n in change.items() if n})


def rows_keys(rows: Iterable[Any]) -> list[QueueKey]:
    """The group counts of staged rows as they stand (objects or result rows)."""
    return [
        key
        for row in rows
        for key in queue_keys(row.validation_state, row.validation_reasons, row.review_decision is None)
    ]


def add_to_counts(session: Session, run_id: int, change: Counter[QueueKey]) -> None:
    """Add `change` to the run's counts, in the caller's transaction (which holds the run's lock)."""
    values = _count_rows(run_id, change)
    if not values:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(QUEUE_COUNTS)
    upsert = statement.on_conflict_do_update(
        index_elements=[
            QUEUE_COUNTS.c.import_run_id,
            QUEUE_COUNTS.c.reason,
            QUEUE_COUNTS.c.validation_state,
            QUEUE_COUNTS.c.pending,
        ],
        set_={"row_count": QUEUE_COUNTS.c.row_count + statement.excluded.row_count},
    )
    session.execute(upsert, values)


def kept_counts(session: Session, run_id: int) -> Counter[QueueKey]:
    """The run's group counts as kept (what the review page shows)."""
    query = select(
        QUEUE_COUNTS.c.reason,
        QUEUE_COUNTS.c.validation_state,
        QUEUE_COUNTS.c.pending,
        QUEUE_COUNTS.c.row_count,
    ).where(QUEUE_COUNTS.c.import_run_id == run_id, QUEUE_COUNTS.c.row_count != 0)
    found = session.execute(query)
    return Counter({(reason, state, bool(pending)): n for reason, state, pending, n in found})


def counted_from_rows(session: Session, run_id: int) -> Counter[QueueKey]:
    """The run's group counts counted from its rows: one pass over the queue, grouped by the
    (few) distinct combinations of state, reasons and decision. What the kept counts must equal."""
    reasons, pending = cast(STUDENTS.c.validation_reasons, Text), STUDENTS.c.review_decision.is_(None)
    query = (
        select(STUDENTS.c.validation_state, reasons, pending, func.count())
        .where(STUDENTS.c.import_run_id == run_id, STUDENTS.c.validation_state.in_(QUEUE_STATES))
        .group_by(STUDENTS.c.validation_state, reasons, pending)
    )
    counts: Counter[QueueKey] = Counter()
    for state, reasons_text, is_pending, n in session.execute(query):
        for key in queue_keys(state, _reasons(reasons_text), bool(is_pending)):
            counts[key] += n
    return counts


def _reasons(text: str | None) -> list[str]:
    value = json.loads(text) if text else None
    return [str(reason) for reason in value] if isinstance(value, list) else []


def recount(session: Session, run_id: int) -> None:
    """Count the run's groups again from its rows, for rows written by other means than
    validation and review (a benchmark's fill). In the caller's transaction."""
    counts = counted_from_rows(session, run_id)
    session.execute(delete(LegacyReviewQueueCount).where(QUEUE_COUNTS.c.import_run_id == run_id))
    if counts:
        session.execute(insert(LegacyReviewQueueCount), _count_rows(run_id, counts))


def _count_rows(run_id: int, counts: Counter[QueueKey]) -> list[dict[str, Any]]:
    return [
        {
            "import_run_id": run_id,
            "reason": reason,
            "validation_state": state,
            "pending": pending,
            "row_count": n,
        }
        for (reason, state, pending), n in sorted(counts.items())
        if n
    ]
