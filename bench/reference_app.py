"""The reference app of the service benchmark: how a plain FastAPI app sends with twilio-python.

Written as such an app is usually written, without handicaps: FastAPI, twilio-python's sync
``Client`` (made once at start-up, one keep-alive session) called in a ``def`` route (so
FastAPI runs it in its thread pool), SQLAlchemy ORM on the same database as the service,
one row per message written after Twilio's answer. Status callbacks are checked with
twilio-python's ``RequestValidator`` and applied with one ``UPDATE`` each.

Run by bench/service.py under uvicorn:
``python -m uvicorn --factory bench.reference_app:create_app --port PORT``, configured by the
environment: ``REF_DATABASE_URL``, ``REF_TWILIO_BASE_URL`` (the fake Twilio),
``REF_ACCOUNT_SID``, ``REF_AUTH_TOKEN``, ``REF_FROM_NUMBER``, ``REF_PUBLIC_URL`` (the URL
Twilio signs callbacks for).
"""

# No `from __future__ import annotations`: the routes are defined inside create_app, and
# FastAPI resolves string annotations in the module globals, where their locals are not.
import os
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import DateTime, String, create_engine, event, update
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from twilio.request_validator import RequestValidator
from twilio.rest import Client

__all__ = ["Base", "SendRequest", "SentMessage", "create_app", "make_engine"]


class Base(DeclarativeBase):
    """The reference app's tables."""


class SentMessage(Base):
    """One row per message sent."""

    __tablename__ = "ref_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str | None] = mapped_column(String(34), unique=True)
    to_number: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(String(1600))
    status: Mapped[str] = mapped_column(String(24))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=lambda: datetime.now(timezone.utc)
    )


def make_engine(url: str):  # type: ignore[no-untyped-def]
    """The engine as a plain app makes it (WAL for SQLite, as the service uses)."""
    sqlite = url.startswith("sqlite")
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 30} if sqlite else {}
    )
    if sqlite:

        @event.listens_for(engine, "connect")
        def _wal(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            dbapi_connection.execute("PRAGMA journal_mode=WAL")

    return engine


def create_app() -> FastAPI:
    """The app, configured from the environment (uvicorn ``--factory``)."""
    engine = make_engine(os.environ.get("REF_DATABASE_URL", "sqlite:///./reference.db"))
    Base.metadata.create_all(engine)
    session_local = sessionmaker(bind=engine)
    twilio = Client(os.environ.get("REF_ACCOUNT_SID"), os.environ.get("REF_AUTH_TOKEN"))
    if os.environ.get("REF_TWILIO_BASE_URL"):
        twilio.api.base_url = os.environ["REF_TWILIO_BASE_URL"]
    validator = RequestValidator(os.environ.get("REF_AUTH_TOKEN", ""))
    from_number = os.environ.get("REF_FROM_NUMBER", "+15005550006")
    public_url = os.environ.get("REF_PUBLIC_URL", "http://127.0.0.1:8000")

    app = FastAPI()

    def get_session() -> Iterator[Session]:
        with session_local() as session:
            yield session

    session_dep = Annotated[Session, Depends(get_session)]

    @app.post("/send", status_code=201)
    def send(body: SendRequest, session: session_dep) -> dict[str, str | None]:
        """Send one SMS through twilio-python and store it."""
        msg = twilio.messages.create(to=body.to_number, from_=from_number, body=body.message)
        session.add(
            SentMessage(
                sid=msg.sid,
                to_number=body.to_number,
                body=body.message,
                status=msg.status or "queued",
            )
        )
        session.commit()
        return {"sid": msg.sid, "status": msg.status}

    @app.post("/status", status_code=204)
    async def status_callback(request: Request, session: session_dep) -> Response:
        """A status callback: signature checked by twilio-python, one UPDATE."""
        form = await request.form()
        params = {key: str(form[key]) for key in form}
        signature = request.headers.get("x-twilio-signature", "")
        if not validator.validate(public_url + "/status", params, signature):
            raise HTTPException(403, "invalid signature")
        session.execute(
            update(SentMessage)
            .where(SentMessage.sid == params.get("MessageSid"))
            .values(status=params.get("MessageStatus"))
        )
        session.commit()
        return Response(status_code=204)

    return app


class SendRequest(BaseModel):
    """The same body as the service's ``POST /api/sms/send``."""

    to_number: str = Field(min_length=1, max_length=32)
    message: str = Field(min_length=1, max_length=1600)
