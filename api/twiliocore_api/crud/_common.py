"""Shared by the data-access modules: what every database can store, rows a statement changed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import CursorResult
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

__all__ = ["insert_new", "is_storable", "rowcount"]


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


def insert_new(
    session: Session, model: Any, rows: Sequence[dict[str, Any]], *, key: str
) -> set[Any] | None:
    """Insert ``rows`` skipping those whose unique ``key`` is stored; the keys inserted.

    One ``INSERT ... ON CONFLICT DO NOTHING RETURNING key`` per 500 rows on SQLite and
    PostgreSQL; ``None`` on other databases (the caller inserts one at a time instead).
    """
    dialect = session.get_bind().dialect.name
    if dialect not in ("sqlite", "postgresql"):
        return None
    builder = sqlite.insert if dialect == "sqlite" else postgresql.insert
    column = getattr(model, key)
    statement = builder(model).on_conflict_do_nothing(index_elements=[key]).returning(column)
    inserted: set[Any] = set()
    for start in range(0, len(rows), 500):  # within every database's bound-parameter limit
        inserted.update(session.scalars(statement, list(rows[start : start + 500])).all())
    inserted.discard(None)
    return inserted
