"""Type stubs of twiliocore._core, the private pybind11 module over the C++ core.

Hand-written; each unit appends its section. Use the public twiliocore API instead.
"""

from __future__ import annotations

__version__: str

# --- segments (bind_phone.cpp) -------------------------------------------------

def count_segments(body: str | bytes) -> tuple[str, int, int, int]:
    """Count the SMS segments of a message body as Twilio does.

    Returns (encoding, num_segments, units, characters): encoding is "GSM-7" or "UCS-2",
    units are septets (GSM-7) or UTF-16 code units (UCS-2). An empty body is 1 segment.
    Raises ValueError if a bytes body is not valid UTF-8.
    """
