"""Staged rows as the review workspace lists them: filters, search, keyset pages, export batches.

Designed for a million staged rows per run on PostgreSQL:
- every query is bounded to one run (no run asked: the latest one), and to that run's id range;
  each filter is an equality on a column that an index starting with `import_run_id` carries
  (migration 0006), each sort has such an index too;
- pages are keyset pages: `WHERE (sort key) > (key of the last row shown) ORDER BY sort key
  LIMIT 51`, so page 20,000 costs what page 1 costs; no OFFSET;
- the total is a bounded count: exact up to `COUNT_CAP` rows (`NAME_SEARCH_COUNT_CAP` for a
  name search), then "more than", and on PostgreSQL given `COUNT_BUDGET_MS` at most, then
  "not counted";
- name search asks one `(' ' || name_key) LIKE '% word%'` per word typed, which one scan of a
  trigram index of that expression serves on PostgreSQL (migration 0010);
- the trigram, classification, source-table and duplicate-confidence indexes hold validated
  rows only (migrations 0013, 0015; `validated_rows`): a run not yet validated is read in id
  order (measured: a name search 75 ms with 200k staged rows, 5 ms by the index).
Measured on 1.2 million rows (two runs): a page 2-15 ms whatever the filters, sort and depth;
a name search 5-250 ms (since migration 0010: page and count 13-43 ms on a 1M-row run);
a count up to 300 ms; the CSV export 6-11k rows/s.

Cursors are row ids, never sort values: a last name never goes into a URL. Search takes a
legacy id or words of a name, never a phone number or an e-mail address (see `parse_search`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    Select,
    String,
    and_,
    exists,
    func,
    literal_column,
    select,
    text,
    tuple_,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, defer

from app.audit.services import record
from app.legacy_import.export import STUDENT_COLUMNS
from app.legacy_import.masking import mask_email, mask_phone
from app.legacy_import.models import (
    STUDENTS,
    TRAININGS,
    VALIDATED,
    LegacyDuplicateHint,
    LegacyImportRun,
    LegacyStudentImport,
    LegacyTrainingImport,
)
from app.legacy_import.normalize import name_key
from app.legacy_import.rules.duplicates import CONFIDENCE_ORDER, STAGED_ROW
from app.legacy_import.runs import latest_run_id
from app.legacy_import.vocab import (
    Classification,
    DuplicateConfidence,
    SessionType,
    SourceTable,
    ValidationState,
)

PAGE_SIZE = 50
COUNT_CAP = 10_000
# A name search's matches are counted one by one in the table (the trigram index cannot count
# them alone): 48 ms for the 10,001 a common last name reached on a 1M-row run, the slowest
# statement of any list page. Its count stops sooner: "more than 1,000" is all a search needs.
NAME_SEARCH_COUNT_CAP = 1_000
COUNT_BUDGET_MS = 300
EXPORT_BATCH = 1000
MAX_SEARCH_LENGTH = 100

# The filters of the list, each checked against its vocabulary (SPEC.md, "Vocabularies").
VOCABULARIES: dict[str, tuple[str, ...]] = {
    "source_table": tuple(SourceTable),
    "classification": tuple(Classification),
    "validation_state": tuple(ValidationState),
    "duplicate_confidence": tuple(DuplicateConfidence),
    "session_type": tuple(SessionType),
}
FILTER_LABELS = {
    "run": "Import",
    "source_table": "Table source",
    "classification": "Classification",
    "validation_state": "Validation",
    "duplicate_confidence": "Doublon",
    "session_type": "Type de session",
    "sort": "Tri",
    "q": "Recherche",
    "after": "Page",
    "before": "Page",
}
SORTS = ("id", "legacy_id", "last_name")

# A legacy id: a whole number as the legacy database writes it (no leading zero, at most nine
# digits). Longer or zero-led digit strings are phone numbers, which search never takes.
LEGACY_ID = re.compile(r"[1-9][0-9]{0,8}")
PHONE_DIGITS = 6
SEARCH_HINT = "cherchez un n° legacy ou un nom"


class FilterError(ValueError):
    """Filter values the list cannot use; `messages` are for the person who typed them."""

    def __init__(self, messages: Sequence[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)


@dataclass(frozen=True)
class Search:
    kind: str  # "legacy_id" or "name"
    legacy_id: int | None = None
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class StudentFilters:
    run_id: int | None
    source_table: str | None = None
    classification: str | None = None
    validation_state: str | None = None
    duplicate_confidence: str | None = None
    session_type: str | None = None
    search: Search | None = None
    search_text: str = ""
    sort: str = "id"
    # The run's lowest and highest row ids. Bounding every query by them keeps PostgreSQL from
    # walking the primary key through other runs' rows when it misjudges where a run's rows lie
    # (measured: 0.1-0.3 s at a run's first and last page with a million-row run beside it).
    id_range: tuple[int, int] | None = None
    # No row of the run is pending validation: the indexes of validated rows only (name
    # search, classification, source table, duplicate confidence: migrations 0013 and 0015)
    # then hold all of the run's rows, and the queries they serve say so
    # (`uses_validated_indexes`).
    validated: bool = False

    def query_args(self) -> dict[str, str]:
        """The filters as a query string (links of the list and its export; no cursor)."""
        args = {name: getattr(self, name) for name in VOCABULARIES if getattr(self, name)}
        if self.run_id is not None:
            args["run"] = str(self.run_id)
        if self.search_text:
            args["q"] = self.search_text
        if self.sort != "id":
            args["sort"] = self.sort
        return args

    def audit_details(self) -> dict[str, Any]:
        """The filters for the audit trail: the kind of search, never what was searched."""
        details: dict[str, Any] = {name: getattr(self, name) for name in VOCABULARIES if getattr(self, name)}
        if self.search is not None:
            details["search"] = self.search.kind
        details["sort"] = self.sort
        return details


@dataclass(frozen=True)
class Cursor:
    row_id: int
    forward: bool  # True: the page after this row; False: the page before it


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    next_after: int | None
    previous_before: int | None


# --- parsing ---------------------------------------------------------------------------


def parse_filters(session: Session, args: Mapping[str, str]) -> StudentFilters:
    """The list's filters from a query string; every bad value is reported, together."""
    errors: list[str] = []
    values: dict[str, str | None] = {}
    for name, vocabulary in VOCABULARIES.items():
        value = (args.get(name) or "").strip()
        if value and value not in vocabulary:
            errors.append(f"{FILTER_LABELS[name]} : valeur inconnue « {value[:40]} ».")
        values[name] = value or None
    sort = (args.get("sort") or "id").strip()
    if sort not in SORTS:
        errors.append(f"{FILTER_LABELS['sort']} : valeur inconnue « {sort[:40]} ».")
    search_text = (args.get("q") or "").strip()
    search = _collect(errors, lambda: parse_search(search_text))
    run_id = _collect(errors, lambda: _parse_run(session, (args.get("run") or "").strip()))
    if errors:
        raise FilterError(errors)
    validated = all_validated(session, run_id)
    return StudentFilters(
        run_id=run_id,
        search=search,
        search_text=search_text,
        sort=sort,
        id_range=run_id_range(session, run_id, values.get("source_table"), validated),
        validated=validated,
        **values,
    )


def _collect(errors: list[str], parse: Callable[[], Any]) -> Any:
    try:
        return parse()
    except FilterError as error:
        errors.extend(error.messages)
        return None


def _parse_run(session: Session, value: str) -> int | None:
    if not value:
        return latest_run_id(session)
    if not value.isdigit() or session.get(LegacyImportRun, int(value)) is None:
        raise FilterError([f"{FILTER_LABELS['run']} : aucun import n°{value[:20]}."])
    return int(value)


def run_id_range(
    session: Session, run_id: int | None, source_table: str | None = None, validated: bool = False
) -> tuple[int, int] | None:
    """Two probes of the (import_run_id, id) index, or of (import_run_id, source_table, id) when
    the list shows one source table: its rows are staged together, so the bounds keep
    PostgreSQL from walking the other table's rows (measured: 605 ms -> under 1 ms at 1M rows).
    That index holds validated rows only: before validation, the run's rows are read instead."""
    if run_id is None:
        return None
    where = [STUDENTS.c.import_run_id == run_id]
    if source_table is not None:
        where.append(STUDENTS.c.source_table == source_table)
        if validated:
            where.append(validated_rows())
    low, high = session.execute(select(func.min(STUDENTS.c.id), func.max(STUDENTS.c.id)).where(*where)).one()
    return None if low is None else (low, high)


def all_validated(session: Session, run_id: int | None) -> bool:
    """No row of the run waits for validation (one probe of the (run, state, id) index); a
    validated row is never pending again."""
    pending = (STUDENTS.c.import_run_id == run_id) & (STUDENTS.c.validation_state == ValidationState.PENDING)
    return run_id is not None and not session.scalar(select(exists().where(pending)))


def validated_rows() -> ColumnElement[bool]:
    """The condition of the indexes of validated rows, in their own words: SQL text, not a
    parameter, for PostgreSQL to see that a query's rows are all in those indexes.

    The import writes no entry of them (migrations 0013 and 0015): validation rewrites every
    row, and every index gets the new row version anyway. A query those indexes serve says so
    when its run's rows are all validated; a run not yet validated is read in id order instead."""
    return literal_column(VALIDATED, Boolean)


def parse_search(text: str) -> Search | None:
    """A legacy id (digits) or words of a name. E-mail addresses and phone numbers are refused:
    they would travel in the page's URL, and lists never show them anyway."""
    text = text.strip()
    if not text:
        return None
    label = FILTER_LABELS["q"]
    if len(text) > MAX_SEARCH_LENGTH:
        raise FilterError([f"{label} : {MAX_SEARCH_LENGTH} caractères au plus."])
    if "@" in text:
        raise FilterError([f"{label} : la recherche par e-mail n'est pas proposée ; {SEARCH_HINT}."])
    if LEGACY_ID.fullmatch(text):
        return Search("legacy_id", legacy_id=int(text))
    if not any(char.isalpha() for char in text) and sum(char.isdigit() for char in text) >= PHONE_DIGITS:
        raise FilterError([f"{label} : la recherche par téléphone n'est pas proposée ; {SEARCH_HINT}."])
    key = name_key(text, None)
    if key is None:
        raise FilterError([f"{label} : saisissez un n° legacy ou des lettres d'un nom."])
    # name_key's words are letters and digits only: no LIKE wildcard (% or _) can reach SQL.
    return Search("name", words=tuple(dict.fromkeys(key.split())))


def parse_cursor(args: Mapping[str, str]) -> Cursor | None:
    after, before = (args.get("after") or "").strip(), (args.get("before") or "").strip()
    if after and before:
        raise FilterError(["Page : une seule position à la fois."])
    value = after or before
    if not value:
        return None
    if not value.isdigit():
        raise FilterError([f"{FILTER_LABELS['after']} : position invalide."])
    return Cursor(int(value), forward=bool(after))


# --- conditions ------------------------------------------------------------------------


def conditions(filters: StudentFilters) -> list[ColumnElement[bool]]:
    """WHERE clauses of the filters; each an equality on an indexed column of the run."""
    c = STUDENTS.c
    where: list[ColumnElement[bool]] = [c.import_run_id == filters.run_id]
    if filters.id_range is not None:
        where.append(c.id.between(*filters.id_range))
    for name in ("source_table", "classification", "validation_state", "duplicate_confidence"):
        if (value := getattr(filters, name)) is not None:
            where.append(c[name] == value)
    if filters.session_type is not None:
        # An alias of its own, so that a query joining the trainings keeps this one correlated.
        training = TRAININGS.alias("filtered_training")
        where.append(
            exists().where(
                training.c.import_run_id == filters.run_id,
                training.c.session_type == filters.session_type,
                training.c.student_import_id == c.id,
            )
        )
    if filters.search is not None:
        where.append(search_condition(filters.search, filters.source_table))
    if filters.validated and uses_validated_indexes(filters):
        where.append(validated_rows())
    return where


# The filters served by indexes of validated rows only (migrations 0013, 0015).
VALIDATED_INDEX_FILTERS = ("source_table", "classification", "duplicate_confidence")


def uses_validated_indexes(filters: StudentFilters) -> bool:
    """A filter or a name search that an index of validated rows serves. Other queries do not
    say "validated": the condition would cost the indexes without `validation_state` their
    index-only scans (measured at 1M rows: the session-type filter's count 65 ms instead of 11)."""
    name_search = filters.search is not None and filters.search.kind == "name"
    return name_search or any(getattr(filters, name) is not None for name in VALIDATED_INDEX_FILTERS)


def search_condition(search: Search, source_table: str | None) -> ColumnElement[bool]:
    """A legacy id: one probe per source table of the unique (run, source_table, legacy_id)
    index. A name: every word typed begins a word of the folded name (`name_key`: case,
    accents, mojibake and word order do not matter), e.g. "ben ami" finds "Amine Benali"."""
    c = STUDENTS.c
    if search.kind == "legacy_id":
        tables = [source_table] if source_table else list(SourceTable)
        return and_(c.source_table.in_(tables), c.legacy_id == search.legacy_id)
    return and_(*(spaced_name_key().like(f"% {word}%") for word in search.words))


def spaced_name_key() -> ColumnElement[str]:
    """`' ' || name_key`, the expression of the trigram index (migration 0010): with a space in
    front, every word of the name follows a space, so one LIKE per word finds it at any place.
    The space is SQL text, not a parameter, for PostgreSQL to match the index expression."""
    return literal_column("' '", String) + STUDENTS.c.name_key


# --- keyset pages ----------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """A stretch of a sort order with one keyset: rows holding `where`, compared on `keys`,
    ordered by `order` (the columns of the index that serves it)."""

    where: ColumnElement[bool] | None
    keys: tuple[Column[Any], ...]
    order: tuple[Column[Any], ...]
    holds: Callable[[Mapping[str, Any]], bool]


def segments(sort: str) -> tuple[Segment, ...]:
    c = STUDENTS.c
    if sort == "legacy_id":
        # Unique within a run: (source_table, legacy_id) is its own tiebreak.
        keys = (c.source_table, c.legacy_id)
        return (Segment(None, keys, keys, lambda row: True),)
    if sort == "last_name":
        # NULLs sort first on SQLite and last on PostgreSQL: named ones first, then the rest by id.
        return (
            Segment(
                c.last_name.is_not(None),
                (c.last_name, c.id),
                (c.last_name, c.id),
                lambda row: row["last_name"] is not None,
            ),
            Segment(
                c.last_name.is_(None), (c.id,), (c.last_name, c.id), lambda row: row["last_name"] is None
            ),
        )
    return (Segment(None, (c.id,), (c.id,), lambda row: True),)


CURSOR_COLUMNS = ("id", "import_run_id", "source_table", "legacy_id", "last_name")


def walk(
    session: Session,
    filters: StudentFilters,
    base: Select[Any],
    limit: int,
    start: Mapping[str, Any] | None = None,
    forward: bool = True,
) -> list[Any]:
    """Up to `limit` rows of `base` strictly after (or before) the row `start`, in sort order
    (before: nearest first). `base` selects at least CURSOR_COLUMNS."""
    parts = segments(filters.sort)
    first = 0 if forward else len(parts) - 1
    if start is not None:
        first = next(i for i, part in enumerate(parts) if part.holds(start))
    indices = range(first, len(parts)) if forward else range(first, -1, -1)
    rows: list[Any] = []
    for index in indices:
        part = parts[index]
        query = base.where(*conditions(filters))
        if part.where is not None:
            query = query.where(part.where)
        if start is not None and index == first:
            query = query.where(_beyond(part.keys, [start[key.name] for key in part.keys], forward))
        order = [column.asc() if forward else column.desc() for column in part.order]
        rows += session.execute(query.order_by(*order).limit(limit - len(rows))).all()
        if len(rows) >= limit:
            break
    return rows


def _beyond(keys: Sequence[Column[Any]], values: Sequence[Any], forward: bool) -> ColumnElement[bool]:
    if len(keys) == 1:
        return keys[0] > values[0] if forward else keys[0] < values[0]
    left, right = tuple_(*keys), tuple_(*values)
    return left > right if forward else left < right


LIST_COLUMNS = (
    *CURSOR_COLUMNS,
    "first_name",
    "phone_normalized",
    "phone_status",
    "email_normalized",
    "email_status",
    "classification",
    "validation_state",
    "duplicate_confidence",
    "import_action",
    "review_decision",
)


def list_base() -> Select[Any]:
    return select(*(STUDENTS.c[name] for name in LIST_COLUMNS))


def export_base() -> Select[Any]:
    return select(*(STUDENTS.c[name] for name in STUDENT_COLUMNS))


def with_session_types(session: Session, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """The rows as dicts, each with the session type of its training. A second query by ids, not
    a join: joined, PostgreSQL merges along the whole trainings index before the LIMIT applies."""
    ids = [row.id for row in rows]
    query = select(TRAININGS.c.student_import_id, TRAININGS.c.session_type).where(
        TRAININGS.c.student_import_id.in_(ids)
    )
    types: dict[int, str | None] = {row_id: kind for row_id, kind in session.execute(query)} if ids else {}
    return [{**row._mapping, "session_type": types.get(row.id)} for row in rows]


def list_page(
    session: Session, filters: StudentFilters, cursor: Cursor | None = None, size: int = PAGE_SIZE
) -> Page:
    """One page of the list, phones and e-mails masked. A cursor names the row that the page
    starts after (next) or ends before (previous)."""
    if filters.run_id is None:
        return Page([], None, None)
    start = _cursor_row(session, filters, cursor)
    forward = cursor is None or cursor.forward
    rows = walk(session, filters, list_base(), size + 1, start, forward)
    more = len(rows) > size
    rows = rows[:size] if forward else rows[:size][::-1]
    if not rows:
        return Page([], None, None)
    first, last = rows[0]._mapping, rows[-1]._mapping
    has_next = more if forward else bool(walk(session, filters, list_base(), 1, last, True))
    if not forward:
        has_previous = more
    else:  # the first page has nothing before it; a later one probes one row back
        has_previous = cursor is not None and bool(walk(session, filters, list_base(), 1, first, False))
    return Page(
        [list_row(row) for row in with_session_types(session, rows)],
        next_after=last["id"] if has_next else None,
        previous_before=first["id"] if has_previous else None,
    )


def _cursor_row(session: Session, filters: StudentFilters, cursor: Cursor | None) -> Mapping[str, Any] | None:
    if cursor is None:
        return None
    query = select(*(STUDENTS.c[name] for name in CURSOR_COLUMNS)).where(STUDENTS.c.id == cursor.row_id)
    row = session.execute(query).first()
    if row is None or row.import_run_id != filters.run_id:
        raise FilterError(
            ["Page : cette position n'existe plus dans cet import ; reprenez à la première page."]
        )
    return dict(row._mapping)


def list_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row as lists show it: names in full, phone and e-mail masked (never the raw values)."""
    shown = {name: row[name] for name in LIST_COLUMNS if name not in ("phone_normalized", "email_normalized")}
    shown["session_type"] = row["session_type"]
    shown["phone"] = mask_phone(row["phone_normalized"])
    shown["email"] = mask_email(row["email_normalized"])
    return shown


def count_rows(
    session: Session, filters: StudentFilters, cap: int | None = None, budget_ms: int = COUNT_BUDGET_MS
) -> tuple[int | None, bool]:
    """(rows, capped), counting at most `cap` + 1 rows (by default `COUNT_CAP`, or
    `NAME_SEARCH_COUNT_CAP` for a name search). On PostgreSQL the count also gets at most
    `budget_ms`: a combination of filters that no single index serves (measured: three of them
    on a million-row run, 0.8 s) gives (None, False), "not counted", rather than a slow page."""
    if filters.run_id is None:
        return 0, False
    if cap is None:
        cap = NAME_SEARCH_COUNT_CAP if filters.search and filters.search.kind == "name" else COUNT_CAP
    query = select(func.count()).select_from(matching_rows(filters).limit(cap + 1).subquery())
    if session.get_bind().dialect.name == "postgresql":
        total = scalar_within(session, query, budget_ms)
        if total is None:
            return None, False
    else:
        total = session.scalar(query) or 0
    return min(total, cap), total > cap


def matching_rows(filters: StudentFilters) -> Select[Any]:
    """What `count_rows` counts: the rows the filters keep. For the session-type filter alone,
    the run's trainings of that type instead, one per row, by their own (run, session type)
    index: matching each to its row walked the run's ids (measured at 1M rows: 25 ms to count
    10,001 against 2 ms)."""
    others = ("source_table", "classification", "validation_state", "duplicate_confidence", "search")
    if filters.session_type is not None and all(getattr(filters, name) is None for name in others):
        return select(TRAININGS.c.id).where(
            TRAININGS.c.import_run_id == filters.run_id, TRAININGS.c.session_type == filters.session_type
        )
    return select(STUDENTS.c.id).where(*conditions(filters))


QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement timeout


def scalar_within(session: Session, query: Select[Any], budget_ms: int) -> Any:
    """PostgreSQL: `query`'s scalar under a statement timeout, in a savepoint; None when the time
    ran out. The transaction and its own timeout are as they were afterwards."""
    previous = session.scalar(text("SELECT current_setting('statement_timeout')"))
    try:
        with session.begin_nested():
            session.execute(
                text("SELECT set_config('statement_timeout', :value, true)"), {"value": f"{budget_ms}ms"}
            )
            value = session.scalar(query)
            session.execute(text("SELECT set_config('statement_timeout', :value, true)"), {"value": previous})
    except OperationalError as error:
        if getattr(error.orig, "sqlstate", None) != QUERY_CANCELED:
            raise
        return None
    return value


def iter_batches(
    session: Session, filters: StudentFilters, base: Select[Any], batch: int = EXPORT_BATCH
) -> Iterator[list[Any]]:
    """Every row of `base` that the filters keep, in sort order, `batch` rows per query."""
    if filters.run_id is None:
        return
    start: Mapping[str, Any] | None = None
    while True:
        rows = walk(session, filters, base, batch, start)
        if rows:
            yield rows
        if len(rows) < batch:
            return
        start = rows[-1]._mapping


# --- one row ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HintView:
    confidence: str
    reason: str
    score: int | None
    target_type: str
    target_id: int
    target_row: Mapping[str, Any] | None  # id, source_table, legacy_id of a staged target


@dataclass(frozen=True)
class StudentDetail:
    row: LegacyStudentImport
    training: LegacyTrainingImport | None
    hints: list[HintView]


def student_detail(session: Session, row_id: int) -> StudentDetail | None:
    row = session.get(LegacyStudentImport, row_id, options=[defer(LegacyStudentImport.raw_payload)])
    if row is None:
        return None
    training = session.scalar(select(LegacyTrainingImport).where(TRAININGS.c.student_import_id == row_id))
    return StudentDetail(row, training, duplicate_hints(session, row_id))


HINT_RANK = {str(confidence): rank for confidence, rank in CONFIDENCE_ORDER.items()}


def duplicate_hints(session: Session, row_id: int) -> list[HintView]:
    """The row's hints, strongest first; a staged target comes with its table and legacy id."""
    hints = session.scalars(
        select(LegacyDuplicateHint).where(LegacyDuplicateHint.student_import_id == row_id)
    ).all()
    staged_ids = {hint.target_id for hint in hints if hint.target_type == STAGED_ROW}
    targets = (
        {
            row.id: dict(row._mapping)
            for row in session.execute(
                select(STUDENTS.c.id, STUDENTS.c.source_table, STUDENTS.c.legacy_id).where(
                    STUDENTS.c.id.in_(staged_ids)
                )
            )
        }
        if staged_ids
        else {}
    )
    views = [
        HintView(
            hint.confidence,
            hint.reason,
            hint.score,
            hint.target_type,
            hint.target_id,
            targets.get(hint.target_id) if hint.target_type == STAGED_ROW else None,
        )
        for hint in hints
    ]
    return sorted(
        views, key=lambda view: (-HINT_RANK.get(view.confidence, 0), view.target_type, view.target_id)
    )


def view_raw_payload(session: Session, row_id: int, actor_id: int) -> dict[str, Any] | None:
    """The row's source record, verbatim; each view is audited (who, which row; never the data).
    The caller commits."""
    row = session.execute(
        select(STUDENTS.c.import_run_id, STUDENTS.c.raw_payload).where(STUDENTS.c.id == row_id)
    ).first()
    if row is None:
        return None
    record(
        session,
        "legacy_import.raw_viewed",
        object_type="legacy_student_import",
        object_id=row_id,
        actor_id=actor_id,
        details={"import_run_id": row.import_run_id},
    )
    payload = row.raw_payload
    return payload if isinstance(payload, dict) else {"valeur": payload}
