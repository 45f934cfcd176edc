"""Constants and helpers shared by the benchmark runner and its client processes.

A client process measures its own peak memory, so this module imports only what the
measurement needs (no ``json`` or ``urllib`` before the report is written).
"""

from __future__ import annotations

import resource
import sys
import time

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
    import json  # after the peak was read

    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
