"""Type stubs of twiliocore._core, the private pybind11 module over the C++ core.

Hand-written; each unit appends its section. Use the public twiliocore API instead.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable, Sequence
from typing import Any

__version__: str

# --- segments (bind_phone.cpp) -------------------------------------------------

def count_segments(body: str | bytes) -> tuple[str, int, int, int]:
    """Count the SMS segments of a message body as Twilio does.

    Returns (encoding, num_segments, units, characters): encoding is "GSM-7" or "UCS-2",
    units are septets (GSM-7) or UTF-16 code units (UCS-2). An empty body is 1 segment.
    Raises ValueError if a bytes body is not valid UTF-8.
    """

def smart_encode(body: str | bytes) -> str:
    """Apply Twilio's Smart Encoding to a message body.

    Look-alikes of GSM-7 characters (curly quotes, dashes, ellipsis, Unicode spaces, ...) are
    replaced when the whole result is then GSM-7; otherwise the body comes back unchanged.
    Raises ValueError if a bytes body is not valid UTF-8.
    """

# --- signature (bind_signature.cpp) ---------------------------------------------

class SignatureValidator:
    """Computes and checks X-Twilio-Signature values for one auth token.

    Thread-safe: one instance can be shared by any number of threads. The token is never
    shown by repr() and cannot be read back.
    """

    def __init__(self, auth_token: str) -> None:
        """Key HMAC-SHA1 and HMAC-SHA256 with the auth token; ValueError if empty."""
    def compute(
        self,
        url: str,
        params: list[tuple[str, str]] | dict[str, Any],
        algorithm: str = ...,
    ) -> str:
        """Base64 HMAC of the URL (as given) followed by the sorted name+value pairs."""
    def validate(
        self,
        url: str,
        params: list[tuple[str, str]] | dict[str, Any],
        signature: str,
        algorithm: str = ...,
    ) -> bool:
        """True if the signature matches the URL as given, without its port, or with the default port."""  # noqa: E501
    def validate_body(
        self,
        url: str,
        body: str | bytes,
        signature: str,
        algorithm: str = ...,
    ) -> bool:
        """JSON webhook check: bodySHA256 must equal sha256(body), the signature the URL alone."""

def sha256_hex(data: str | bytes) -> str:
    """Lowercase hex SHA-256 of the data (UTF-8 for str)."""

# --- phone (bind_phone.cpp) -----------------------------------------------------

def to_e164(number: str, region: str, strict: bool) -> tuple[bool, str]:
    """Parse a phone number to E.164: (True, "+14155552671") or (False, reason).

    strict=True requires a valid number for its region, strict=False a possible length.
    Raises ValueError for an unknown region code.
    """

def to_e164_many(numbers: list[str], region: str, strict: bool) -> list[tuple[bool, str]]:
    """to_e164 for every number, in order, in one call without the GIL."""

def normalize_address(address: str, region: str, strict: bool) -> tuple[bool, str]:
    """Like to_e164, keeping a 'whatsapp:' prefix: (True, 'whatsapp:+1...') or (False, reason)."""

def number_info(number: str, region: str, strict: bool) -> tuple[bool, str, str, str, int]:
    """(True, e164, type, region, country_code) or (False, reason, '', '', 0)."""

def phone_metadata_version() -> str:
    """The libphonenumber release whose metadata is compiled in, e.g. '8.12.57'."""

# --- fanout (bind_fanout.cpp) ---------------------------------------------------

class BulkJob:
    """A running bulk send (see twiliocore.bulk.BulkJob). Starts at construction."""

    def __init__(
        self,
        client: TwilioClient,
        recipients: Iterable[object],
        *,
        from_: str = "",
        messaging_service_sid: str = "",
        body: str = "",
        media_urls: Sequence[str] = [],
        status_callback: str = "",
        region: str = "US",
        whatsapp: bool = False,
        smart_encoded: bool = False,
        window: int = 64,
        mps: float = 0.0,
        retry_policy: str = "reconcile",
        max_attempts: int = 8,
        keep_results: bool = True,
        expected_recipients: int = -1,
        progress_interval: float = 0.25,
        reconcile_delays: Sequence[float] = [0.5, 2.0, 5.0],
        backoff_base: float = 0.25,
        seed: int = 0,
        on_result: Callable[[dict[str, Any]], object] | None = None,
        on_progress: Callable[[dict[str, Any]], object] | None = None,
        on_done: Callable[[], object] | None = None,
    ) -> None:
        """on_done is called once (GIL held, on the job's thread) after the final progress."""
    def wait(self, timeout: float | None = None) -> dict[str, Any]:
        """Wait for the job; returns the summary dict. Ctrl-C cancels it."""
    def join(self, timeout: float) -> bool:
        """Wait up to timeout seconds without raising; True when done."""
    def cancel(self) -> None:
        """Stop sending; safe from any thread."""
    @property
    def done(self) -> bool: ...
    @property
    def summary(self) -> dict[str, Any]: ...
    @property
    def results(self) -> list[dict[str, Any]]: ...
    @property
    def estimated_seconds(self) -> float: ...
    @property
    def rate(self) -> float: ...
    @property
    def segments(self) -> int: ...

# --- errors (bind_errors.cpp) ------------------------------------------------------

# The _test submodule holds one trigger per exception-translator branch (tests only):
#   raise_api_error(status, code, message, more_info="", details="")  -> TwilioRestError
#   raise_transport_error(stage="connect")                            -> TransportError
#   raise_timeout(stage="receive")           -> Timeout (ConnectTimeout for "connect")
#   raise_tls_error() -> TLSError;  raise_cancelled() -> Cancelled
#   raise_invalid_phone_number(number, reason) -> InvalidPhoneNumber
#   raise_invalid_argument(message) -> ValueError
_test: types.ModuleType

# --- http (bind_http.cpp) ----------------------------------------------------------

class Response:
    """An HTTP answer (any status). Made by the engine; not constructible from Python."""

    def __init__(self, *args: Any, **kwargs: Any) -> None: ...
    @property
    def status(self) -> int: ...
    @property
    def headers(self) -> list[tuple[str, str]]:
        """Response headers, names in lower case."""
    @property
    def body(self) -> bytes: ...
    @property
    def url(self) -> str: ...
    @property
    def method(self) -> str: ...
    @property
    def elapsed(self) -> float:
        """Seconds from submission to the last byte."""
    @property
    def http_version(self) -> int:
        """Protocol of the answer: 10, 11, 20 (HTTP/2) or 30."""
    def header(self, name: str) -> str | None:
        """The first header named ``name`` (case-insensitive), or None."""

class Engine:
    """The libcurl multi event loop on one background thread. Thread-safe."""

    def __init__(
        self,
        connect_timeout: float = 10.0,
        timeout: float = 30.0,
        ca_bundle: str = "",
        insecure: bool = False,
        proxy: str = "",
        max_host_connections: int = 0,
        user_agent: str = "",
        max_idle_connections: int = 256,
    ) -> None: ...
    def request(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]] = ...,
        body: bytes | str | None = None,
        username: str = "",
        password: str = "",
        timeout: float | None = None,
    ) -> Response:
        """Send and wait (GIL released, Ctrl-C cancels); transport errors raise."""
    async def request_async(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]] = ...,
        body: bytes | str | None = None,
        username: str = "",
        password: str = "",
        timeout: float | None = None,
    ) -> Response:
        """Send; an asyncio future of the running loop (cancelling it cancels the transfer)."""
    def stats(self) -> dict[str, int]:
        """submitted, completed, failed, connections_opened, in_flight."""
    def shutdown(self) -> None:
        """Cancel in-flight requests and join the loop thread (idempotent)."""
    @property
    def running(self) -> bool: ...
    @property
    def user_agent(self) -> str: ...

def default_user_agent() -> str:
    """``twiliocore/<version> (<os> <arch>) libcurl/<version>``."""

# --- client (bind_client.cpp) ------------------------------------------------------

_Json = dict[str, Any]
_Pairs = list[tuple[str, str]]

class TwilioClient:
    """Twilio's REST API on an Engine. Thread-safe; the auth token cannot be read back."""

    def __init__(
        self,
        engine: Engine,
        account_sid: str,
        auth_token: str,
        base_url: str = "https://api.twilio.com",
        username: str = "",
    ) -> None: ...
    @property
    def account_sid(self) -> str: ...
    @property
    def base_url(self) -> str: ...
    @property
    def engine(self) -> Engine: ...
    def create_message(
        self,
        to: str,
        from_: str = "",
        body: str = "",
        media_urls: list[str] = ...,
        status_callback: str = "",
        messaging_service_sid: str = "",
        validity_period: int | None = None,
        extra: _Pairs = ...,
    ) -> _Json:
        """POST Messages.json; returns the Message resource."""
    async def create_message_async(
        self,
        to: str,
        from_: str = "",
        body: str = "",
        media_urls: list[str] = ...,
        status_callback: str = "",
        messaging_service_sid: str = "",
        validity_period: int | None = None,
        extra: _Pairs = ...,
    ) -> _Json: ...
    def fetch_message(self, sid: str) -> _Json:
        """GET Messages/{sid}.json."""
    async def fetch_message_async(self, sid: str) -> _Json: ...
    def update_message(self, sid: str, params: _Pairs) -> _Json:
        """POST Messages/{sid}.json (Body='' redacts, Status=canceled)."""
    async def update_message_async(self, sid: str, params: _Pairs) -> _Json: ...
    def delete_message(self, sid: str) -> None:
        """DELETE Messages/{sid}.json (204)."""
    async def delete_message_async(self, sid: str) -> None: ...
    def fetch_page(self, uri: str) -> _Json:
        """GET a page by its next_page_uri, or its absolute URL on the base URL."""
    async def fetch_page_async(self, uri: str) -> _Json: ...
    def fetch_account(self, sid: str) -> _Json:
        """GET Accounts/{sid}.json."""
    async def fetch_account_async(self, sid: str) -> _Json: ...
    def request(self, method: str, path: str, query: _Pairs = ..., form: _Pairs = ...) -> Any:
        """Any API call: path relative to the base URL; query and form pairs."""
    async def request_async(
        self, method: str, path: str, query: _Pairs = ..., form: _Pairs = ...
    ) -> Any: ...
