"""Shared by the data-access modules: what every database can store, rows a statement changed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult

__all__ = ["is_storable", "rowcount"]


def is_storable(text: str, *, max_length: int) -> bool:
    """True when ``text`` fits a ``String(max_length)`` column on every supported database.

    PostgreSQL refuses U+0000 in text and values longer than the column, where SQLite
    accepts both: lookups and inserts check first, so such input is "not found" or a
    clear error there too, never a database exception.
    """
    return len(text) <= max_length and "\x00" not in text


def rowcount(result: Any) -> int:
    """The rows an ``UPDATE``/``DELETE`` changed (0 for a result that does not say)."""
    return int(result.rowcount) if isinstance(result, CursorResult) else 0
