"""``SMSService`` and ``AsyncSMSService``: send SMS and WhatsApp messages from workflow code.

Usage::

    from twiliocore import SMSService

    sms = SMSService()  # TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_PHONE_NUMBER
    result = sms.send_sms("(415) 555-2671", "Your code is 123456")
    if result["success"]:
        print(result["message_sid"], result["status"])
    else:
        print(result["error"], result["error_code"])

Sends never raise for a failed send: they return a dict (``success``, ``message_sid``,
``status``, ``to``, ``from``, ``type``, ``num_segments``, ``error``, ``error_code``).
Numbers are normalised to E.164 first; an invalid number fails before any request.
Missing configuration raises :class:`~twiliocore.errors.ConfigurationError`.

The two classes are twins: same constructor, same method names and arguments, same
results; ``AsyncSMSService``'s methods are coroutines. Both sit on one C++ engine. They stay
in one module past the usual ~600 lines on purpose: each method's twin is read beside it
(as httpx keeps ``Client`` and ``AsyncClient`` together), and what they share is already in
``_SMSServiceBase``.
"""

from __future__ import annotations

import os

from twiliocore.client import Client
from twiliocore.errors import (
    ConfigurationError,
    InvalidPhoneNumber,
    TransportError,
    TwilioCoreError,
    TwilioRestError,
)
from twiliocore.phone import normalize_address, to_e164

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _types)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

    from twiliocore._types import BulkResult
    from twiliocore.bulk import BulkJob
    from twiliocore.bulk_options import BulkOptions
    from twiliocore.rest.api.v2010.messages import MessageInstance

__all__ = ["AsyncSMSService", "SMSService"]

_WHATSAPP = "whatsapp:"


def _env(name: str) -> str | None:
    return os.environ.get(name) or None


class _SMSServiceBase:
    """Configuration, validation and result shaping shared by the sync and async services."""

    def __init__(
        self,
        account_sid: str | None = None,
        auth_token: str | None = None,
        phone_number: str | None = None,
        whatsapp_number: str | None = None,
        *,
        base_url: str | None = None,
        region: str = "US",
        timeout: float = 30.0,
        client: Client | None = None,
    ) -> None:
        self.region = region
        self.phone_number = phone_number or _env("TWILIO_PHONE_NUMBER")
        self.whatsapp_number = whatsapp_number or _env("TWILIO_WHATSAPP_NUMBER")
        if client is None:
            account_sid = account_sid or _env("TWILIO_ACCOUNT_SID")
            auth_token = auth_token or _env("TWILIO_AUTH_TOKEN")
            missing = [
                name
                for name, value in (
                    ("TWILIO_ACCOUNT_SID", account_sid),
                    ("TWILIO_AUTH_TOKEN", auth_token),
                )
                if not value
            ]
            if missing:
                raise ConfigurationError(
                    "missing Twilio configuration: set "
                    + " and ".join(missing)
                    + " (or pass account_sid=/auth_token=)"
                )
            client = Client(account_sid, auth_token, base_url=base_url, timeout=timeout)
            self._owns_client = True
        else:
            self._owns_client = False
        self.client = client

    @property
    def account_sid(self) -> str:
        """The account messages are sent from."""
        return self.client.account_sid

    # --- validation ----------------------------------------------------------------------

    def _sender(self, from_number: str | None, whatsapp: bool) -> str:
        if whatsapp:
            if not self.whatsapp_number:
                raise ConfigurationError(
                    "no WhatsApp sender: set TWILIO_WHATSAPP_NUMBER (or pass whatsapp_number=)"
                )
            number = self.whatsapp_number.removeprefix(_WHATSAPP)
            return _WHATSAPP + to_e164(number, self.region, strict=False)
        sender = from_number or self.phone_number
        if not sender:
            raise ConfigurationError("no SMS sender: pass from_number= or set TWILIO_PHONE_NUMBER")
        try:
            return normalize_address(sender, self.region, strict=False)
        except InvalidPhoneNumber:
            # Alphanumeric sender IDs and short codes are valid senders but not numbers.
            return sender.strip()

    def _prepare(
        self,
        to_number: str,
        message: str,
        from_number: str | None,
        media_url: str | list[str] | None,
        whatsapp: bool,
        status_callback: str | None = None,
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Return (result skeleton, create kwargs) or (failure result, None)."""
        kind = "whatsapp" if whatsapp else "sms"
        result: dict[str, Any] = {
            "success": False,
            "message_sid": None,
            "status": None,
            "to": to_number,
            "from": None,
            "type": kind,
            "num_segments": None,
            "error": None,
            "error_code": None,
        }
        sender = self._sender(from_number, whatsapp)
        result["from"] = sender
        if not isinstance(message, str):
            raise TypeError(f"message: expected str, got {type(message).__name__}")
        if not isinstance(to_number, str):
            raise TypeError(f"to_number: expected str, got {type(to_number).__name__}")
        try:
            number = to_e164(to_number.strip().removeprefix(_WHATSAPP), self.region)
        except InvalidPhoneNumber as exc:
            result["error"] = f"invalid phone number {to_number!r}: {exc.reason}"
            return result, None
        recipient = _WHATSAPP + number if whatsapp else number
        result["to"] = recipient
        kwargs: dict[str, Any] = {"to": recipient, "from_": sender, "body": message}
        if media_url:
            kwargs["media_url"] = media_url
        if status_callback:
            kwargs["status_callback"] = status_callback
        return result, kwargs

    @staticmethod
    def _success(result: dict[str, Any], message: MessageInstance) -> dict[str, Any]:
        result.update(
            success=True,
            message_sid=message.sid,
            status=message.status,
            to=message.to or result["to"],
            num_segments=int(message.num_segments) if message.num_segments else None,
        )
        result["from"] = message.from_ or result["from"]
        return result

    @staticmethod
    def _failure(result: dict[str, Any], exc: Exception) -> dict[str, Any]:
        if isinstance(exc, TwilioRestError):
            result["error"] = exc.message
            result["error_code"] = exc.code
        else:
            result["error"] = str(exc)
        return result

    @staticmethod
    def _status(message: MessageInstance) -> dict[str, Any]:
        return {
            "success": True,
            "message_sid": message.sid,
            "status": message.status,
            "to": message.to,
            "from": message.from_,
            "num_segments": int(message.num_segments) if message.num_segments else None,
            "error_code": message.error_code,
            "error_message": message.error_message,
            "date_created": message.date_created,
            "date_sent": message.date_sent,
            "date_updated": message.date_updated,
            "price": message.price,
            "price_unit": message.price_unit,
        }

    @staticmethod
    def _status_failure(message_sid: str, exc: Exception) -> dict[str, Any]:
        result: dict[str, Any] = {
            "success": False,
            "message_sid": message_sid,
            "status": None,
            "error": str(exc),
            "error_code": None,
        }
        if isinstance(exc, TwilioRestError):
            result["error"] = exc.message
            result["error_code"] = exc.code
        return result

    def _start_bulk(
        self,
        phone_numbers: Iterable[str],
        message: str,
        *,
        from_number: str | None,
        media_url: str | list[str] | None,
        whatsapp: bool,
        options: BulkOptions | None,
        on_result: Callable[[BulkResult], object] | None,
        on_progress: Callable[[dict[str, Any]], object] | None,
        on_done: Callable[[], object] | None = None,
        **settings: Any,
    ) -> BulkJob:
        """Start a ``send_bulk_*`` job: sender, region, then keywords given, over ``options``."""
        from twiliocore.bulk import start_bulk_job

        configured = options.from_ if options is not None and not whatsapp else None
        return start_bulk_job(
            self.client._core,
            phone_numbers,
            message,
            options=options,
            from_=self._sender(from_number or configured, whatsapp),
            media_url=media_url,
            on_result=on_result,
            on_progress=on_progress,
            on_done=on_done,
            region=self.region,
            whatsapp=whatsapp,
            **settings,
        )

    @staticmethod
    def _bulk_summary(job: BulkJob, summary: dict[str, Any]) -> dict[str, Any]:
        return {**summary, "results": job.results}

    def close(self) -> None:
        """Stop the service's own client engine (idempotent)."""
        if self._owns_client:
            self.client.close()

    def __repr__(self) -> str:
        return (
            f"<twiliocore.{type(self).__name__} account_sid={self.client.account_sid} "
            f"phone_number={self.phone_number} whatsapp_number={self.whatsapp_number}>"
        )


# Failures a send reports in its result instead of raising.
_SEND_FAILURES = (TwilioRestError, TransportError, TwilioCoreError, ValueError)


class SMSService(_SMSServiceBase):
    """Send SMS and WhatsApp messages; failures come back as results, not exceptions.

    Usage::

        sms = SMSService()
        sms.send_sms("+14155552671", "Hello")

    Can be shared between threads.

    Args:
        account_sid: default ``TWILIO_ACCOUNT_SID``.
        auth_token: default ``TWILIO_AUTH_TOKEN``.
        phone_number: SMS sender; default ``TWILIO_PHONE_NUMBER``.
        whatsapp_number: WhatsApp sender, E.164 without ``whatsapp:``; default
            ``TWILIO_WHATSAPP_NUMBER``.
        base_url: API root; default ``TWILIO_API_BASE_URL`` or Twilio's.
        region: default region for numbers written without ``+``.
        timeout: total seconds per request.
        client: use this :class:`~twiliocore.Client` instead of building one.

    Raises:
        ConfigurationError: credentials missing (the message names the variables).
    """

    def send_sms(
        self,
        to_number: str,
        message: str,
        from_number: str | None = None,
        media_url: str | list[str] | None = None,
        *,
        status_callback: str | None = None,
    ) -> dict[str, Any]:
        """Send an SMS (MMS with ``media_url``).

        Args:
            to_number: recipient in any common notation.
            message: the text.
            from_number: sender; default the configured phone number.
            media_url: one URL or a list.
            status_callback: URL Twilio posts each status change to (signed).

        Returns:
            The result dict (see the module docstring).

        Raises:
            ConfigurationError: no sender configured.
        """
        result, kwargs = self._prepare(
            to_number, message, from_number, media_url, False, status_callback
        )
        if kwargs is None:
            return result
        try:
            return self._success(result, self.client.messages.create(**kwargs))
        except _SEND_FAILURES as exc:
            return self._failure(result, exc)

    def send_whatsapp(
        self,
        to_number: str,
        message: str,
        media_url: str | list[str] | None = None,
        *,
        status_callback: str | None = None,
    ) -> dict[str, Any]:
        """Send a WhatsApp message from the configured WhatsApp number.

        Args:
            to_number: recipient, with or without ``whatsapp:``.
            message: the text.
            media_url: one URL or a list.
            status_callback: URL Twilio posts each status change to (signed).

        Returns:
            The result dict, ``type`` ``"whatsapp"``.

        Raises:
            ConfigurationError: no WhatsApp sender configured.
        """
        result, kwargs = self._prepare(to_number, message, None, media_url, True, status_callback)
        if kwargs is None:
            return result
        try:
            return self._success(result, self.client.messages.create(**kwargs))
        except _SEND_FAILURES as exc:
            return self._failure(result, exc)

    def get_message_status(self, message_sid: str) -> dict[str, Any]:
        """Fetch a message's current status.

        Args:
            message_sid: the ``SM...``/``MM...`` sid a send returned.

        Returns:
            ``success``, ``message_sid``, ``status``, ``error_code``, ``error_message``,
            dates and price; on failure ``success`` False with ``error``.
        """
        try:
            return self._status(self.client.messages(message_sid).fetch())
        except _SEND_FAILURES as exc:
            return self._status_failure(message_sid, exc)

    def send_bulk_sms(
        self,
        phone_numbers: Iterable[str],
        message: str,
        *,
        from_number: str | None = None,
        on_result: Callable[[BulkResult], object] | None = None,
        on_progress: Callable[[dict[str, Any]], object] | None = None,
        window: int | None = None,
        mps: float | None = None,
        status_callback: str | None = None,
        retry_policy: str | None = None,
        options: BulkOptions | None = None,
    ) -> dict[str, Any]:
        """Send one SMS to many numbers (bulk fan-out; see :meth:`Client.bulk_send`).

        Blocks until every recipient has a result (Ctrl-C cancels the job).

        Args:
            phone_numbers: any iterable of numbers (streamed; duplicates and invalid numbers
                are reported, never sent).
            message: the text.
            from_number: sender; default the configured phone number.
            on_result: called once per recipient with its result as it completes.
            on_progress: called with the counters at most every 0.25 s.
            window: most requests in flight (default 64).
            mps: segments per second to pace to; default the sender's rate near its cap.
            status_callback: URL for Twilio's status callbacks.
            retry_policy: ``"reconcile"`` (default), ``"retry"`` or ``"fail"``.
            options: a :class:`~twiliocore.BulkOptions` for every other setting; the
                keyword arguments given (not None), the service's sender and region apply
                over it.

        Returns:
            ``total``, ``sent``, ``failed``, ``invalid``, ``duplicates``, ``unknown``,
            ``cancelled``, ``retries``, ``duration_seconds``, ``rate`` and ``results``
            (``to``, ``status``, ``message_sid``, ``error_code``, ``error`` per recipient).

        Raises:
            ConfigurationError: no sender configured.
            ValueError: an unusable argument.
        """
        job = self._start_bulk(
            phone_numbers,
            message,
            from_number=from_number,
            media_url=None,
            whatsapp=False,
            options=options,
            on_result=on_result,
            on_progress=on_progress,
            window=window,
            mps=mps,
            status_callback=status_callback,
            retry_policy=retry_policy,
        )
        return self._bulk_summary(job, dict(job.wait()))

    def send_bulk_whatsapp(
        self,
        phone_numbers: Iterable[str],
        message: str,
        media_url: str | list[str] | None = None,
        *,
        on_result: Callable[[BulkResult], object] | None = None,
        on_progress: Callable[[dict[str, Any]], object] | None = None,
        window: int | None = None,
        mps: float | None = None,
        status_callback: str | None = None,
        retry_policy: str | None = None,
        options: BulkOptions | None = None,
    ) -> dict[str, Any]:
        """Send one WhatsApp message to many numbers from the configured WhatsApp sender.

        Arguments and result as :meth:`send_bulk_sms` (plus ``media_url``); recipients may
        be given with or without ``whatsapp:``.

        Raises:
            ConfigurationError: no WhatsApp sender configured.
            ValueError: an unusable argument.
        """
        job = self._start_bulk(
            phone_numbers,
            message,
            from_number=None,
            media_url=media_url,
            whatsapp=True,
            options=options,
            on_result=on_result,
            on_progress=on_progress,
            window=window,
            mps=mps,
            status_callback=status_callback,
            retry_policy=retry_policy,
        )
        return self._bulk_summary(job, dict(job.wait()))

    def __enter__(self) -> SMSService:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncSMSService(_SMSServiceBase):
    """The awaitable twin of :class:`SMSService` (same arguments and results).

    Usage::

        sms = AsyncSMSService()
        result = await sms.send_sms("+14155552671", "Hello")

    Can be shared between tasks (and event loops); completions arrive through
    ``loop.call_soon_threadsafe`` from the engine thread, no thread per request.
    Cancelling a send cancels its request.
    """

    async def send_sms(
        self,
        to_number: str,
        message: str,
        from_number: str | None = None,
        media_url: str | list[str] | None = None,
        *,
        status_callback: str | None = None,
    ) -> dict[str, Any]:
        """Awaitable :meth:`SMSService.send_sms`."""
        result, kwargs = self._prepare(
            to_number, message, from_number, media_url, False, status_callback
        )
        if kwargs is None:
            return result
        try:
            return self._success(result, await self.client.messages.create_async(**kwargs))
        except _SEND_FAILURES as exc:
            return self._failure(result, exc)

    async def send_whatsapp(
        self,
        to_number: str,
        message: str,
        media_url: str | list[str] | None = None,
        *,
        status_callback: str | None = None,
    ) -> dict[str, Any]:
        """Awaitable :meth:`SMSService.send_whatsapp`."""
        result, kwargs = self._prepare(to_number, message, None, media_url, True, status_callback)
        if kwargs is None:
            return result
        try:
            return self._success(result, await self.client.messages.create_async(**kwargs))
        except _SEND_FAILURES as exc:
            return self._failure(result, exc)

    async def get_message_status(self, message_sid: str) -> dict[str, Any]:
        """Awaitable :meth:`SMSService.get_message_status`."""
        try:
            return self._status(await self.client.messages(message_sid).fetch_async())
        except _SEND_FAILURES as exc:
            return self._status_failure(message_sid, exc)

    async def _run_bulk(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Start a job (``_start_bulk``'s arguments); await its ``on_done``, no polling.

        ``on_done`` wakes this task through ``loop.call_soon_threadsafe``; no thread waits
        for the job, and cancelling the task cancels the job. (asyncio loads here, not at
        import.)
        """
        import asyncio

        loop = asyncio.get_running_loop()
        finished: asyncio.Future[None] = loop.create_future()

        def wake() -> None:  # on the loop, unless the task was cancelled meanwhile
            if not finished.done():
                finished.set_result(None)

        def on_done() -> None:  # on the job's thread, GIL held
            try:
                loop.call_soon_threadsafe(wake)
            except RuntimeError:  # the loop is closed: nobody awaits the job any more
                pass

        job = self._start_bulk(*args, on_done=on_done, **kwargs)
        try:
            await finished
        except asyncio.CancelledError:
            job.cancel()
            raise
        # Done once the job's thread has closed its transport, just after the final call.
        return self._bulk_summary(job, dict(job.wait()))

    async def send_bulk_sms(
        self,
        phone_numbers: Iterable[str],
        message: str,
        *,
        from_number: str | None = None,
        on_result: Callable[[BulkResult], object] | None = None,
        on_progress: Callable[[dict[str, Any]], object] | None = None,
        window: int | None = None,
        mps: float | None = None,
        status_callback: str | None = None,
        retry_policy: str | None = None,
        options: BulkOptions | None = None,
    ) -> dict[str, Any]:
        """Awaitable :meth:`SMSService.send_bulk_sms`; cancelling it cancels the job.

        ``phone_numbers`` is read on the job's thread: pass a list (or a thread-safe
        iterable), not an async generator. Callbacks run on that thread too.
        """
        return await self._run_bulk(
            phone_numbers,
            message,
            from_number=from_number,
            media_url=None,
            whatsapp=False,
            options=options,
            on_result=on_result,
            on_progress=on_progress,
            window=window,
            mps=mps,
            status_callback=status_callback,
            retry_policy=retry_policy,
        )

    async def send_bulk_whatsapp(
        self,
        phone_numbers: Iterable[str],
        message: str,
        media_url: str | list[str] | None = None,
        *,
        on_result: Callable[[BulkResult], object] | None = None,
        on_progress: Callable[[dict[str, Any]], object] | None = None,
        window: int | None = None,
        mps: float | None = None,
        status_callback: str | None = None,
        retry_policy: str | None = None,
        options: BulkOptions | None = None,
    ) -> dict[str, Any]:
        """Awaitable :meth:`SMSService.send_bulk_whatsapp`; cancelling it cancels the job."""
        return await self._run_bulk(
            phone_numbers,
            message,
            from_number=None,
            media_url=media_url,
            whatsapp=True,
            options=options,
            on_result=on_result,
            on_progress=on_progress,
            window=window,
            mps=mps,
            status_callback=status_callback,
            retry_policy=retry_policy,
        )

    async def __aenter__(self) -> AsyncSMSService:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()
