"""The emulator's in-memory state: messages, owned numbers, webhook deliveries.

Every read and write goes through :class:`Store`, which holds one lock, so the store can be
used from the server's event loop and from test code in other threads at once.
"""

from __future__ import annotations

import mimetypes
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from twiliocore.emulator.responses import new_sid, rfc2822

__all__ = ["API_VERSION", "E164", "MessageRecord", "OwnedNumber", "Store", "WebhookRecord"]

API_VERSION = "2010-04-01"

#: A phone number in E.164 form, in ASCII digits (not Arabic-Indic or other Unicode ones).
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")

#: Statuses after which a message does not change any more.
FINAL_STATUSES = frozenset(
    {"delivered", "undelivered", "failed", "canceled", "received", "read", "partially_delivered"}
)


@dataclass
class MessageRecord:
    """One message, outbound or inbound, as Twilio stores it."""

    sid: str
    account_sid: str
    to: str
    from_: str
    body: str
    status: str
    direction: str
    num_segments: int
    media_urls: list[str] = field(default_factory=list)
    media_types: list[str] = field(default_factory=list)
    media_sids: list[str] = field(default_factory=list)
    messaging_service_sid: str | None = None
    status_callback: str | None = None
    #: ``GET`` or ``POST``: a TwiML ``<Message method="GET">`` reply's callbacks go by GET.
    status_callback_method: str = "POST"
    date_created: float = field(default_factory=time.time)
    date_updated: float = field(default_factory=time.time)
    date_sent: float | None = None
    error_code: int | None = None
    error_message: str | None = None
    price: str | None = None
    price_unit: str | None = None
    send_at: float | None = None
    request_headers: dict[str, str] = field(default_factory=dict)
    status_history: list[str] = field(default_factory=list)
    #: False while a Messaging Service has not yet assigned the sender (``accepted`` or
    #: ``scheduled`` without ``From``): Twilio then shows ``from`` null and
    #: ``num_segments`` "0". ``from_`` already holds the sender the emulator will use.
    sender_assigned: bool = True
    feedback_outcome: str | None = None

    @property
    def uri(self) -> str:
        """The resource URI, relative to the API host."""
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}.json"

    def to_json(self) -> dict[str, Any]:
        """Return the ``api.v2010.account.message`` representation."""
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": rfc2822(self.date_created),
            "date_sent": rfc2822(self.date_sent) if self.date_sent is not None else None,
            "date_updated": rfc2822(self.date_updated),
            "direction": self.direction,
            "error_code": self.error_code,
            "error_message": self.error_message,
            "from": self.from_ if self.sender_assigned else None,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": str(len(self.media_urls)),
            "num_segments": str(
                self.num_segments if self.sender_assigned or self.media_urls else 0
            ),
            "price": self.price,
            "price_unit": self.price_unit,
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {
                "media": f"{base}/Media.json",
                "feedback": f"{base}/Feedback.json",
            },
            "to": self.to,
            "uri": self.uri,
        }

    def __post_init__(self) -> None:
        while len(self.media_sids) < len(self.media_urls):
            self.media_sids.append(new_sid("ME"))

    def media_json(self) -> list[dict[str, Any]]:
        """Return the ``api.v2010.account.message.media`` items of the message."""
        items = []
        for index, url in enumerate(self.media_urls):
            sid = self.media_sids[index]
            kind = self.media_types[index] if index < len(self.media_types) else None
            items.append(
                {
                    "account_sid": self.account_sid,
                    "content_type": kind or mimetypes.guess_type(url)[0] or "image/jpeg",
                    "date_created": rfc2822(self.date_created),
                    "date_updated": rfc2822(self.date_updated),
                    "parent_sid": self.sid,
                    "sid": sid,
                    "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}"
                    f"/Media/{sid}.json",
                }
            )
        return items

    def to_inspection(self) -> dict[str, Any]:
        """Return the record as ``GET /_emulator/messages`` shows it (resource + extras)."""
        data = self.to_json()
        data["media_urls"] = list(self.media_urls)
        data["status_callback"] = self.status_callback
        data["status_callback_method"] = self.status_callback_method
        data["status_history"] = list(self.status_history)
        data["feedback_outcome"] = self.feedback_outcome
        data["request_headers"] = dict(self.request_headers)
        return data


@dataclass
class OwnedNumber:
    """A sender the account owns (an IncomingPhoneNumber, short code or WhatsApp sender)."""

    address: str
    sid: str = field(default_factory=lambda: new_sid("PN"))
    sms_url: str | None = None
    sms_method: str = "POST"
    friendly_name: str | None = None
    date_created: float = field(default_factory=time.time)


@dataclass
class WebhookRecord:
    """One webhook event the emulator sent (or tried to), with every attempt."""

    kind: str
    url: str
    params: list[tuple[str, str]]
    idempotency_token: str
    message_sid: str | None
    method: str = "POST"
    attempts: list[dict[str, Any]] = field(default_factory=list)
    delivered: bool = False

    def to_json(self) -> dict[str, Any]:
        """Return the record as ``GET /_emulator/webhooks`` shows it."""
        return {
            "kind": self.kind,
            "url": self.url,
            "method": self.method,
            "params": dict(self.params),
            "idempotency_token": self.idempotency_token,
            "message_sid": self.message_sid,
            "attempts": list(self.attempts),
            "delivered": self.delivered,
        }


class Store:
    """Thread-safe in-memory store of one emulated account.

    Args:
        numbers: the senders the account owns at start (and after a reset).
    """

    def __init__(self, numbers: Iterable[OwnedNumber]) -> None:
        self._lock = threading.RLock()
        self._initial_numbers = [
            OwnedNumber(n.address, n.sid, n.sms_url, n.sms_method) for n in numbers
        ]
        self._messages: dict[str, MessageRecord] = {}
        self._numbers: dict[str, OwnedNumber] = {}
        self._webhooks: list[WebhookRecord] = []
        self._opt_outs: set[tuple[str, str]] = set()
        self.reset()

    def reset(self) -> None:
        """Forget every message and webhook; restore the initial numbers."""
        with self._lock:
            self._messages.clear()
            self._webhooks.clear()
            self._opt_outs.clear()
            self._numbers = {
                n.address: OwnedNumber(n.address, n.sid, n.sms_url, n.sms_method)
                for n in self._initial_numbers
            }

    # Messages ---------------------------------------------------------------------------

    def add_message(self, record: MessageRecord) -> dict[str, Any]:
        """Store a new message; return its JSON."""
        with self._lock:
            record.status_history.append(record.status)
            self._messages[record.sid] = record
            return record.to_json()

    def message_json(self, sid: str) -> dict[str, Any] | None:
        """Return a message's JSON, or ``None`` if unknown."""
        with self._lock:
            record = self._messages.get(sid)
            return record.to_json() if record is not None else None

    def update_message(
        self, sid: str, mutate: Callable[[MessageRecord], None]
    ) -> MessageRecord | None:
        """Apply ``mutate`` to a message under the lock; return a snapshot copy."""
        with self._lock:
            record = self._messages.get(sid)
            if record is None:
                return None
            before = record.status
            mutate(record)
            record.date_updated = time.time()
            if record.status != before:
                record.status_history.append(record.status)
            return _copy(record)

    def get_message(self, sid: str) -> MessageRecord | None:
        """Return a snapshot copy of a message, or ``None``."""
        with self._lock:
            record = self._messages.get(sid)
            return _copy(record) if record is not None else None

    def delete_message(self, sid: str) -> bool:
        """Delete a message; return False if it did not exist."""
        with self._lock:
            return self._messages.pop(sid, None) is not None

    def messages(self) -> list[MessageRecord]:
        """Return snapshot copies of every message, oldest first."""
        with self._lock:
            return [_copy(r) for r in self._messages.values()]

    # Numbers ----------------------------------------------------------------------------

    def number(self, address: str) -> OwnedNumber | None:
        """Return the owned sender with this address, or ``None``."""
        with self._lock:
            return self._numbers.get(address)

    def numbers(self) -> list[OwnedNumber]:
        """Return every owned sender."""
        with self._lock:
            return list(self._numbers.values())

    def add_number(self, number: OwnedNumber) -> None:
        """Add (or replace) an owned sender."""
        with self._lock:
            self._numbers[number.address] = number

    def remove_number(self, address: str) -> bool:
        """Release an owned sender; return False if it was not owned."""
        with self._lock:
            return self._numbers.pop(address, None) is not None

    def remove_media(self, sid: str, media_sid: str) -> bool:
        """Delete one media item of a message; return False if there is none."""
        with self._lock:
            record = self._messages.get(sid)
            if record is None or media_sid not in record.media_sids:
                return False
            index = record.media_sids.index(media_sid)
            del record.media_urls[index]
            del record.media_sids[index]
            if index < len(record.media_types):
                del record.media_types[index]
            return True

    # Opt-outs ---------------------------------------------------------------------------

    def set_opt_out(self, recipient: str, sender: str, opted_out: bool) -> None:
        """Record that ``recipient`` opted out of (or back in to) messages from ``sender``."""
        with self._lock:
            if opted_out:
                self._opt_outs.add((recipient, sender))
            else:
                self._opt_outs.discard((recipient, sender))

    def opted_out(self, recipient: str, sender: str) -> bool:
        """True if ``recipient`` opted out of messages from ``sender``."""
        with self._lock:
            return (recipient, sender) in self._opt_outs

    # Webhooks ---------------------------------------------------------------------------

    def add_webhook(self, record: WebhookRecord) -> None:
        """Log a webhook event."""
        with self._lock:
            self._webhooks.append(record)

    def record_attempt(self, record: WebhookRecord, attempt: dict[str, Any], ok: bool) -> None:
        """Append a delivery attempt to a logged webhook event."""
        with self._lock:
            record.attempts.append(attempt)
            record.delivered = record.delivered or ok

    def webhooks(self) -> list[dict[str, Any]]:
        """Return every logged webhook event as JSON, oldest first."""
        with self._lock:
            return [w.to_json() for w in self._webhooks]


def _copy(record: MessageRecord) -> MessageRecord:
    copy = MessageRecord(**{f: getattr(record, f) for f in record.__dataclass_fields__})
    copy.media_urls = list(record.media_urls)
    copy.media_types = list(record.media_types)
    copy.media_sids = list(record.media_sids)
    copy.request_headers = dict(record.request_headers)
    copy.status_history = list(record.status_history)
    return copy
