"""Bulk jobs (their recipients are messages with ``bulk_job_id`` set)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from twiliocore_api.crud._text import is_storable
from twiliocore_api.models import BulkJob

__all__ = ["get_bulk_job"]


def get_bulk_job(session: Session, *, job_id: str) -> BulkJob | None:
    """The bulk job with this id, or ``None`` (also for text no job id can be)."""
    if not is_storable(job_id, max_length=36):
        return None
    return session.get(BulkJob, job_id)
