"""Existing people of the app database (`users` and `crm_leads`) for the pipeline benchmark.

Their identities come from the legacy generator itself (`app.legacy_import.demo`): the same
Algerian first and last names, mobile numbers and e-mail styles. About MATCH_SHARE of them are
legacy stagiaires (the identity the generator derived for that row), so validation finds equal
phones and e-mails (high hints) and equal names; the others are new people drawn from the same
name pools, who give same-name and similar-name (low) hints; their e-mail addresses carry a number
of their own, as platform accounts' addresses are unique (the generator's addresses come from a
finite set: without it, equal addresses between strangers would grow with the square of the
rows). Phones are stored as the import normalizes them (213 + national number), e-mails in lower
case. Nothing here is ever printed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.crm.models import CrmLead
from app.legacy_import.bulk import insert_rows
from app.legacy_import.demo import _Generator
from benchmarks.support import LEGACY_SEED, app_engine

MATCH_SHARE = 0.2  # existing people who are legacy stagiaires
PHONE_MISSING = 0.05
EMAIL_MISSING = 0.15
INSERT_BATCH = 5000

Row = dict[str, Any]


def contact(generator: _Generator, rng: random.Random, tag: str, index: int, stagiaires: int) -> Row:
    """Name, phone and e-mail of one existing person: a legacy stagiaire or someone new."""
    if stagiaires and rng.random() < MATCH_SHARE:
        ident = generator.identity("S", rng.randint(1, stagiaires))
        local = ident.email_local
    else:
        ident = generator.identity(tag, index)
        local = f"{ident.email_local}{index}"  # see the module docstring
    return {
        "first_name": ident.first,
        "last_name": ident.last,
        "phone": None if rng.random() < PHONE_MISSING else f"213{ident.nsn}",
        "email": None if rng.random() < EMAIL_MISSING else f"{local}@{ident.domain}",
    }


def user_row(person: Row) -> Row:
    return {**person, "is_active": True}


def lead_row(person: Row) -> Row:
    return {**person, "status": "new", "source": "legacy_benchmark"}


TARGETS: tuple[tuple[str, Table, Callable[[Row], Row]], ...] = (
    ("users", cast(Table, User.__table__), user_row),
    ("crm_leads", cast(Table, CrmLead.__table__), lead_row),
)


def people_rows(tag: str, count: int, stagiaires: int, seed: int) -> Iterator[Row]:
    generator = _Generator(seed, "postgresql")
    rng = random.Random(f"{seed}-{tag}")
    for index in range(1, count + 1):
        yield contact(generator, rng, tag, index, stagiaires)


def insert_existing_people(
    app_url: str, total: int, stagiaires: int, seed: int = LEGACY_SEED
) -> dict[str, int]:
    """Insert `total` people, half users and half CRM leads, through `insert_rows` (COPY)."""
    counts = {}
    with app_engine(app_url) as engine, Session(engine) as session:
        for position, (name, table, shape) in enumerate(TARGETS):
            count = total // 2 + (total % 2 if position == 0 else 0)
            rows = (shape(person) for person in people_rows(name[0].upper(), count, stagiaires, seed))
            while batch := list(islice(rows, INSERT_BATCH)):
                insert_rows(session, table, batch)
                session.commit()
            counts[name] = count
    settle(app_url, [table.name for _, table, _ in TARGETS])
    return counts


def settle(app_url: str, tables: list[str]) -> None:
    """Vacuum, analyze and checkpoint after the seeding, as existing data would be: otherwise
    autovacuum and the checkpointer work through the 200k fresh rows during the timed import."""
    with app_engine(app_url) as engine, engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql(f"VACUUM ANALYZE {', '.join(tables)}")
        conn.exec_driver_sql("CHECKPOINT")
