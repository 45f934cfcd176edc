"""twilio-python's async client (AsyncTwilioHttpClient on aiohttp), asyncio.gather + semaphore.

usage: python -m bench.clients.twilio_async BASE_URL CA N CONCURRENCY
"""

from __future__ import annotations

import asyncio
import ssl
import sys

import aiohttp
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from bench._common import ACCOUNT_SID, AUTH_TOKEN, BODY, FROM_NUMBER, Meter, recipient, report


async def run(base: str, ca: str, n: int, concurrency: int) -> None:
    http = AsyncTwilioHttpClient(pool_connections=False)
    # The session is created inside the running loop (aiohttp requires it) with the benchmark
    # CA; verification stays on. limit=concurrency: one connection per in-flight request.
    http.session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=ssl.create_default_context(cafile=ca), limit=concurrency)
    )
    client = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=http)
    client.api.base_url = base
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int) -> bool:
        async with sem:
            msg = await client.messages.create_async(to=recipient(i), from_=FROM_NUMBER, body=BODY)
            return msg.sid is not None

    # Warm-up: open the connections.
    await asyncio.gather(*(one(i) for i in range(concurrency)))
    with Meter() as m:
        results = await asyncio.gather(*(one(i) for i in range(n)))
    await http.session.close()
    report(m, n, sum(results))


def main() -> None:
    base, ca, n, c = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    asyncio.run(run(base, ca, n, c))


if __name__ == "__main__":
    main()
