"""Type stubs of twiliocore._core, the private pybind11 module over the C++ core.

Hand-written; each unit appends its section. Use the public twiliocore API instead.
"""

from __future__ import annotations

import enum

__version__: str

# --- segments (bind_phone.cpp) -------------------------------------------------

def count_segments(body: str | bytes) -> tuple[str, int, int, int]:
    """Count the SMS segments of a message body as Twilio does.

    Returns (encoding, num_segments, units, characters): encoding is "GSM-7" or "UCS-2",
    units are septets (GSM-7) or UTF-16 code units (UCS-2). An empty body is 1 segment.
    Raises ValueError if a bytes body is not valid UTF-8.
    """

# --- signature (bind_signature.cpp) ---------------------------------------------

class SignatureAlgorithm(enum.Enum):
    """The HMAC a webhook is signed with."""

    HMAC_SHA1 = 0
    HMAC_SHA256 = 1

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
        params: list[tuple[str, str]],
        algorithm: SignatureAlgorithm = ...,
    ) -> str:
        """Base64 HMAC of the URL (as given) followed by the sorted name+value pairs."""
    def validate(
        self,
        url: str,
        params: list[tuple[str, str]],
        signature: str,
        algorithm: SignatureAlgorithm = ...,
    ) -> bool:
        """True if the signature matches the URL as given, without its port, or with the default port."""  # noqa: E501
    def validate_body(
        self,
        url: str,
        body: str | bytes,
        signature: str,
        algorithm: SignatureAlgorithm = ...,
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
