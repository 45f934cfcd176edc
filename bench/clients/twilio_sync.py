"""twilio-python's ``Client`` in a sequential loop (how most code sends with it).

usage: python -m bench.clients.twilio_sync BASE_URL CA N
"""

from __future__ import annotations

import sys

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from bench._common import ACCOUNT_SID, AUTH_TOKEN, BODY, FROM_NUMBER, Meter, recipient, report


def main() -> None:
    base, ca, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    http = TwilioHttpClient(pool_connections=True)
    assert http.session is not None
    http.session.verify = ca  # the benchmark CA; verification stays on
    client = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=http)
    client.api.base_url = base
    # Warm-up: one request opens the keep-alive connection.
    client.messages.create(to=recipient(0), from_=FROM_NUMBER, body=BODY)
    ok = 0
    with Meter() as m:
        for i in range(n):
            msg = client.messages.create(to=recipient(i), from_=FROM_NUMBER, body=BODY)
            ok += msg.sid is not None
    report(m, n, ok)


if __name__ == "__main__":
    main()
