"""students pages of the review workspace."""

from __future__ import annotations
