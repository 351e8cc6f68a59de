"""Tunable settings of the rules, read from the app config."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.config import positive_int


@dataclass(frozen=True)
class RuleSettings:
    # A phone or e-mail carried by this many different people (distinct names) in one run is
    # the school's own contact, a placeholder: it never yields a high-confidence hint.
    shared_contact_threshold: int = 5
    # Score (0-100, rapidfuzz ratio of the two full names with their shared token aligned) from
    # which two names count as similar (low hint); see rules/duplicates.py.
    similar_name_cutoff: int = 90
    # Low hints kept per row (the best scores), so that a common name cannot flood the queue.
    similar_names_per_row: int = 3

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RuleSettings:
        cutoff = positive_int("LEGACY_SIMILAR_NAME_CUTOFF", config.get("LEGACY_SIMILAR_NAME_CUTOFF"), 90)
        return cls(
            shared_contact_threshold=positive_int(
                "LEGACY_SHARED_CONTACT_THRESHOLD", config.get("LEGACY_SHARED_CONTACT_THRESHOLD"), 5
            ),
            similar_name_cutoff=min(cutoff, 100),
            similar_names_per_row=positive_int(
                "LEGACY_SIMILAR_NAMES_PER_ROW", config.get("LEGACY_SIMILAR_NAMES_PER_ROW"), 3
            ),
        )


@dataclass(frozen=True)
class IngestSettings:
    batch_size: int = 2000  # rows per batch and transaction
    chunk_size: int = 5000  # legacy rows per chunk, the unit one worker stages at a time
    lease_seconds: int = 30  # a worker silent this long (no batch done) has lost its chunk or run
    processes: int = 1  # processes staging chunks in an in-process import (helpers.py)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> IngestSettings:
        return cls(
            batch_size=positive_int("LEGACY_BATCH_SIZE", config.get("LEGACY_BATCH_SIZE"), 2000),
            chunk_size=positive_int("LEGACY_CHUNK_SIZE", config.get("LEGACY_CHUNK_SIZE"), 5000),
            lease_seconds=positive_int("LEGACY_LEASE_SECONDS", config.get("LEGACY_LEASE_SECONDS"), 30),
            processes=positive_int(
                "LEGACY_IMPORT_PROCESSES", config.get("LEGACY_IMPORT_PROCESSES"), default_processes()
            ),
        )


def default_processes() -> int:
    """Two import processes when there are two cores: each holds ~115 MB at its peak, and the
    import keeps under 250 MB unless LEGACY_IMPORT_PROCESSES asks for more."""
    return min(os.cpu_count() or 1, 2)


def check_settings(config: Mapping[str, Any]) -> None:
    """Read every setting once, so that a bad one is a one-line error before any work starts."""
    IngestSettings.from_config(config)
    RuleSettings.from_config(config)
