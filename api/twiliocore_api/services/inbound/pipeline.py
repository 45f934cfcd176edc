"""The inbound pipeline: one way in for every inbound message and status callback.

A webhook route checks the signature, parses the event and calls
:meth:`InboundPipeline.receive`, which

1. de-duplicates: a repeated ``I-Twilio-Idempotency-Token``, an inbound message whose
   ``MessageSid`` is already stored, or a status callback whose message, status and error
   code are (what the signature covers: a replay with a new token, or none, is the same
   event) is acknowledged and not processed again;
2. stores the event (an inbound message row, or a status event) and commits, so nothing
   a handler does can lose it;
3. runs the handlers registered for the event's type, in registration order, each in its
   own transaction: a handler that raises is rolled back and logged (its name, the
   event's SID and the exception's class, never the message or a secret), and the next
   handler runs.

Handlers are plain callables ``handler(session, event)``::

    def extract_code(session: Session, event: InboundMessage) -> None:
        ...

    runtime.inbound.register(InboundMessage, extract_code)

The webhook routes do not call :meth:`InboundPipeline.receive` themselves: they hand events
to the inbox (:mod:`twiliocore_api.services.inbound.inbox`), which stores status callbacks
many to a transaction and applies them in batches through :meth:`InboundPipeline.handle_status`
(a handler registered with a ``batch`` form gets the whole batch at once).
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from twiliocore_api import crud
from twiliocore_api.models import Message
from twiliocore_api.services.inbound.events import InboundMessage, StatusUpdate

__all__ = ["BatchHandler", "Event", "Handler", "InboundPipeline", "Receipt"]

logger = logging.getLogger("twiliocore_api")

Event = InboundMessage | StatusUpdate
E = TypeVar("E", InboundMessage, StatusUpdate)
Handler = Callable[[Session, E], object]
BatchHandler = Callable[[Session, Sequence[E]], object]

# The kind recorded with an idempotency token (the column predates the pipeline).
_TOKEN_KIND: dict[type[Any], str] = {InboundMessage: "incoming", StatusUpdate: "status"}


@dataclass(frozen=True)
class Receipt:
    """What :meth:`InboundPipeline.receive` did with an event.

    Attributes:
        duplicate: the event was delivered before; nothing was stored or run.
        failed: names of the handlers that raised (the event is stored all the same).
    """

    duplicate: bool = False
    failed: tuple[str, ...] = ()


def _store_inbound(session: Session, event: InboundMessage) -> bool:
    if event.message_sid and crud.get_message_by_sid(session, message_sid=event.message_sid):
        return False
    session.add(
        Message(
            message_sid=event.message_sid,
            type=event.channel,
            direction="inbound",
            to_number=event.to,
            from_number=event.from_,
            body=event.body,
            media_url=event.media_urls[0] if event.media_urls else None,
            status="received",
            num_segments=event.num_segments,
        )
    )
    return True


def status_receipt(event: StatusUpdate) -> crud.StatusReceipt:
    """What a status callback is stored as (and de-duplicated on)."""
    return crud.StatusReceipt(event.message_sid, event.message_status, event.error_code)


def _store_status(session: Session, event: StatusUpdate) -> bool:
    return crud.store_status_event(session, status_receipt(event), applied=True)


class InboundPipeline:
    """Stores inbound events, then runs the handlers registered for them.

    Thread-safe: registration may happen while webhooks are being processed (a
    registration applies to the events received after it).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handlers: dict[type[Any], tuple[tuple[str, Handler[Any]], ...]] = {
            InboundMessage: (),
            StatusUpdate: (),
        }
        self._batch: dict[str, BatchHandler[Any]] = {}

    def register(
        self,
        kind: type[E],
        handler: Callable[[Session, E], object],
        *,
        name: str | None = None,
        batch: Callable[[Session, Sequence[E]], object] | None = None,
    ) -> None:
        """Run ``handler(session, event)`` for every stored event of type ``kind``.

        Handlers run in registration order, each after the ones registered before it.

        Args:
            kind: :class:`InboundMessage` or :class:`StatusUpdate`.
            handler: called with a session (committed after it returns, rolled back if
                it raises) and the event.
            name: what logs call it; default the handler's qualified name.
            batch: the same work for many events at once (``batch(session, events)``,
                events in arrival order), used when events are handled in batches.

        Raises:
            TypeError: ``kind`` is not an event type of the pipeline.
            ValueError: a handler of that name is already registered for ``kind``.
        """
        if kind not in self._handlers:
            raise TypeError(f"kind: expected InboundMessage or StatusUpdate, got {kind!r}")
        label = name or getattr(handler, "__qualname__", None) or repr(handler)
        with self._lock:
            current: tuple[tuple[str, Handler[Any]], ...] = self._handlers[kind]
            if any(existing == label for existing, _ in current):
                raise ValueError(f"name: a handler {label!r} is already registered")
            self._handlers[kind] = (*current, (label, handler))
            if batch is not None:
                self._batch[label] = batch

    def handlers(self, kind: type[Event]) -> list[str]:
        """The names of the handlers for ``kind``, in the order they run."""
        return [label for label, _ in self._handlers.get(kind, ())]

    def receive(
        self, session: Session, event: Event, *, idempotency_token: str | None = None
    ) -> Receipt:
        """De-duplicate, store and handle one event (see the module docstring).

        Args:
            session: a session with no pending work; committed by this call.
            event: the parsed, signature-checked event.
            idempotency_token: the webhook's ``I-Twilio-Idempotency-Token``, if any.

        Returns:
            What happened (duplicate, failed handlers).
        """
        if idempotency_token and not crud.claim_webhook_token(
            session, token=idempotency_token, kind=_TOKEN_KIND[type(event)]
        ):
            return Receipt(duplicate=True)
        stored = (
            _store_inbound(session, event)
            if isinstance(event, InboundMessage)
            else _store_status(session, event)
        )
        session.commit()
        if not stored:
            return Receipt(duplicate=True)
        failed: list[str] = []
        for label, handler in self._handlers[type(event)]:
            if not _run(session, label, functools.partial(handler, session, event), event):
                failed.append(label)
        return Receipt(failed=tuple(failed))

    def handle_status(self, session: Session, events: Sequence[StatusUpdate]) -> tuple[str, ...]:
        """Run the status handlers on stored events, in arrival order; the failed ones' names.

        Each handler gets the whole batch at once when it was registered with a ``batch``
        form (in one transaction), else each event in a transaction of its own; a handler
        that raises is rolled back and logged, and the next one runs (a batch that raises
        is handled again one event at a time, so only the bad events are lost to it).
        """
        failed: list[str] = []
        for label, handler in self._handlers[StatusUpdate]:
            batch = self._batch.get(label)
            if batch is not None and events:
                if _run(session, label, functools.partial(batch, session, events), None):
                    continue
                # One bad event must not cost the others: handle them one by one.
            for event in events:
                if not _run(session, label, functools.partial(handler, session, event), event):
                    failed.append(label)
        return tuple(dict.fromkeys(failed))


def _run(session: Session, label: str, call: Callable[[], object], event: Event | None) -> bool:
    """Run one handler call in its own transaction; False (rolled back, logged) if it raised."""
    try:
        call()
        session.commit()
    except Exception as exc:
        session.rollback()
        logger.error(
            "inbound handler %s failed on %s %s (%s); the event is stored",
            label,
            type(event).__name__ if event is not None else "a batch of",
            (event.message_sid or "without a MessageSid") if event is not None else "events",
            type(exc).__name__,
        )
        logger.debug("inbound handler %s failure", label, exc_info=True)
        return False
    return True
