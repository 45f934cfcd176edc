"""Whether the database answers."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

__all__ = ["ping"]


def ping(session: Session) -> None:
    """Run a trivial query; raises ``SQLAlchemyError`` when the database does not answer."""
    session.execute(text("SELECT 1"))
