"""The Twilio emulator: a local server that speaks Twilio's REST API (mock mode).

Start it from the command line (``twiliocore emulator``) or in-process::

    from twiliocore.emulator import Emulator

    with Emulator(phone_numbers=["+14155550100"]) as emulator:
        print(emulator.url, emulator.account_sid)

See ``docs/emulator.md``.
"""

from __future__ import annotations

from twiliocore.emulator.config import OwnedNumberSpec
from twiliocore.emulator.faults import FaultConfig
from twiliocore.emulator.server import Emulator

__all__ = ["Emulator", "FaultConfig", "OwnedNumberSpec"]
