"""Web load benchmark: the review workspace's pages against a million staged rows (PostgreSQL).

    python -m benchmarks.web                       # what `make bench-web` runs
    python -m benchmarks.web --duration 20 --connections 8 --workers 4 --keep

1. A throw-away PostgreSQL database, `flask db upgrade`d, filled with set-based SQL
   (INSERT ... SELECT FROM generate_series, no Python loop): one run of `--rows` staged rows
   (stagiaires first, then archives, as the chunked import stages them) with a training each,
   duplicate hints, course and session mappings, and a few small runs around it. The values
   follow the vocabularies and rules (classification and its rule and import action, ~15%
   needs_review and ~3% duplicate with their reasons, duplicate confidence, session types,
   review decisions on ~10% of the queue); names come from the legacy generator's pools, phones
   and e-mails are invented. The secondary indexes are dropped during the fill and rebuilt from
   their own definitions (`pg_get_indexdef`); the review queues' counts are counted from the
   rows (`queue_counts.recount`: validation and the review actions keep them, and neither ran);
   then VACUUM ANALYZE. An administrator is created with `flask users create --password-stdin`.
2. The app is served on loopback by gunicorn (sync workers; the benchmark pip-installs it into
   the venv when it is missing: it is not a requirement of the app), or by
   `flask run --with-threads` when gunicorn cannot be installed. SESSION_COOKIE_SECURE=0.
3. One sign-in with urllib (CSRF token from /login) gives the session cookie; every URL is first
   fetched once without following redirects (it must answer 200, not a redirect to /login),
   then loaded with `wrk` (Debian package `wrk`) for `--duration` seconds with `--connections`
   connections. `web_load.lua` counts the status of every response and prints the percentiles.
   Each URL is then loaded with one connection alone (`--serial` seconds): the page's own latency.
4. Each page is then requested in process (Flask test client, median of 3 after a warm request)
   with its SQL statements timed; for a page that misses the goal, EXPLAIN (ANALYZE, BUFFERS) of
   its slowest statements. A failure of this step leaves the load figures standing.

Goal (issue): p95 < 150 ms for the runs list, the staged rows list with each filter (and a
deep keyset page) and the review queue. Table on stdout, figures in bench-results/web.json.
Names, phones and e-mails are never printed nor written: search terms are shown as <name>.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from http.cookiejar import CookieJar
from itertools import product
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.legacy_import import queue_counts
from app.legacy_import.demo import _FIRST_NAMES, _FORMATIONS, _LAST_NAMES
from app.legacy_import.models import RUN_COUNTERS
from app.legacy_import.normalize import name_key
from app.legacy_import.settings import IngestSettings
from benchmarks.celery_mode import stop_group
from benchmarks.support import (
    BUSY_LOAD,
    RESULTS_DIR,
    ROOT,
    app_database,
    child_env,
    cpu_snapshot,
    cpu_use,
    generated_at,
    load_average,
    machine,
    mark,
    relative,
    venv_bin,
    write_json,
)

RESULTS_FILE = RESULTS_DIR / "web.json"
LUA_SCRIPT = Path(__file__).resolve().with_name("web_load.lua")
GOAL_P95_MS = 150.0
ARCHIVE_SHARE = 0.3
SMALL_RUNS_BEFORE = (5_000, 3_000)  # older runs, then the big one, then SMALL_RUN_AFTER
SMALL_RUN_AFTER = 2_000
SESSIONS, FORMATIONS = 300, 25
WAITING_SESSIONS = (1, 1, 1, 2, 2, 235, 235, 17, 64, 118, 177, 260)  # 1, 2, 235 weigh most
PLACEHOLDER_SESSIONS = (9, 33, 58, 91, 126, 150, 199, 222, 248, 271, 289, 297)
USER_AGENT = "ecoin-bench-web/1"  # the same at sign-in and under load: "strong" session protection
ADMIN_EMAIL = "bench-web-admin@ecoin.test"
SERVER_READY_TIMEOUT = 60.0
EXPLAIN_STATEMENTS = 2  # the slowest statements of a page that misses, explained
EXPLAIN_FROM_MS = 2.0  # ... if they take at least this long
PROFILE_REQUESTS = 3  # in-process requests per page; the median is kept


# --------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    rows: int
    duration: int
    connections: int
    threads: int
    workers: int
    warmup: int
    serial: int
    keep: bool
    explain_all: bool


def parse_args(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.web",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the big run (%(default)s)")
    parser.add_argument("--duration", type=int, default=15, help="seconds of load per URL (%(default)s)")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections (%(default)s)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (%(default)s)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (%(default)s)")
    parser.add_argument(
        "--warmup", type=int, default=3, help="seconds of unmeasured load first (%(default)s)"
    )
    parser.add_argument(
        "--serial", type=int, default=5, help="then seconds with one connection alone, 0: none (%(default)s)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database (its URL goes to stderr)")
    parser.add_argument("--explain-all", action="store_true", help="EXPLAIN every page, not only misses")
    args = parser.parse_args(argv)
    return Options(
        rows=args.rows,
        duration=args.duration,
        connections=args.connections,
        threads=max(1, min(args.threads, args.connections)),
        workers=args.workers,
        warmup=args.warmup,
        serial=args.serial,
        keep=args.keep,
        explain_all=args.explain_all,
    )


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# Filling the database, set-based
# --------------------------------------------------------------------------------------

STAGIAIRE_CLASSES = (
    ("completed", 22),
    ("archived_training", 7),
    ("lead_only", 35),
    ("registered", 14),
    ("unknown", 10),
    ("needs_review", 3),
)
ARCHIVE_CLASSES = (
    ("archived_training", 55),
    ("completed", 29),
    ("lead_only", 2),
    ("registered", 1),
    ("unknown", 6),
    ("needs_review", 7),
)
SESSION_KINDS = (("real", 76), ("waiting", 12), ("placeholder", 5), ("unknown", 7))


def weighted_case(variable: str, weights: Sequence[tuple[str, float]]) -> str:
    """A CASE choosing a value by the uniform random `variable`, in proportion to the weights."""
    total, edge, branches = sum(weight for _, weight in weights), 0.0, []
    for value, weight in weights[:-1]:
        edge += weight / total
        branches.append(f"WHEN {variable} < {edge:.6f} THEN '{value}'")
    return f"CASE {' '.join(branches)} ELSE '{weights[-1][0]}' END"


def int_array(values: Sequence[int]) -> str:
    return "ARRAY[" + ",".join(str(value) for value in values) + "]"


# Levels: random draws (volatile, so computed once per row), then values derived from them; each
# level behind OFFSET 0, so that it is computed once rather than inlined into every use above it.
STUDENTS_SQL = """
INSERT INTO legacy_student_imports (
    import_run_id, source_table, legacy_id, legacy_stagiaire_id, first_name, last_name, name_key,
    phone_raw, phone_normalized, phone_status, email_raw, email_normalized, email_status,
    birth_date, birth_date_raw, status_raw, status_text, legacy_formation_id, legacy_session_id,
    classification, classification_rule, validation_state, validation_reasons, duplicate_confidence,
    import_action, normalization_issues, raw_payload, review_decision, reviewed_at, created_at)
SELECT
    %(run)s, source_table, legacy_id, stagiaire_ref, first_name, last_name, name_key,
    phone_raw, phone_normalized, phone_status, email_raw, email_normalized, email_status,
    birth_date, birth_date_raw, status_raw, status_raw, formation_id, session_id,
    classification, rule, state, reasons::json, confidence,
    action, issues::json,
    CASE WHEN source_table = 'archives' THEN json_build_object(
        'id', legacy_id, 'stagiaire_id', stagiaire_ref, 'nom', last_name, 'prenom', first_name,
        'telephone', phone_raw, 'email', email_raw, 'date_naissance', birth_date_raw,
        'statut', status_raw, 'formation_id', formation_id, 'session_ecoin_id', session_id,
        'date_archivage', stamp, 'created_at', stamp, 'updated_at', stamp)
    ELSE json_build_object(
        'id', legacy_id, 'nom', last_name, 'prenom', first_name, 'telephone', phone_raw,
        'email', email_raw, 'date_naissance', birth_date_raw, 'lieu_naissance', wilaya,
        'adresse', 'Cité ' || (g %% 400 + 1) || ' logements, bt ' || (g %% 30 + 1), 'wilaya', wilaya,
        'statut', status_raw, 'formation_id', formation_id, 'session_ecoin_id', session_id,
        'remarque', NULL, 'created_at', stamp, 'updated_at', stamp) END,
    decision, CASE WHEN decision IS NOT NULL THEN now() END, now()
FROM (
  SELECT l5.*,
    CASE phone_status WHEN 'valid' THEN '213' || prefix || digits END AS phone_normalized,
    CASE phone_status WHEN 'valid' THEN '0' || prefix || ' ' || digits
                      WHEN 'invalid' THEN '0' || left(digits, 5) END AS phone_raw,
    CASE email_status WHEN 'valid' THEN email_local || '@' || domain
                      WHEN 'placeholder' THEN 'ecoin.hank@gmail.com' END AS email_normalized,
    CASE email_status WHEN 'valid' THEN email_local || '@' || domain
                      WHEN 'placeholder' THEN 'Ecoin.hank@gmail.com'
                      WHEN 'invalid' THEN coalesce(email_local, 'contact') || '@gmail' END AS email_raw,
    CASE WHEN phone_status = 'invalid' AND email_status = 'invalid' THEN '["phone_invalid", "email_invalid"]'
         WHEN phone_status = 'invalid' THEN '["phone_invalid"]'
         WHEN email_status = 'invalid' THEN '["email_invalid"]'
         WHEN birth_date_raw = '0000-00-00' THEN '["birth_date_zero_date"]'
         ELSE '[]' END AS issues
  FROM (
    SELECT l4.*,
      CASE WHEN state = 'failed' THEN NULL ELSE first END AS first_name,
      CASE WHEN state = 'failed' THEN NULL ELSE last END AS last_name,
      CASE WHEN state = 'failed' THEN NULL ELSE key END AS name_key,
      CASE WHEN state = 'failed' THEN NULL
           ELSE replace(key, ' ', '.') || (g %% 997) END AS email_local,
      (ARRAY['gmail.com', 'yahoo.fr', 'hotmail.com', 'outlook.fr'])[1 + g %% 4] AS domain,
      (ARRAY['5', '6', '7'])[1 + g %% 3] AS prefix,
      CASE WHEN no_contact THEN CASE WHEN r_phone < 0.5 THEN 'missing' ELSE 'invalid' END
           WHEN r_phone < 0.82 THEN 'valid' WHEN r_phone < 0.90 THEN 'invalid' ELSE 'missing' END
        AS phone_status,
      CASE WHEN no_contact THEN CASE WHEN r_email < 0.6 THEN 'missing'
                                     WHEN r_email < 0.8 THEN 'placeholder' ELSE 'invalid' END
           WHEN r_phone >= 0.82 OR r_email < 0.45 THEN 'valid'
           WHEN r_email < 0.50 THEN 'placeholder' WHEN r_email < 0.53 THEN 'invalid'
           ELSE 'missing' END AS email_status,
      CASE WHEN classification = 'needs_review' THEN NULL WHEN dangling_formation THEN 404
           ELSE formation END AS formation_id,
      CASE WHEN dangling_session THEN 5000
           WHEN session_kind = 'waiting' THEN ({waiting})[1 + g %% {n_waiting}]
           WHEN session_kind = 'placeholder' THEN ({placeholder})[1 + g %% {n_placeholder}]
           WHEN session_kind = 'unknown' THEN CASE WHEN g %% 2 = 0 THEN 0 END
           ELSE real_session END AS session_id,
      CASE WHEN state = 'duplicate' THEN 'high' WHEN medium THEN 'medium'
           WHEN r_conf < 0.04 THEN 'high' WHEN r_conf < 0.07 THEN 'low' ELSE 'none' END AS confidence,
      CASE state
        WHEN 'failed' THEN '["no_name_phone_or_email"]'
        WHEN 'duplicate' THEN CASE WHEN r_reason < 0.6 THEN '["matches_existing_user"]'
                                   ELSE '["matches_existing_crm_lead"]' END
        WHEN 'needs_review' THEN '[' || concat_ws(', ',
            CASE WHEN class_review THEN '"classification_' || classification || '"' END,
            CASE WHEN medium THEN '"medium_duplicate_hint"' END,
            CASE WHEN no_contact THEN '"no_usable_phone_or_email"' END,
            CASE WHEN dangling_formation THEN '"dangling_formation"' END,
            CASE WHEN dangling_session THEN '"dangling_session"' END) || ']'
        ELSE '[]' END AS reasons,
      CASE classification
        WHEN 'completed' THEN (ARRAY['Formée', 'formée', 'FORMEE', 'Formé'])[1 + g %% 4]
        WHEN 'archived_training' THEN (ARRAY['Archivé', 'archivé', 'Archivè'])[1 + g %% 3]
        WHEN 'lead_only' THEN (ARRAY['Informer', 'Ne répond pas', 'nouveau', 'informer'])[1 + g %% 4]
        WHEN 'registered' THEN 'Confirmer'
        WHEN 'unknown' THEN (ARRAY['Annulé', '', 'xxx'])[1 + g %% 3]
        ELSE 'Formée' END AS status_raw,
      CASE classification
        WHEN 'completed' THEN 'status_formee' WHEN 'archived_training' THEN 'status_archive'
        WHEN 'lead_only' THEN 'status_informer' WHEN 'registered' THEN 'status_confirmer'
        WHEN 'unknown' THEN 'status_unrecognized' ELSE 'status_formee_without_formation' END AS rule,
      CASE classification
        WHEN 'completed' THEN 'create_legacy_completed_training'
        WHEN 'archived_training' THEN 'create_legacy_completed_training'
        WHEN 'lead_only' THEN 'create_course_interest' WHEN 'registered' THEN 'create_legacy_enrollment'
        ELSE 'needs_review' END AS action,
      CASE WHEN r_birth < 0.08 THEN NULL ELSE birth END AS birth_date,
      CASE WHEN r_birth < 0.05 THEN '0000-00-00' WHEN r_birth < 0.08 THEN NULL
           ELSE birth::text END AS birth_date_raw,
      (ARRAY['Alger', 'Blida', 'Boumerdès', 'Tipaza', 'Tizi Ouzou', 'Oran', 'Sétif'])[1 + g %% 7] AS wilaya
    FROM (
      SELECT l3.*,
        state = 'failed' OR (state = 'needs_review' AND CASE WHEN class_review
            THEN r_reason >= 0.08 AND r_reason < 0.15 ELSE r_reason >= 0.35 AND r_reason < 0.70 END)
          AS no_contact,
        state = 'needs_review' AND CASE WHEN class_review THEN r_reason < 0.08 ELSE r_reason < 0.35 END
          AS medium,
        state = 'needs_review' AND NOT class_review AND r_reason >= 0.70 AND r_reason < 0.88
          AS dangling_formation,
        state = 'needs_review' AND NOT class_review AND r_reason >= 0.88 AS dangling_session,
        CASE WHEN state IN ('needs_review', 'duplicate') THEN
          CASE WHEN r_review < 0.07 THEN 'approved' WHEN r_review < 0.10 THEN 'skipped' END END
          AS decision
      FROM (
        SELECT l2.*,
          CASE WHEN r_state < 0.008 THEN 'failed' WHEN r_state < 0.038 THEN 'duplicate'
               WHEN class_review OR r_state < 0.063 THEN 'needs_review' ELSE 'valid' END AS state
        FROM (
          SELECT l1.*,
            CASE WHEN archive THEN 'archives' ELSE 'stagiaires' END AS source_table,
            CASE WHEN archive THEN (g - %(stagiaires)s) + (g - %(stagiaires)s) / 41
                 ELSE g + g / 37 END AS legacy_id,
            CASE WHEN archive AND r_ref < 0.13
                 THEN (1 + floor(r_ref / 0.13 * %(stagiaires)s)::bigint)
                      + (1 + floor(r_ref / 0.13 * %(stagiaires)s)::bigint) / 37 END AS stagiaire_ref,
            CASE WHEN archive THEN {archive_classes} ELSE {stagiaire_classes} END AS classification,
            CASE WHEN archive THEN {archive_classes} ELSE {stagiaire_classes} END
              IN ('unknown', 'needs_review') AS class_review,
            {session_kinds} AS session_kind
          FROM (
          -- names by a join (a subscript of a 4,752-element text array costs O(n) per row), then
          -- back in the order of g: stagiaires first, then archives, as the import stages them
          SELECT l0.*, n.first, n.last, n.key FROM (
            SELECT g, g > %(stagiaires)s AS archive,
              random() AS r_class, random() AS r_state, random() AS r_reason, random() AS r_conf,
              random() AS r_phone, random() AS r_email, random() AS r_review, random() AS r_session,
              random() AS r_birth, random() AS r_ref,
              1 + floor(random() * %(names)s)::int AS name_i,
              1 + floor(random() * {formations})::int AS formation,
              1 + floor(random() * {sessions})::int AS real_session,
              lpad(floor(random() * 100000000)::bigint::text, 8, '0') AS digits,
              date '1975-01-01' + floor(random() * 12500)::int AS birth,
              timestamp '2016-01-01' + random() * interval '3700 days' AS stamp
            FROM generate_series(1, %(rows)s) AS g
          ) l0
          JOIN unnest(%(firsts)s::text[], %(lasts)s::text[], %(keys)s::text[]) WITH ORDINALITY
            AS n(first, last, key, i) ON n.i = l0.name_i
          ORDER BY l0.g
          OFFSET 0
          ) l1
        OFFSET 0
        ) l2
      OFFSET 0
      ) l3
    OFFSET 0
    ) l4
  OFFSET 0
  ) l5
) l6
""".format(
    archive_classes=weighted_case("r_class", ARCHIVE_CLASSES),
    stagiaire_classes=weighted_case("r_class", STAGIAIRE_CLASSES),
    session_kinds=weighted_case("r_session", SESSION_KINDS),
    waiting=int_array(WAITING_SESSIONS),
    n_waiting=len(WAITING_SESSIONS),
    placeholder=int_array(PLACEHOLDER_SESSIONS),
    n_placeholder=len(PLACEHOLDER_SESSIONS),
    formations=FORMATIONS,
    sessions=SESSIONS,
)

COURSE_MAPPINGS_SQL = f"""
INSERT INTO legacy_course_mappings (import_run_id, legacy_formation_id, legacy_name, raw_payload, decision,
                                    created_at)
SELECT %(run)s, f, (%(names)s::text[])[f],
       json_build_object('id', f, 'nom', (%(names)s::text[])[f], 'duree', '6 mois', 'prix', 30000 + f * 1000),
       CASE WHEN f %% 5 = 0 THEN 'legacy_only' ELSE 'pending' END, now()
FROM generate_series(1, {FORMATIONS}) AS f
"""

SESSION_MAPPINGS_SQL = """
INSERT INTO legacy_session_mappings (import_run_id, legacy_session_id, code, legacy_formation_id, starts_on,
                                     ends_on, raw_payload, session_type, decision, created_at)
SELECT %(run)s, s, code, formation, starts, starts + 120, json_build_object('id', s, 'code', code,
       'formation_id', formation, 'date_debut', starts, 'date_fin', starts + 120), kind, 'pending', now()
FROM (
  SELECT s,
    CASE WHEN s = ANY({waiting}) THEN 'waiting_session'
         WHEN s = ANY({placeholder}) THEN 'placeholder_session' ELSE 'real_session' END AS kind,
    CASE WHEN s = ANY({waiting}) THEN 'Session-Attente ' || s
         ELSE 'S' || lpad(s::text, 3, '0') || '-' || (2016 + s %% 10) END AS code,
    CASE WHEN s = ANY({placeholder}) THEN NULL ELSE 1 + s %% {formations} END AS formation,
    date '2016-01-04' + (s * 12) AS starts
  FROM generate_series(1, {sessions}) AS s
) sessions
""".format(
    waiting=int_array(WAITING_SESSIONS),
    placeholder=int_array(PLACEHOLDER_SESSIONS),
    formations=FORMATIONS,
    sessions=SESSIONS,
)

TRAININGS_SQL = """
INSERT INTO legacy_training_imports (student_import_id, import_run_id, legacy_formation_id,
    legacy_formation_name, legacy_session_id, legacy_session_code, session_starts_on, session_ends_on,
    session_type, import_action, created_at)
SELECT s.id, s.import_run_id, s.legacy_formation_id, cm.legacy_name, s.legacy_session_id, sm.code,
       sm.starts_on, sm.ends_on, coalesce(sm.session_type, 'unknown'), s.import_action, now()
FROM legacy_student_imports s
LEFT JOIN legacy_course_mappings cm
  ON cm.import_run_id = s.import_run_id AND cm.legacy_formation_id = s.legacy_formation_id
LEFT JOIN legacy_session_mappings sm
  ON sm.import_run_id = s.import_run_id AND sm.legacy_session_id = s.legacy_session_id
WHERE s.import_run_id = %(run)s
ORDER BY s.id
"""

# One hint per row with a confidence: duplicates point at a user or a lead, the others at an
# earlier row of the same run.
HINTS_SQL = """
INSERT INTO legacy_duplicate_hints (import_run_id, student_import_id, target_type, target_id, confidence,
                                    reason, score, created_at)
SELECT import_run_id, id,
  CASE WHEN validation_state = 'duplicate' THEN
         CASE WHEN position('user' IN validation_reasons::text) > 0 THEN 'user' ELSE 'crm_lead' END
       WHEN duplicate_confidence = 'low' AND id %% 3 = 0 THEN 'user'
       ELSE 'staged_row' END,
  CASE WHEN validation_state = 'duplicate' OR (duplicate_confidence = 'low' AND id %% 3 = 0)
       THEN 1 + id %% 50000
       ELSE greatest(%(low)s, id - 1 - id %% 4000) END,
  duplicate_confidence,
  CASE WHEN validation_state = 'duplicate' THEN
         CASE WHEN position('user' IN validation_reasons::text) > 0
              THEN (ARRAY['same_phone_as_user', 'same_email_as_user'])[1 + id %% 2]
              ELSE (ARRAY['same_phone_as_crm_lead', 'same_email_as_crm_lead'])[1 + id %% 2] END
       WHEN duplicate_confidence = 'high' THEN (ARRAY['same_phone_in_run', 'same_email_in_run'])[1 + id %% 2]
       WHEN duplicate_confidence = 'medium'
         THEN (ARRAY['same_name_and_birth_date', 'same_name_and_raw_phone'])[1 + id %% 2]
       ELSE 'similar_name' END,
  CASE WHEN duplicate_confidence = 'low' THEN 90 + id %% 10 END,
  now()
FROM legacy_student_imports
WHERE import_run_id = %(run)s AND duplicate_confidence <> 'none' AND id > %(low)s
ORDER BY id
"""

RUN_COUNTERS_SQL = f"""
UPDATE legacy_import_runs r SET
  rows_total = c.total + {FORMATIONS + SESSIONS}, rows_done = c.total + {FORMATIONS + SESSIONS},
  formations_staged = {FORMATIONS}, sessions_staged = {SESSIONS},
  stagiaires_staged = c.stagiaires, archives_staged = c.archives, trainings_staged = c.total,
  phones_valid = c.phones_valid, phones_invalid = c.phones_invalid, phones_missing = c.phones_missing,
  emails_valid = c.emails_valid, emails_placeholder = c.emails_placeholder,
  emails_invalid = c.emails_invalid, emails_missing = c.emails_missing,
  rows_with_issues = c.with_issues
FROM (
  SELECT count(*) AS total,
    count(*) FILTER (WHERE source_table = 'stagiaires') AS stagiaires,
    count(*) FILTER (WHERE source_table = 'archives') AS archives,
    count(*) FILTER (WHERE phone_status = 'valid') AS phones_valid,
    count(*) FILTER (WHERE phone_status = 'invalid') AS phones_invalid,
    count(*) FILTER (WHERE phone_status = 'missing') AS phones_missing,
    count(*) FILTER (WHERE email_status = 'valid') AS emails_valid,
    count(*) FILTER (WHERE email_status = 'placeholder') AS emails_placeholder,
    count(*) FILTER (WHERE email_status = 'invalid') AS emails_invalid,
    count(*) FILTER (WHERE email_status = 'missing') AS emails_missing,
    count(*) FILTER (WHERE normalization_issues::text <> '[]') AS with_issues
  FROM legacy_student_imports WHERE import_run_id = %(run)s
) c
WHERE r.id = %(run)s
"""

SECONDARY_INDEXES_SQL = """
SELECT c.relname, pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = ANY(%s::text[]::regclass[])
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
ORDER BY c.relname
"""
FILLED_TABLES = ["legacy_student_imports", "legacy_training_imports", "legacy_duplicate_hints"]


@dataclass(frozen=True)
class RunSpec:
    rows: int
    label: str
    status: str


@dataclass
class Dataset:
    big_run: int = 0
    runs: list[int] = field(default_factory=list)
    id_range: tuple[int, int] = (0, 0)
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows, all runs
    big_run_states: dict[str, int] = field(default_factory=dict)
    stagiaires_before_archives: bool = False  # ids in the import's order: every stagiaire first
    seconds: dict[str, float] = field(default_factory=dict)  # fill step -> seconds


def psycopg_dsn(app_url: str) -> str:
    return sa.make_url(app_url).set(drivername="postgresql").render_as_string(hide_password=False)


def name_pools() -> tuple[list[str], list[str], list[str]]:
    """Every (first, last) pair of the legacy generator's pools, with its name_key."""
    pairs = [(first, last) for first, last in product(_FIRST_NAMES, _LAST_NAMES)]
    keys = [name_key(first, last) or "" for first, last in pairs]
    return [first for first, _ in pairs], [last for _, last in pairs], keys


def run_specs(rows: int) -> list[RunSpec]:
    before = [
        RunSpec(n, f"import de contrôle {i + 1}", "dry_run_ready") for i, n in enumerate(SMALL_RUNS_BEFORE)
    ]
    return [
        *before,
        RunSpec(rows, "import complet", "dry_run_ready"),
        RunSpec(SMALL_RUN_AFTER, "réimport partiel", "validated"),
    ]


def timed(seconds: dict[str, float], step: str, conn: psycopg.Connection[Any], sql: str, params: Any) -> None:
    started = time.perf_counter()
    conn.execute(sql, params)
    seconds[step] = seconds.get(step, 0.0) + time.perf_counter() - started


def create_run(conn: psycopg.Connection[Any], spec: RunSpec) -> int:
    counters = ", ".join(RUN_COUNTERS)
    zeros = ", ".join("0" for _ in RUN_COUNTERS)
    steps = ["formations", "session_ecoins", "students", "session_types", "duplicate_hints", "validation"]
    log = [
        {"step": s, "started_at": "2026-05-01T08:00:00+00:00", "finished_at": "2026-05-01T08:05:00+00:00"}
        for s in steps
    ]
    row = conn.execute(
        f"""INSERT INTO legacy_import_runs (label, connection_name, status, step_checkpoint, rows_total,
              rows_done, {counters}, step_log, started_at, finished_at, updated_at, created_at)
            VALUES (%s, 'legacy', %s, 0, 0, 0, {zeros}, %s::json, now(), now(), now(), now())
            RETURNING id""",
        (spec.label, spec.status, json.dumps(log)),
    ).fetchone()
    assert row is not None
    return int(row[0])


def fill_run(
    conn: psycopg.Connection[Any], spec: RunSpec, pools: tuple[list[str], ...], seconds: dict[str, float]
) -> int:
    run = create_run(conn, spec)
    firsts, lasts, keys = pools
    formation_names = [name for name, *_ in _FORMATIONS][:FORMATIONS]
    timed(seconds, "mappings", conn, COURSE_MAPPINGS_SQL, {"run": run, "names": formation_names})
    timed(seconds, "mappings", conn, SESSION_MAPPINGS_SQL, {"run": run})
    students = {
        "run": run,
        "rows": spec.rows,
        "stagiaires": round(spec.rows * (1 - ARCHIVE_SHARE)),
        "names": len(keys),
        "firsts": firsts,
        "lasts": lasts,
        "keys": keys,
    }
    timed(seconds, "students", conn, STUDENTS_SQL, students)
    low = conn.execute(
        "SELECT min(id) FROM legacy_student_imports WHERE import_run_id = %s", (run,)
    ).fetchone()
    # Statistics first: without them the planner joins the mappings row by row.
    timed(
        seconds,
        "trainings",
        conn,
        "ANALYZE legacy_student_imports, legacy_course_mappings, legacy_session_mappings",
        None,
    )
    timed(seconds, "trainings", conn, TRAININGS_SQL, {"run": run})
    timed(seconds, "hints", conn, HINTS_SQL, {"run": run, "low": low[0] if low else 0})
    timed(seconds, "counters", conn, RUN_COUNTERS_SQL, {"run": run})
    return run


def drop_secondary_indexes(conn: psycopg.Connection[Any]) -> list[tuple[str, str]]:
    """Drop the indexes that back no constraint (their definitions are returned to rebuild them)."""
    indexes = [(name, ddl) for name, ddl in conn.execute(SECONDARY_INDEXES_SQL, (FILLED_TABLES,))]
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    return indexes


def fill_database(app_url: str, rows: int) -> Dataset:
    """Runs, staged rows, trainings, hints and mappings; indexes rebuilt; VACUUM ANALYZE."""
    data = Dataset()
    pools = name_pools()
    with psycopg.connect(psycopg_dsn(app_url)) as conn:
        conn.execute("SET session_replication_role = replica")  # no FK triggers: rows are consistent
        conn.execute("SELECT setseed(0.42)")
        conn.execute("SET jit = off")  # compiling these expressions costs seconds, saves nothing
        conn.execute("SET work_mem = '512MB'")  # the sort of the generated rows, in memory
        indexes = drop_secondary_indexes(conn)
        for spec in run_specs(rows):
            run = fill_run(conn, spec, pools, data.seconds)
            data.runs.append(run)
            if spec.rows == rows:
                data.big_run = run
        rebuild_indexes(conn, indexes, data.seconds)
        conn.commit()
    count_review_queues(app_url, data.runs, data.seconds)
    vacuum_analyze(app_url, data.seconds)
    describe_dataset(app_url, data)
    return data


def rebuild_indexes(
    conn: psycopg.Connection[Any], indexes: list[tuple[str, str]], seconds: dict[str, float]
) -> None:
    conn.execute("SET maintenance_work_mem = '512MB'")
    conn.execute("SET max_parallel_maintenance_workers = 2")
    for _, ddl in indexes:
        timed(seconds, "indexes", conn, ddl, None)


def count_review_queues(app_url: str, runs: list[int], seconds: dict[str, float]) -> None:
    """The fill wrote the rows' states and decisions itself, not through validation and the
    review actions that keep the review queue's counts: count them from the rows instead."""
    started = time.perf_counter()
    engine = sa.create_engine(app_url)
    with Session(engine) as session:
        for run in runs:
            queue_counts.recount(session, run)
        session.commit()
    engine.dispose()
    seconds["review_counts"] = time.perf_counter() - started


def vacuum_analyze(app_url: str, seconds: dict[str, float]) -> None:
    """VACUUM too, not only ANALYZE: the visibility map lets counts be index-only scans, as on a
    table that autovacuum has been through since the import."""
    started = time.perf_counter()
    with psycopg.connect(psycopg_dsn(app_url), autocommit=True) as conn:
        for table in (
            *FILLED_TABLES,
            "legacy_import_runs",
            "legacy_course_mappings",
            "legacy_session_mappings",
        ):
            conn.execute(f"VACUUM (ANALYZE) {table}")
    seconds["vacuum_analyze"] = time.perf_counter() - started


ORDER_SQL = """
SELECT max(id) FILTER (WHERE source_table = 'stagiaires') < min(id) FILTER (WHERE source_table = 'archives')
FROM legacy_student_imports WHERE import_run_id = %s
"""


def describe_dataset(app_url: str, data: Dataset) -> None:
    with psycopg.connect(psycopg_dsn(app_url)) as conn:
        for table in (*FILLED_TABLES, "legacy_course_mappings", "legacy_session_mappings"):
            row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
            data.rows[table] = int(row[0]) if row else 0
        data.big_run_states = {
            str(state): int(n)
            for state, n in conn.execute(
                "SELECT validation_state, count(*) FROM legacy_student_imports WHERE import_run_id = %s "
                "GROUP BY 1 ORDER BY 1",
                (data.big_run,),
            )
        }
        bounds = conn.execute(
            "SELECT min(id), max(id) FROM legacy_student_imports WHERE import_run_id = %s", (data.big_run,)
        ).fetchone()
        data.id_range = (int(bounds[0]), int(bounds[1])) if bounds else (0, 0)
        order = conn.execute(ORDER_SQL, (data.big_run,)).fetchone()
        data.stagiaires_before_archives = bool(order and order[0])


# --------------------------------------------------------------------------------------
# App: migrate, administrator, server
# --------------------------------------------------------------------------------------


def app_env(app_url: str, secret: str) -> dict[str, str]:
    return child_env(app_url, "", IngestSettings.batch_size, SECRET_KEY=secret, SESSION_COOKIE_SECURE="0")


def flask_cli(env: dict[str, str], *args: str, stdin: str | None = None) -> None:
    done = subprocess.run(
        [venv_bin("flask"), *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"flask {' '.join(args[:2])} exited {done.returncode}: {done.stderr.strip()[-1500:]}"
        )


def create_admin(env: dict[str, str], password: str) -> None:
    flask_cli(
        env,
        "users",
        "create",
        f"--email={ADMIN_EMAIL}",
        "--password-stdin",
        "--role=administrator",
        stdin=password + "\n",
    )


GUNICORN_NOTE = (
    "gunicorn is not a requirement of the app: the benchmark pip-installs it into the venv if missing"
)


def ensure_gunicorn() -> tuple[bool, bool]:
    """(available, installed now): gunicorn in the venv, pip-installed for the benchmark if missing."""
    if Path(venv_bin("gunicorn")).exists():
        return True, False
    progress("gunicorn is not installed: pip install gunicorn (into the venv, for this benchmark only)")
    pip = [venv_bin("pip"), "install", "--quiet", "--disable-pip-version-check", "gunicorn"]
    done = subprocess.run(pip, check=False)
    return done.returncode == 0 and Path(venv_bin("gunicorn")).exists(), True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class ServerInfo:
    kind: str  # "gunicorn (sync workers)" or "flask run --with-threads"
    version: str
    workers: int
    installed_by_benchmark: bool
    argv: list[str]


def server_argv(port: int, workers: int, use_gunicorn: bool) -> list[str]:
    address = f"127.0.0.1:{port}"
    if use_gunicorn:
        tuning = ["--workers", str(workers), "--log-level", "warning", "--timeout", "60"]
        return [venv_bin("gunicorn"), *tuning, "--bind", address, "wsgi:app"]
    return [
        venv_bin("flask"),
        "--app",
        "wsgi",
        "run",
        "--with-threads",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def server_info(argv: list[str], workers: int, gunicorn: tuple[bool, bool]) -> ServerInfo:
    use_gunicorn, installed = gunicorn
    if not use_gunicorn:
        return ServerInfo("flask run --with-threads", "werkzeug", 1, installed, argv)
    answer = subprocess.run([argv[0], "--version"], capture_output=True, text=True, check=False)
    return ServerInfo("gunicorn (sync workers)", answer.stdout.strip(), workers, installed, argv)


@contextmanager
def served(env: dict[str, str], workers: int) -> Iterator[tuple[str, ServerInfo]]:
    """The app on a free loopback port, in its own process group, stopped with it."""
    gunicorn = ensure_gunicorn()
    port = free_port()
    argv = server_argv(port, workers, gunicorn[0])
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_listening(base, process, log)
            yield base, server_info(argv, workers, gunicorn)
        finally:
            stop_group(process)


def wait_listening(base: str, process: subprocess.Popen[bytes], log: Any) -> None:
    deadline = time.monotonic() + SERVER_READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"the server exited {process.returncode}: {log.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(base + "/login", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not answer on {base} within {SERVER_READY_TIMEOUT:.0f} s")


# --------------------------------------------------------------------------------------
# HTTP: sign-in, single requests
# --------------------------------------------------------------------------------------

CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def sign_in(base: str, password: str) -> str:
    """The `session` cookie of a fresh sign-in (urllib, CSRF token from the sign-in form)."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", USER_AGENT)]
    with opener.open(base + "/login", timeout=30) as answer:
        token = csrf_token(answer.read().decode())
    form = urllib.parse.urlencode({"email": ADMIN_EMAIL, "password": password, "csrf_token": token}).encode()
    with opener.open(base + "/login", data=form, timeout=30) as answer:
        landed = urllib.parse.urlsplit(answer.url).path
    cookie = next((c.value for c in jar if c.name == "session" and c.value), None)
    if cookie is None or landed.startswith("/login"):
        raise RuntimeError(f"sign-in failed (landed on {landed})")
    return cookie


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass(frozen=True)
class Fetched:
    status: int
    body: str
    location: str | None


def fetch(base: str, path: str, cookie: str) -> Fetched:
    """One GET with the load's own headers, redirects not followed."""
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(
        base + path, headers={"Cookie": f"session={cookie}", "User-Agent": USER_AGENT}
    )
    try:
        with opener.open(request, timeout=60) as answer:
            return Fetched(answer.status, answer.read().decode(), None)
    except urllib.error.HTTPError as error:
        return Fetched(error.code, error.read().decode(errors="replace"), error.headers.get("Location"))


NEXT_LINK = re.compile(r'<a href="([^"]+)" rel="next">')


def follow_next(base: str, path: str, cookie: str, hops: int) -> str:
    """The path reached by following the list's `next` link `hops` times from `path`."""
    for _ in range(hops):
        page = fetch(base, path, cookie)
        link = NEXT_LINK.search(page.body)
        if page.status != 200 or link is None:
            raise RuntimeError(f"no next link on {path} (status {page.status})")
        path = html.unescape(link.group(1))
    return path


STUDENT_ROW = re.compile(r'<td class="num"><a href="/admin/legacy-imports/students/\d+">')
REVIEW_ROW = re.compile(r'<tr id="row-\d+"')
RUN_ROW = re.compile(r'<td><a href="/admin/legacy-imports/\d+">')
COUNT_TEXT = re.compile(r"<p>((?:Plus de )?[\d\u00a0]+ lignes?) dans l'import")


def page_facts(body: str) -> dict[str, Any]:
    """What the page showed: its rows, and the staged-rows count as printed (or 'not counted')."""
    rows = len(STUDENT_ROW.findall(body)) or len(REVIEW_ROW.findall(body)) or len(RUN_ROW.findall(body))
    facts: dict[str, Any] = {"rows_shown": rows, "bytes": len(body.encode())}
    if "Nombre de lignes non calculé" in body:
        facts["count"] = "not counted (count budget exceeded)"
    elif match := COUNT_TEXT.search(body):
        facts["count"] = match.group(1).replace("\u00a0", ",")
    return facts


# --------------------------------------------------------------------------------------
# Targets
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    name: str
    path: str  # what is requested
    shown: str  # the path as printed and written: search terms masked
    masked_words: tuple[str, ...] = ()


@dataclass(frozen=True)
class Probe:
    """Values of one named archives row of the big run, to search for."""

    legacy_id: int
    first_name: str
    last_name: str


PROBE_SQL = """
SELECT legacy_id, first_name, last_name FROM legacy_student_imports
WHERE import_run_id = %s AND id >= %s AND source_table = 'archives' AND first_name IS NOT NULL
ORDER BY id LIMIT 1
"""


def probe_row(app_url: str, data: Dataset) -> Probe:
    low, high = data.id_range
    with psycopg.connect(psycopg_dsn(app_url)) as conn:
        row = conn.execute(PROBE_SQL, (data.big_run, low + int((high - low) * 0.85))).fetchone()
    if row is None:
        raise RuntimeError("no archives row to search for")
    return Probe(int(row[0]), str(row[1]), str(row[2]))


def rows_path(run: int, **args: Any) -> str:
    return "/admin/legacy-imports/students?" + urllib.parse.urlencode({"run": run, **args})


def search_target(name: str, run: int, text: str) -> Target:
    words = tuple(word for word in (name_key(text, None) or "").split() if word)
    return Target(name, rows_path(run, q=text), rows_path(run, q="<name>"), (*words, text, *text.split()))


def targets(data: Dataset, probe: Probe) -> list[Target]:
    run = data.big_run
    low, high = data.id_range
    plain = [
        Target("runs list", "/admin/legacy-imports", "/admin/legacy-imports"),
        Target("rows", rows_path(run), rows_path(run)),
    ]
    filters = [
        ("source_table", "archives"),
        ("classification", "unknown"),
        ("validation_state", "needs_review"),
        ("duplicate_confidence", "high"),
        ("session_type", "waiting_session"),
        ("q", str(probe.legacy_id)),
    ]
    for key, value in filters:
        path = rows_path(run, **{key: value})
        label = "search legacy id" if key == "q" else f"{key}={value}"
        plain.append(Target(f"rows {label}", path, path))
    searches = [
        search_target("rows search full name", run, f"{probe.first_name} {probe.last_name}"),
        search_target("rows search last name", run, probe.last_name),
    ]
    middle = rows_path(run, after=low + (high - low) // 2)
    review = "/admin/legacy-imports/review?" + urllib.parse.urlencode({"run": run})
    group = review + "&" + urllib.parse.urlencode({"group": "dangling_session"})
    tail = [
        Target("rows deep page (mid-run cursor)", middle, middle),
        Target("review queue", review, review),
        Target("review group dangling_session", group, group),
    ]
    return plain + searches + tail


def with_followed_page(base: str, cookie: str, data: Dataset, found: list[Target]) -> list[Target]:
    """Add the page reached by following five `next` links of the unfiltered list."""
    path = follow_next(base, rows_path(data.big_run), cookie, hops=5)
    deep = Target("rows deep page (5 next links)", path, path)
    index = next(i for i, target in enumerate(found) if target.name.startswith("rows deep page"))
    return [*found[:index], deep, *found[index:]]


# --------------------------------------------------------------------------------------
# Load (wrk)
# --------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    name: str
    path: str
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    requests_per_s: float
    statuses: dict[str, int]
    socket_errors: dict[str, int]
    load_before: float
    machine_busy_share: float
    postgres_cpu_seconds: float
    serial: dict[str, Any] = field(default_factory=dict)  # one connection alone: p50..max ms
    page: dict[str, Any] = field(default_factory=dict)
    server: dict[str, Any] = field(default_factory=dict)  # the in-process profile
    explain: list[dict[str, Any]] = field(default_factory=list)

    @property
    def all_200(self) -> bool:
        return self.requests > 0 and set(self.statuses) == {"200"}

    @property
    def passed(self) -> bool:
        return self.all_200 and self.p95_ms < GOAL_P95_MS


@dataclass(frozen=True)
class Shape:
    """One wrk run: how many connections and threads, for how long."""

    connections: int
    threads: int
    seconds: int


def wrk_argv(url: str, cookie: str, shape: Shape) -> list[str]:
    headers = ["-H", f"Cookie: session={cookie}", "-H", f"User-Agent: {USER_AGENT}"]
    counts = [f"-t{shape.threads}", f"-c{shape.connections}", f"-d{shape.seconds}s", "--timeout", "10s"]
    return ["wrk", *counts, "--latency", "-s", str(LUA_SCRIPT), *headers, url]


def run_wrk(url: str, cookie: str, shape: Shape) -> dict[str, Any]:
    """wrk's figures as web_load.lua prints them (times in microseconds)."""
    done = subprocess.run(wrk_argv(url, cookie, shape), capture_output=True, text=True, check=False)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRK_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk exited {done.returncode}: {done.stderr.strip()[-1000:]}")
    figures: dict[str, Any] = json.loads(line.removeprefix("WRK_JSON "))
    return figures


def milliseconds(figures: dict[str, Any]) -> dict[str, float]:
    return {key: figures[f"{key}_us"] / 1000 for key in ("p50", "p90", "p95", "p99", "max")}


def load_target(base: str, cookie: str, target: Target, options: Options) -> LoadResult:
    """The concurrent load (the verdict), then one connection alone (the page's own latency)."""
    load = load_average()
    before = cpu_snapshot()
    figures = run_wrk(
        base + target.path, cookie, Shape(options.connections, options.threads, options.duration)
    )
    use = cpu_use(before, cpu_snapshot())
    ms = milliseconds(figures)
    result = LoadResult(
        name=target.name,
        path=target.shown,
        p50_ms=ms["p50"],
        p90_ms=ms["p90"],
        p95_ms=ms["p95"],
        p99_ms=ms["p99"],
        max_ms=ms["max"],
        requests=figures["requests"],
        requests_per_s=figures["requests"] / (figures["duration_us"] / 1e6),
        statuses={str(k): v for k, v in figures["statuses"].items()},
        socket_errors={k: v for k, v in figures["errors"].items() if v},
        load_before=load,
        machine_busy_share=use.machine_busy_share,
        postgres_cpu_seconds=use.postgres_seconds,
    )
    if options.serial:
        alone = run_wrk(base + target.path, cookie, Shape(1, 1, options.serial))
        result.serial = {**milliseconds(alone), "requests": alone["requests"], "statuses": alone["statuses"]}
    return result


def precheck(base: str, cookie: str, target: Target) -> dict[str, Any]:
    """One request as the load sends it: 200 (a redirect means the cookie is not accepted)."""
    page = fetch(base, target.path, cookie)
    if page.status != 200:
        raise RuntimeError(f"{target.name}: status {page.status} (location {page.location}), expected 200")
    return page_facts(page.body)


def load_all(base: str, cookie: str, found: list[Target], options: Options) -> list[LoadResult]:
    facts = {target.name: precheck(base, cookie, target) for target in found}
    if options.warmup:
        run_wrk(base + found[0].path, cookie, Shape(options.connections, options.threads, options.warmup))
    results = []
    for target in found:
        progress(f"  load {target.name}: {options.duration} s, {options.connections} connections...")
        result = load_target(base, cookie, target, options)
        result.page = facts[target.name]
        results.append(result)
    return results


# --------------------------------------------------------------------------------------
# In-process profile: each page's statements, EXPLAIN of the slowest
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    sql: str
    parameters: Any
    ms: float


SKIPPED_STATEMENTS = ("SAVEPOINT", "RELEASE", "ROLLBACK", "SELECT set_config", "SELECT current_setting")


@contextmanager
def captured(engine: sa.Engine) -> Iterator[list[Statement]]:
    found: list[Statement] = []
    started: list[float] = [0.0]

    def before(*_: Any) -> None:
        started[0] = time.perf_counter()

    def after(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        found.append(Statement(statement, parameters, (time.perf_counter() - started[0]) * 1000))

    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    try:
        yield found
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
        sa.event.remove(engine, "after_cursor_execute", after)


def one_line(sql: str, limit: int = 700) -> str:
    text = " ".join(sql.split())
    return text if len(text) <= limit else text[:limit] + " ..."


def masked(text: str, words: Sequence[str]) -> str:
    for word in sorted(set(words), key=len, reverse=True):
        if len(word) > 1:
            text = re.sub(re.escape(word), "<name>", text, flags=re.IGNORECASE)
    return text


def explain(engine: sa.Engine, statement: Statement) -> list[str]:
    with engine.connect() as conn:
        lines = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement.sql, statement.parameters)
        return [str(row[0]) for row in lines]


@dataclass(frozen=True)
class Request:
    status: int
    ms: float
    statements: list[Statement]


def one_request(client: Any, engine: sa.Engine, path: str) -> Request:
    with captured(engine) as statements:
        started = time.perf_counter()
        answer = client.get(path)
        ms = (time.perf_counter() - started) * 1000
    return Request(answer.status_code, ms, statements)


def profile_page(
    client: Any, engine: sa.Engine, target: Target, explain_it: bool
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The median of PROFILE_REQUESTS requests (after a warm one): its time, SQL time, statements."""
    client.get(target.path)  # warm: caches, connection
    runs = sorted(
        (one_request(client, engine, target.path) for _ in range(PROFILE_REQUESTS)), key=lambda r: r.ms
    )
    median = runs[len(runs) // 2]
    timed_ones = [s for s in median.statements if not s.sql.lstrip().startswith(SKIPPED_STATEMENTS)]
    slowest = sorted(timed_ones, key=lambda s: s.ms, reverse=True)
    server = {
        "status": median.status,
        "request_ms": round(median.ms, 1),
        "sql_ms": round(sum(s.ms for s in median.statements), 1),
        "statements": len(median.statements),
        "slowest": [{"ms": round(s.ms, 1), "sql": one_line(s.sql)} for s in slowest[:3]],
    }
    plans = []
    if explain_it:
        for statement in [s for s in slowest[:EXPLAIN_STATEMENTS] if s.ms >= EXPLAIN_FROM_MS]:
            plan = [masked(line, target.masked_words) for line in explain(engine, statement)]
            plans.append({"sql": one_line(statement.sql, 2000), "ms": round(statement.ms, 1), "plan": plan})
    return server, plans


def csrf_token(login_page: str) -> str:
    match = CSRF_FIELD.search(login_page)
    if match is None:
        raise RuntimeError("no csrf_token on /login")
    return match.group(1) or match.group(2)


def profile_pages(
    app_url: str,
    secret: str,
    password: str,
    found: list[Target],
    results: list[LoadResult],
    explain_all: bool,
) -> None:
    """Request each page in process (after a warm request) and time its SQL statements.
    The app is configured as the server is (CSRF on: the pages render their forms' tokens)."""
    from app import create_app
    from app.extensions import db

    overrides = {"SQLALCHEMY_DATABASE_URI": app_url, "SECRET_KEY": secret, "SESSION_COOKIE_SECURE": False}
    app = create_app({**overrides, "LEGACY_CONNECTIONS": {}})
    with app.app_context():
        client = app.test_client()
        token = csrf_token(client.get("/login").get_data(as_text=True))
        signed = client.post("/login", data={"email": ADMIN_EMAIL, "password": password, "csrf_token": token})
        if signed.status_code != 302:
            raise RuntimeError(f"in-process sign-in answered {signed.status_code}")
        for target, result in zip(found, results, strict=True):
            explain_it = explain_all or not result.passed
            result.server, result.explain = profile_page(client, db.engine, target, explain_it)
            if result.server["status"] != 200:
                raise RuntimeError(f"{target.name}: status {result.server['status']} in process")
        db.engine.dispose()


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------


def status_text(result: LoadResult) -> str:
    text = " ".join(f"{code}x{n}" for code, n in sorted(result.statuses.items()))
    if result.socket_errors:
        text += " sock:" + ",".join(f"{k}={v}" for k, v in result.socket_errors.items())
    return text


def format_table(results: Sequence[LoadResult]) -> str:
    header = (
        f"{'#':>2} {'page':<34} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'req/s':>6}  "
        f"{'status':<12} {'load1':>5} {'busy':>5} {'c1 p95':>7}  p95<{GOAL_P95_MS:.0f}"
    )
    lines = [header, "-" * len(header)]
    for i, r in enumerate(results, 1):
        lines.append(
            f"{i:>2} {r.name:<34} {r.p50_ms:>7.1f} {r.p95_ms:>7.1f} {r.p99_ms:>7.1f} "
            f"{r.requests_per_s:>6.1f}  {status_text(r):<12} {r.load_before:>5.1f} "
            f"{r.machine_busy_share:>5.0%} {r.serial.get('p95', float('nan')):>7.1f}  {mark(r.passed)}"
        )
    lines.append("")
    lines += [f"{i:>2} {r.path}" for i, r in enumerate(results, 1)]
    return "\n".join(lines)


def format_profile(results: Sequence[LoadResult]) -> str:
    header = f"{'#':>2} {'page':<34} {'req ms':>7} {'SQL ms':>7} {'stmts':>5} {'slowest':>8}  shown"
    lines = [header, "-" * len(header)]
    for i, r in enumerate(results, 1):
        slowest = r.server.get("slowest") or [{"ms": 0.0}]
        shown = f"{r.page.get('rows_shown', 0)} rows" + (
            f", count: {r.page['count']}" if "count" in r.page else ""
        )
        lines.append(
            f"{i:>2} {r.name:<34} {r.server.get('request_ms', 0):>7.1f} {r.server.get('sql_ms', 0):>7.1f} "
            f"{r.server.get('statements', 0):>5} {slowest[0]['ms']:>8.1f}  {shown}"
        )
    return "\n".join(lines)


def format_explains(results: Sequence[LoadResult]) -> str:
    blocks = []
    for r in results:
        for plan in r.explain:
            blocks.append(
                f"-- {r.name}: statement of {plan['ms']} ms (in process)\n{one_line(plan['sql'], 300)}\n"
                + "\n".join(plan["plan"])
            )
    return "\n\n".join(blocks)


def busy_line(results: Sequence[LoadResult]) -> str | None:
    loads = [r.load_before for r in results]
    if max(loads, default=0.0) <= BUSY_LOAD:
        return None
    return (
        f"note: the machine was busy (1-min load {min(loads):.1f}-{max(loads):.1f} before the URLs, on "
        f"{os.cpu_count()} CPUs; 'busy' is the whole machine's CPU share during each load, wrk, server, "
        "PostgreSQL and other work together): latencies are pessimistic"
    )


def document(
    results: Sequence[LoadResult], data: Dataset, options: Options, server: ServerInfo
) -> dict[str, Any]:
    return {
        "generated_at": generated_at(),
        "goal": {"p95_ms_below": GOAL_P95_MS, "all_responses": 200},
        "passed": all(r.passed for r in results),
        "machine": {**machine(), "load_average_start": results[0].load_before if results else None},
        "server": {
            "kind": server.kind,
            "version": server.version,
            "workers": server.workers,
            "installed_by_benchmark": server.installed_by_benchmark,
            "note": GUNICORN_NOTE if "gunicorn" in server.kind else "gunicorn unavailable: flask run",
        },
        "load_tool": {
            "tool": "wrk",
            "script": relative(LUA_SCRIPT),
            "connections": options.connections,
            "threads": options.threads,
            "duration_s": options.duration,
            "warmup_s": options.warmup,
            "serial_s": options.serial,
        },
        "dataset": asdict(data),
        "results": [{**asdict(r), "passed": r.passed} for r in results],
    }


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------


def prepare(app_url: str, options: Options, env: dict[str, str], password: str) -> Dataset:
    started = time.perf_counter()
    progress("migrating (flask db upgrade)...")
    flask_cli(env, "db", "upgrade")
    progress(f"filling {options.rows:,} staged rows (+ small runs), set-based...")
    data = fill_database(app_url, options.rows)
    create_admin(env, password)
    data.seconds["total_prepare"] = time.perf_counter() - started
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in data.seconds.items())
    progress(f"  prepared in {data.seconds['total_prepare']:.1f} s ({steps})")
    return data


def bench(app_url: str, options: Options) -> tuple[list[LoadResult], Dataset, ServerInfo]:
    secret, password = secrets.token_hex(32), secrets.token_urlsafe(18)
    env = app_env(app_url, secret)
    data = prepare(app_url, options, env, password)
    probe = probe_row(app_url, data)
    with served(env, options.workers) as (base, server):
        progress(f"serving with {server.kind} {server.version} ({server.workers} workers) on {base}")
        cookie = sign_in(base, password)
        found = with_followed_page(base, cookie, data, targets(data, probe))
        results = load_all(base, cookie, found, options)
    progress("profiling each page in process (SQL statements, EXPLAIN of misses)...")
    try:
        profile_pages(app_url, secret, password, found, results, options.explain_all)
    except Exception as error:  # noqa: BLE001 - the load figures stand without the profile; said so
        progress(f"  the in-process profile failed, load figures only: {type(error).__name__}: {error}")
    return results, data, server


def report(results: list[LoadResult], data: Dataset, options: Options, server: ServerInfo) -> None:
    states = ", ".join(f"{k} {v:,}" for k, v in data.big_run_states.items())
    print(f"\n== web: {options.rows:,} staged rows in run {data.big_run} (runs {data.runs}); {states}")
    print(
        f"   {server.kind} {server.version}, {server.workers} workers; "
        f"wrk {options.connections} connections, {options.threads} threads, "
        f"{options.duration} s per URL; loopback; c1 p95: then {options.serial} s with one connection"
    )
    if "gunicorn" in server.kind:
        installed = "installed it for this run" if server.installed_by_benchmark else "found it in the venv"
        print(f"   note: {GUNICORN_NOTE} (this run {installed})")
    print(format_table(results))
    if note := busy_line(results):
        print(note)
    print("\n== each page in process (median of 3, after a warm request): request and SQL time")
    print(format_profile(results))
    if explains := format_explains(results):
        print("\n== EXPLAIN (ANALYZE, BUFFERS) of the slowest statements of the pages that missed")
        print(explains)
    passed = sum(r.passed for r in results)
    print(f"\nverdict: {passed}/{len(results)} URLs with p95 < {GOAL_P95_MS:.0f} ms and only 200s")
    write_json(RESULTS_FILE, document(results, data, options, server))
    print(f"figures: {relative(RESULTS_FILE)}")


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(sys.argv[1:] if argv is None else argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2
    with app_database(options.keep) as app_url:
        results, data, server = bench(app_url, options)
    report(results, data, options, server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
