"""Constants and helpers shared by the benchmark runner and its client processes."""

from __future__ import annotations

import json
import resource
import sys
import time
from urllib.parse import urlencode

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "bench-token-0123456789abcdef0123"
FROM_NUMBER = "+15005550006"
# The fake endpoint has no per-sender queue, so the twiliocore runs configure a rate far above
# what any client reaches: the pacer still runs on every message but never waits. (With the
# sender's default 1 segment/s, a long code, sending would slow to the sender's rate after
# 9.5 hours' worth of backlog, 34,200 messages, as it must against real Twilio.)
UNPACED = 1_000_000.0
BODY = "Your verification code is 482913. It expires in 10 minutes. Reply STOP to opt out."


def recipient(i: int) -> str:
    """The i-th distinct, valid US mobile-style E.164 number (+1 415 2xx xxxx)."""
    return f"+1415{2000000 + i:07d}"


def form_body(to: str) -> str:
    return urlencode({"To": to, "From": FROM_NUMBER, "Body": BODY})


# A realistic Message resource as Twilio returns it on create (about 850 bytes).
MESSAGE_JSON = json.dumps(
    {
        "account_sid": ACCOUNT_SID,
        "api_version": "2010-04-01",
        "body": BODY,
        "date_created": "Thu, 24 Aug 2023 05:01:45 +0000",
        "date_sent": None,
        "date_updated": "Thu, 24 Aug 2023 05:01:45 +0000",
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": FROM_NUMBER,
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": "SM" + "fedcba9876543210" * 2,
        "status": "queued",
        "subresource_uris": {
            "media": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/SM"
            + "fedcba9876543210" * 2
            + "/Media.json"
        },
        "to": "+14152000000",
        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/SM" + "fedcba9876543210" * 2 + ".json",
    },
    separators=(", ", ": "),
)


class Meter:
    """Wall and CPU time (all threads of this process) around the timed section."""

    def __enter__(self) -> Meter:
        self._r0 = resource.getrusage(resource.RUSAGE_SELF)
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._t0
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        self.cpu = (r1.ru_utime - self._r0.ru_utime) + (r1.ru_stime - self._r0.ru_stime)


def vm_hwm_kb(pid: int | str = "self") -> int:
    """Peak resident set size (VmHWM) of a process in KiB, 0 if unknown.

    Used instead of the rusage ``ru_maxrss`` of a child, which on Linux also counts the
    forked parent's pages from before ``exec``.
    """
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def report(meter: Meter, n: int, ok: int, **extra: object) -> None:
    """Print the child's result as one JSON line on stdout (read by run_all.py)."""
    out = {"n": n, "ok": ok, "wall": meter.wall, "cpu": meter.cpu, "vm_hwm_kb": vm_hwm_kb()}
    out.update(extra)
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
