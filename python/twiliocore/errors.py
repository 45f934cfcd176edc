"""The exceptions twiliocore raises, in one public module.

The hierarchy::

    TwilioCoreError
    ├── InvalidPhoneNumber (also ValueError)
    ├── ConfigurationError (also ValueError)
    ├── SignatureError (also ValueError)
    ├── TransportError
    │   ├── ConnectTimeout / Timeout (also TimeoutError)
    │   └── TLSError
    ├── Cancelled
    └── TwilioRestError  (alias TwilioRestException, as in twilio-python)

``TwilioException`` is an alias of ``TwilioCoreError``, twilio-python's name for the base
class (``except TwilioException`` also catches a page that could not be fetched).

Errors from the C++ core are translated into these classes in one place (the
``_core`` module's exception translator); Python code maps lower-level errors
with ``raise X(...) from exc``. No message or ``repr`` ever contains an auth token.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _types)
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "Cancelled",
    "ConfigurationError",
    "ConnectTimeout",
    "InvalidPhoneNumber",
    "SignatureError",
    "TLSError",
    "Timeout",
    "TransportError",
    "TwilioCoreError",
    "TwilioException",
    "TwilioRestError",
    "TwilioRestException",
]


class TwilioCoreError(Exception):
    """Base class of every exception raised by twiliocore."""


class InvalidPhoneNumber(TwilioCoreError, ValueError):
    """Raised when a phone number cannot be parsed or is not valid.

    Attributes:
        number: the input as given.
        reason: why it was rejected (libphonenumber's reason, e.g. ``"too short"``).
    """

    def __init__(self, number: str, reason: str) -> None:
        super().__init__(f"invalid phone number {number!r}: {reason}")
        self.number = number
        self.reason = reason


class ConfigurationError(TwilioCoreError, ValueError):
    """Raised when required configuration (credentials, sender numbers) is missing or malformed.

    The message names the missing settings or environment variables, never their values.
    """


class SignatureError(TwilioCoreError, ValueError):
    """Raised when a webhook signature cannot be checked (e.g. a JSON body without bodySHA256)."""


class TransportError(TwilioCoreError):
    """Raised when a request fails below HTTP: DNS, connection refused, reset, TLS or timeout.

    Attributes:
        url: the request URL without credentials.
        stage: where it failed: ``"resolve"``, ``"connect"``, ``"tls"``, ``"send"`` or
            ``"receive"``.
    """

    def __init__(self, message: str, *, url: str = "", stage: str = "") -> None:
        super().__init__(message)
        self.url = url
        self.stage = stage

    @property
    def never_sent(self) -> bool:
        """True when the request certainly never reached the server (safe to resend)."""
        return self.stage in ("resolve", "connect", "tls")


class Timeout(TransportError, TimeoutError):
    """Raised when a request runs past its total timeout."""


class ConnectTimeout(Timeout):
    """Raised when the connection could not be established within the connect timeout."""


class TLSError(TransportError):
    """Raised when the TLS handshake or certificate verification fails."""


class Cancelled(TwilioCoreError):
    """Raised when a request or bulk job was cancelled before it finished."""


class TwilioRestError(TwilioCoreError):
    """Raised when Twilio answers with an error status.

    The attributes twilio-python's ``TwilioRestException`` has hold the same values, and
    ``str(exc)`` is its plain (non-terminal) form, ``"HTTP <status> error: <msg>"``.
    ``more_info``, ``message`` and ``url`` are twiliocore's additions.

    Attributes:
        status: the HTTP status code.
        uri: the resource's path relative to the API version, as twilio-python gives it
            (``/Accounts/AC.../Messages.json``: no host, version or query).
        msg: what failed then Twilio's message, as twilio-python words it
            (``"Unable to create record: The 'To' number ... is not a valid phone number."``);
            only what failed when the answer carried no message.
        code: Twilio's error code (e.g. 21211), or the HTTP status when Twilio gave none.
        method: the HTTP method.
        details: the ``details`` member of Twilio's error body, if it has one (as
            twilio-python; most errors carry none).
        more_info: Twilio's documentation URL for the code.
        message: Twilio's message alone, or what the answer was when it was not Twilio's
            error JSON (``"HTTP 502 from <url>: Bad Gateway"``).
        url: the full request URL, without credentials.
    """

    def __init__(
        self,
        status: int,
        uri: str,
        msg: str = "",
        code: int | None = None,
        method: str = "GET",
        details: Any = None,
        more_info: str | None = None,
        *,
        message: str | None = None,
        url: str | None = None,
    ) -> None:
        # args as twilio-python's (its positional arguments): the exception pickles.
        super().__init__(status, uri, msg, code, method, details)
        self.status = status
        self.uri = uri
        self.msg = msg
        self.code = code if code is not None else status
        self.method = method
        self.details = details
        self.more_info = more_info
        self.message = message if message is not None else msg
        self.url = url if url is not None else uri

    def __str__(self) -> str:
        return f"HTTP {self.status} error: {self.msg or self.message}"


TwilioRestException = TwilioRestError
TwilioException = TwilioCoreError
