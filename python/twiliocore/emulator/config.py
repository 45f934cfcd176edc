"""The emulator's settings, validated once at construction."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from twiliocore.emulator.faults import FaultConfig

__all__ = [
    "DEFAULT_FAILING_NUMBERS",
    "DEFAULT_PHONE_NUMBERS",
    "EmulatorConfig",
    "OwnedNumberSpec",
]

_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
_API_KEY_SID = re.compile(r"^SK[0-9a-fA-F]{32}$")

#: Senders every emulated account owns unless told otherwise: Twilio's test-credential
#: sender and Twilio's WhatsApp sandbox sender.
DEFAULT_PHONE_NUMBERS: tuple[str, ...] = ("+15005550006", "whatsapp:+14155238886")

#: Recipients whose messages end ``undelivered``/``failed`` with this error code.
DEFAULT_FAILING_NUMBERS: Mapping[str, int] = {
    "+15005550010": 30003,  # unreachable handset -> undelivered
    "+15005550011": 30005,  # unknown destination handset -> undelivered
    "+15005550012": 30008,  # unknown error -> failed
}


@dataclass(frozen=True)
class OwnedNumberSpec:
    """A sender the emulated account owns.

    Attributes:
        address: ``+E164``, ``whatsapp:+E164``, a 5-6 digit short code or an alphanumeric ID.
        sms_url: where inbound messages to it are posted (``None``: the emulator's ``sms_url``).
        sms_method: ``POST`` or ``GET``.
    """

    address: str
    sms_url: str | None = None
    sms_method: str = "POST"


@dataclass
class EmulatorConfig:
    """Settings of one emulator instance (see :class:`twiliocore.emulator.Emulator`)."""

    account_sid: str
    auth_token: str = field(repr=False)
    phone_numbers: list[OwnedNumberSpec]
    sms_url: str | None = None
    api_keys: dict[str, str] = field(default_factory=dict, repr=False)
    friendly_name: str = "twiliocore emulator"
    mps: float | None = None
    max_concurrent: int = 100
    queue_cap_seconds: float = 36000.0
    status_delay: float = 0.05
    failing_numbers: dict[str, int] = field(default_factory=dict)
    faults: FaultConfig = field(default_factory=FaultConfig)
    seed: int | None = None
    callback_attempts: int = 3
    callback_retry_delay: float = 0.2
    callback_timeout: float = 5.0
    max_body_bytes: int = 1024 * 1024

    @classmethod
    def build(
        cls,
        *,
        account_sid: str | None,
        auth_token: str | None,
        phone_numbers: Iterable[str | OwnedNumberSpec] | None,
        failing_numbers: Mapping[str, int] | None,
        faults: FaultConfig | Mapping[str, float] | str | None,
        api_keys: Mapping[str, str] | None,
        **settings: object,
    ) -> EmulatorConfig:
        """Validate the arguments of ``Emulator(...)`` and fill in defaults.

        Raises:
            ValueError: naming the argument and the reason.
        """
        sid = account_sid or "AC" + secrets.token_hex(16)
        if not _ACCOUNT_SID.match(sid):
            raise ValueError("account_sid: must be 'AC' followed by 32 hex digits")
        token = auth_token or secrets.token_hex(16)
        if not isinstance(token, str) or not token.strip():
            raise ValueError("auth_token: must be a non-empty string")
        numbers: list[OwnedNumberSpec] = []
        seen: set[str] = set()
        for item in (*DEFAULT_PHONE_NUMBERS, *(phone_numbers or ())):
            spec = item if isinstance(item, OwnedNumberSpec) else OwnedNumberSpec(str(item))
            if spec.address not in seen:
                seen.add(spec.address)
                numbers.append(spec)
        keys = dict(api_keys or {})
        for key_sid in keys:
            if not _API_KEY_SID.match(key_sid):
                raise ValueError("api_keys: key SIDs must be 'SK' followed by 32 hex digits")
        fail = dict(DEFAULT_FAILING_NUMBERS if failing_numbers is None else failing_numbers)
        config = cls(
            account_sid=sid,
            auth_token=token,
            phone_numbers=numbers,
            api_keys=keys,
            failing_numbers=fail,
            faults=FaultConfig.parse(faults),
        )
        for name, value in settings.items():
            if not hasattr(config, name):
                raise TypeError(f"unexpected setting {name!r}")
            setattr(config, name, value)
        config._check()
        return config

    def _check(self) -> None:
        if self.mps is not None and not self.mps > 0:
            raise ValueError("mps: must be a positive number of segments per second")
        if self.max_concurrent < 1:
            raise ValueError("max_concurrent: must be at least 1")
        if not self.queue_cap_seconds > 0:
            raise ValueError("queue_cap_seconds: must be positive")
        if self.status_delay < 0:
            raise ValueError("status_delay: must not be negative")
        if self.callback_attempts < 1:
            raise ValueError("callback_attempts: must be at least 1")
        if self.max_body_bytes < 1024:
            raise ValueError("max_body_bytes: must be at least 1024")
