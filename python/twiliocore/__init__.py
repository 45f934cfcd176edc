"""twiliocore: SMS and WhatsApp through Twilio on a fast C++ core.

Quick start::

    from twiliocore import SMSService

    sms = SMSService()  # TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_PHONE_NUMBER
    result = sms.send_sms("+14155552671", "Your code is 123456")
    print(result["message_sid"], result["status"])

twilio-python users switch by changing the import::

    from twiliocore import Client, RequestValidator
"""

from __future__ import annotations

try:
    from twiliocore import _core
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        "twiliocore's compiled core (twiliocore._core) could not be loaded: "
        f"{exc}. Reinstall the package (pip install --force-reinstall twiliocore) or, "
        "in a source checkout, run `make build`."
    ) from exc

from twiliocore.bulk import BulkJob
from twiliocore.client import Client
from twiliocore.errors import (
    Cancelled,
    ConfigurationError,
    ConnectTimeout,
    InvalidPhoneNumber,
    SignatureError,
    Timeout,
    TLSError,
    TransportError,
    TwilioCoreError,
    TwilioException,
    TwilioRestError,
    TwilioRestException,
)
from twiliocore.phone import to_e164
from twiliocore.request_validator import RequestValidator
from twiliocore.sms import AsyncSMSService, SMSService

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _types)
if TYPE_CHECKING:
    from twiliocore.bulk_options import BulkOptions

__version__: str = _core.__version__


def __getattr__(name: str) -> object:
    """``BulkOptions``, loaded on first use (it is a dataclass: dataclasses loads inspect)."""
    if name == "BulkOptions":
        from twiliocore.bulk_options import BulkOptions

        return BulkOptions
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AsyncSMSService",
    "BulkJob",
    "BulkOptions",
    "Cancelled",
    "Client",
    "ConfigurationError",
    "ConnectTimeout",
    "InvalidPhoneNumber",
    "RequestValidator",
    "SMSService",
    "SignatureError",
    "TLSError",
    "Timeout",
    "TransportError",
    "TwilioCoreError",
    "TwilioException",
    "TwilioRestError",
    "TwilioRestException",
    "__version__",
    "to_e164",
]
