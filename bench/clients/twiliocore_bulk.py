"""twiliocore's bulk fan-out: ``Client.bulk_send`` with a window of CONCURRENCY requests.

usage: python -m bench.clients.twiliocore_bulk BASE_URL CA N CONCURRENCY
"""

from __future__ import annotations

import sys

import twiliocore

from bench._common import ACCOUNT_SID, AUTH_TOKEN, BODY, FROM_NUMBER, Meter, recipient, report


def make_client(base: str, ca: str) -> twiliocore.Client:
    return twiliocore.Client(ACCOUNT_SID, AUTH_TOKEN, base_url=base, ca_bundle=ca)


def main() -> None:
    base, ca, n, c = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    client = make_client(base, ca)
    # Warm-up: one window's worth opens the connections.
    client.bulk_send((recipient(i) for i in range(c)), BODY, from_=FROM_NUMBER, window=c).wait()
    with Meter() as m:
        job = client.bulk_send(
            (recipient(i) for i in range(n)), BODY, from_=FROM_NUMBER, window=c, keep_results=False
        )
        summary = job.wait()
    report(m, n, summary["sent"], failed=summary["failed"], retries=summary["retries"])


if __name__ == "__main__":
    main()
