"""twiliocore's bulk fan-out: ``Client.bulk_send`` with a window of CONCURRENCY requests.

usage: python -m bench.clients.twiliocore_bulk BASE_URL CA N CONCURRENCY
"""

from __future__ import annotations

import sys

import twiliocore

from bench._common import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    BODY,
    FROM_NUMBER,
    UNPACED,
    Meter,
    recipient,
    report,
    vm_hwm_kb,
)

TYPE_CHECKING = False  # the client process measures its own memory: typing is not loaded
if TYPE_CHECKING:
    from typing import Any


class _CoreClient:
    """The same fan-out through the private core, for trees where ``Client`` is not built yet."""

    def __init__(self, base: str, ca: str) -> None:
        from twiliocore import _core

        self.engine = _core.Engine(ca_bundle=ca)
        self.core = _core.TwilioClient(self.engine, ACCOUNT_SID, AUTH_TOKEN, base)

    def bulk_send(self, recipients: Any, body: str, **kwargs: Any) -> Any:
        from twiliocore.bulk import start_bulk_job

        return start_bulk_job(self.core, recipients, body, **kwargs)

    def connections_opened(self) -> int:
        return int(self.engine.stats()["connections_opened"])


def make_client(base: str, ca: str) -> Any:
    if hasattr(twiliocore, "Client"):
        return twiliocore.Client(ACCOUNT_SID, AUTH_TOKEN, base_url=base, ca_bundle=ca)
    return _CoreClient(base, ca)


def main() -> None:
    base, ca, n, c = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    client = make_client(base, ca)
    # Warm-up: one window's worth opens the connections.
    client.bulk_send(
        (recipient(i) for i in range(c)), BODY, from_=FROM_NUMBER, window=c, mps=UNPACED
    ).wait()
    rss_before = vm_hwm_kb()  # the interpreter, the libraries and the warm engine
    with Meter() as m:
        job = client.bulk_send(
            (recipient(i) for i in range(n)),
            BODY,
            from_=FROM_NUMBER,
            window=c,
            mps=UNPACED,
            keep_results=False,
        )
        summary = job.wait()
    report(
        m,
        n,
        summary["sent"],
        failed=summary["failed"],
        retries=summary["retries"],
        rss_before_kb=rss_before,
    )


if __name__ == "__main__":
    main()
