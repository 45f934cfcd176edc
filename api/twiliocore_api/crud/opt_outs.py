"""Opt-outs: numbers that replied STOP (and perhaps START again)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from twiliocore_api.models import OptOut

__all__ = ["is_opted_out", "opted_out_among", "set_opt_out"]


def is_opted_out(session: Session, *, phone_number: str) -> bool:
    """True when the number replied STOP and has not opted back in."""
    row = session.get(OptOut, phone_number)
    return bool(row and row.opted_out)


def opted_out_among(session: Session, *, phone_numbers: Sequence[str]) -> set[str]:
    """The numbers of ``phone_numbers`` that are opted out.

    Fewer opted-out numbers than asked about (a big bulk job): all of them are read at once
    and intersected; else the numbers are queried in chunks.
    """
    opted_out = OptOut.opted_out.is_(True)
    total = session.scalar(select(func.count()).select_from(OptOut).where(opted_out)) or 0
    if total <= len(phone_numbers):
        every = set(session.scalars(select(OptOut.phone_number).where(opted_out)))
        return every.intersection(phone_numbers)
    found: set[str] = set()
    for start in range(0, len(phone_numbers), 500):
        chunk = list(phone_numbers[start : start + 500])
        found.update(
            session.scalars(
                select(OptOut.phone_number).where(OptOut.phone_number.in_(chunk), opted_out)
            )
        )
    return found


def set_opt_out(session: Session, *, phone_number: str, opted_out: bool, keyword: str) -> None:
    """Record an opt-out (STOP...) or opt-in (START...) for a number (the caller commits)."""
    row = session.get(OptOut, phone_number)
    if row is None:
        session.add(OptOut(phone_number=phone_number, opted_out=opted_out, keyword=keyword))
    else:
        row.opted_out = opted_out
        row.keyword = keyword
