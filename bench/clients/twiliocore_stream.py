"""Memory while streaming many recipients from a generator through ``Client.bulk_send``.

usage: python -m bench.clients.twiliocore_stream BASE_URL CA N CONCURRENCY
Reports RSS before the job and the process's peak RSS, so growth = peak - before.
"""

from __future__ import annotations

import sys

from bench._common import BODY, FROM_NUMBER, UNPACED, Meter, recipient, report, vm_hwm_kb
from bench.clients.twiliocore_bulk import make_client


def main() -> None:
    base, ca, n, c = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    client = make_client(base, ca)
    client.bulk_send(
        (recipient(i) for i in range(c)), BODY, from_=FROM_NUMBER, window=c, mps=UNPACED
    ).wait()
    before = vm_hwm_kb()
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
    peak = vm_hwm_kb()
    report(m, n, summary["sent"], rss_before_kb=before, rss_growth_kb=peak - before)


if __name__ == "__main__":
    main()
