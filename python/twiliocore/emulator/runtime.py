"""The running emulator: store, queues, limiter, faults, webhooks and message lifecycles.

One :class:`Runtime` serves one emulated account. Product routers (``accounts``,
``messages``, ...) receive it and keep no state of their own. Lifecycle and webhook tasks
run on the server's event loop; :meth:`Runtime.spawn` tracks them so that a reset or a
shutdown cancels them all.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from typing import Any

from twiliocore.emulator.config import EmulatorConfig
from twiliocore.emulator.faults import FaultPicker
from twiliocore.emulator.state import API_VERSION, MessageRecord, OwnedNumber, Store
from twiliocore.emulator.throughput import ConcurrencyLimiter, SenderQueues
from twiliocore.emulator.webhooks import WebhookSender

__all__ = ["ERROR_MESSAGES", "Runtime"]

logger = logging.getLogger("twiliocore.emulator")

#: Messages of the asynchronous delivery errors the emulator produces.
ERROR_MESSAGES: dict[int, str] = {
    30001: "Queue overflow",
    30002: "Account suspended",
    30003: "Unreachable destination handset",
    30004: "Message blocked",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
    30007: "Message filtered",
    30008: "Unknown error",
    63016: "Failed to send freeform message because you are outside the allowed window",
}

#: Error codes that end a message ``failed`` (never sent); the others end ``undelivered``.
_FAILED_CODES = frozenset({30001, 30002, 30008, 63016})

#: Price per segment once sent (USD, negative as Twilio reports charges).
_PRICE_PER_SEGMENT = 0.0079


class Runtime:
    """Everything one emulator instance runs on.

    Args:
        config: the validated settings.
    """

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.store = Store(
            OwnedNumber(spec.address, sms_url=spec.sms_url, sms_method=spec.sms_method)
            for spec in config.phone_numbers
        )
        self.queues = SenderQueues(config.queue_cap_seconds, config.mps)
        self.limiter = ConcurrencyLimiter(config.max_concurrent)
        self.faults = FaultPicker(config.faults, config.seed)
        self.webhooks = WebhookSender(
            self.store,
            config.auth_token,
            attempts=config.callback_attempts,
            retry_delay=config.callback_retry_delay,
            timeout=config.callback_timeout,
        )
        # "active", "suspended" or "closed" (POST /_emulator/account): API requests of an
        # account that is not active are refused (401 / 20003), as Twilio refuses them.
        self.account_status = "active"
        self._tasks: set[asyncio.Task[Any]] = set()
        # Last status-callback task of each message: the next one waits for it, so a
        # receiver sees a message's events in order (retries included).
        self._last_callback: dict[str, asyncio.Task[Any]] = {}

    # Tasks ------------------------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run ``coro`` on the current event loop, tracked for reset and shutdown."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("emulator task failed", exc_info=task.exception())

    async def cancel_tasks(self) -> None:
        """Cancel every lifecycle and webhook task and wait for them to end."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def reset(self) -> None:
        """Cancel pending work and clear all state (messages, queues, webhook log, faults)."""
        await self.cancel_tasks()
        self.store.reset()
        self.queues.reset()
        self.faults.reset()
        self.account_status = "active"

    # Message lifecycle ------------------------------------------------------------------

    def send_outbound(
        self, record: MessageRecord, validity: float | None = None
    ) -> dict[str, Any] | None:
        """Queue a new ``queued`` outbound message at its sender's rate and start its lifecycle.

        Returns:
            The message's JSON, or ``None`` when the sender's queue is full (Twilio's
            21611; nothing is stored).
        """
        release_at = self.queues.enqueue(record.from_, record.num_segments, validity)
        if release_at is None:
            return None
        data = self.store.add_message(record)
        self.start_lifecycle(record.sid, release_at, None)
        return data

    def start_lifecycle(self, sid: str, release_at: float | None, send_at: float | None) -> None:
        """Move a just-created outbound message through Twilio's statuses.

        Args:
            sid: the message.
            release_at: ``time.monotonic()`` instant at which it leaves the sender's queue
                (``None`` for a scheduled message: it joins the queue when it is due; and
                for an ``accepted`` message whose queue was full: it fails with 30001).
            send_at: Unix time of a scheduled message, else ``None``.
        """
        self.spawn(self._lifecycle(sid, release_at, send_at))

    async def _lifecycle(self, sid: str, release_at: float | None, send_at: float | None) -> None:
        delay = self.config.status_delay
        record = self.store.get_message(sid)
        if record is None:
            return
        if send_at is not None:
            await asyncio.sleep(max(0.0, send_at - time.time()))
            if await self._move(sid, {"scheduled"}, "queued") is None:
                return
            release_at = self.queues.enqueue(record.from_, record.num_segments)
            if release_at is None:
                await self._move(sid, {"queued"}, "failed", error_code=30001)
                return
        elif record.status == "accepted":
            await asyncio.sleep(delay)
            if release_at is None:
                await self._move(sid, {"accepted"}, "failed", error_code=30001)
                return
            if await self._move(sid, {"accepted"}, "queued") is None:
                return
        if release_at is not None:
            await asyncio.sleep(max(0.0, release_at - time.monotonic()))
        if await self._move(sid, {"queued"}, "sending") is None:
            return
        failure = self.config.failing_numbers.get(_number_of(record.to))
        await asyncio.sleep(delay)
        if failure is not None and failure in _FAILED_CODES:
            await self._move(sid, {"sending"}, "failed", error_code=failure)
            return
        if await self._move(sid, {"sending"}, "sent") is None:
            return
        await asyncio.sleep(delay)
        if failure is not None:
            await self._move(sid, {"sent"}, "undelivered", error_code=failure)
            return
        if await self._move(sid, {"sent"}, "delivered") is None:
            return
        if record.to.startswith("whatsapp:"):
            await asyncio.sleep(delay)
            await self._move(sid, {"delivered"}, "read")

    async def _move(
        self, sid: str, expected: set[str], status: str, *, error_code: int | None = None
    ) -> MessageRecord | None:
        """Change a message's status if it is still in ``expected``; post its callback."""
        now = time.time()

        def mutate(record: MessageRecord) -> None:
            if record.status not in expected:
                return
            record.status = status
            record.sender_assigned = True
            if status == "sent":
                record.date_sent = now
                record.price = f"-{_PRICE_PER_SEGMENT * max(record.num_segments, 1):.5f}"
                record.price_unit = "USD"
            if error_code is not None:
                record.error_code = error_code
                record.error_message = ERROR_MESSAGES.get(error_code, "Unknown error")
                if status == "failed":
                    record.price = "0.00000"
                    record.price_unit = "USD"

        snapshot = self.store.update_message(sid, mutate)
        if snapshot is None or snapshot.status != status:
            return None
        self.post_status_callback(snapshot, now)
        return snapshot

    def post_status_callback(self, snapshot: MessageRecord, now: float) -> None:
        """Post ``snapshot``'s new status to its ``StatusCallback``, if it has one.

        Callbacks of one message are delivered in the order of these calls.
        """
        if not snapshot.status_callback:
            return
        sid = snapshot.sid
        previous = self._last_callback.get(sid)
        task = self.spawn(self._callback(previous, snapshot.status_callback, snapshot, now))
        self._last_callback[sid] = task
        task.add_done_callback(
            lambda t: (
                self._last_callback.pop(sid, None) if self._last_callback.get(sid) is t else None
            )
        )

    async def _callback(
        self,
        previous: asyncio.Task[Any] | None,
        url: str,
        snapshot: MessageRecord,
        now: float,
    ) -> None:
        if previous is not None:
            await asyncio.wait([previous])
        await self.webhooks.deliver(
            "status",
            url,
            status_callback_params(snapshot, now),
            message_sid=snapshot.sid,
            method=snapshot.status_callback_method,
        )


def _number_of(address: str) -> str:
    return address.split(":", 1)[1] if address.startswith("whatsapp:") else address


def status_callback_params(record: MessageRecord, now: float) -> list[tuple[str, str]]:
    """Return the form parameters of a status callback, as Twilio sends them."""
    params = [
        ("AccountSid", record.account_sid),
        ("ApiVersion", API_VERSION),
        # A message canceled before its Messaging Service assigned a sender has none.
        *([("From", record.from_)] if record.sender_assigned else []),
        ("MessageSid", record.sid),
        ("MessageStatus", record.status),
        ("SmsSid", record.sid),
        ("SmsStatus", record.status),
        ("To", record.to),
    ]
    if record.messaging_service_sid:
        params.append(("MessagingServiceSid", record.messaging_service_sid))
    if record.error_code is not None and record.status in ("failed", "undelivered"):
        params.append(("ErrorCode", str(record.error_code)))
    if record.to.startswith("whatsapp:"):
        params += [
            ("ChannelPrefix", "whatsapp"),
            ("ChannelToAddress", _number_of(record.to)),
        ]
    elif record.status in ("delivered", "undelivered"):
        params.append(("RawDlrDoneDate", time.strftime("%y%m%d%H%M", time.gmtime(now))))
    return params
