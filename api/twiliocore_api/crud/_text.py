"""What every database the service supports can store."""

from __future__ import annotations

__all__ = ["is_storable"]


def is_storable(text: str, *, max_length: int) -> bool:
    """True when ``text`` fits a ``String(max_length)`` column on every supported database.

    PostgreSQL refuses U+0000 in text and values longer than the column, where SQLite
    accepts both: lookups and inserts check first, so such input is "not found" or a
    clear error there too, never a database exception.
    """
    return len(text) <= max_length and "\x00" not in text
