"""The Twilio emulator: a local server that speaks Twilio's REST API (mock mode).

Start it from the command line (``twiliocore emulator``) or in-process::

    from twiliocore.emulator import Emulator

    with Emulator(phone_numbers=["+14155550100"]) as emulator:
        print(emulator.url, emulator.account_sid)

See ``docs/emulator.md``. Its web stack (Starlette, uvicorn, python-multipart) is the
``emulator`` extra: without it, importing this package (or any module in it) raises an
``ImportError`` that says ``pip install 'twiliocore[emulator]'``.
"""

from __future__ import annotations

from importlib.util import find_spec

# The `emulator` extra: distribution -> its import names (python-multipart is
# `python_multipart` since 0.0.13 and `multipart` before; Starlette imports it to parse forms).
_EXTRA = {
    "starlette": ("starlette",),
    "uvicorn": ("uvicorn",),
    "python-multipart": ("python_multipart", "multipart"),
}

_missing = [dist for dist, names in _EXTRA.items() if not any(map(find_spec, names))]
if _missing:
    raise ImportError(
        f"the twiliocore emulator needs {', '.join(_missing)} (its web stack): "
        "pip install 'twiliocore[emulator]'",
        name=__name__,
    )

# Imported after the check above, so that a missing extra is named rather than a module.
from twiliocore.emulator.config import OwnedNumberSpec  # noqa: E402
from twiliocore.emulator.faults import FaultConfig  # noqa: E402
from twiliocore.emulator.server import Emulator  # noqa: E402

__all__ = ["Emulator", "FaultConfig", "OwnedNumberSpec"]
