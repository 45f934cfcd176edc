"""Bulk fan-out to an international mix of numbers against the all-``+1`` rate, same run.

usage: python -m bench.clients.intl_mix BASE_URL N CONCURRENCY ROUNDS

The mix: equal shares of IN, GB, BR, DE, NG, ID and US mobile numbers (valid by
libphonenumber's metadata, distinct), each region's written a third in its national form
(``07400 123456``), a third in international form with spaces (``+44 7400 123456``) and a
third in E.164. A national form only means something with its region, so each region is one
``Client.bulk_send`` job with ``region=`` that region; the seven jobs run at once on one client,
their windows adding up to CONCURRENCY. The all-``+1`` run is shaped the same (seven jobs, the
same windows, the same number of recipients) with distinct ``+1415…`` numbers, so that only
the numbers differ. Rounds alternate the two; the medians are reported.

The E.164 outputs are checked against libphonenumber's Python port (``phonenumbers``, the
metadata version twiliocore was built with): ``twiliocore.phone.to_e164_many`` on every input
with its region against ``phonenumbers.format_number(parse(n, region), E164)`` (``None`` where
phonenumbers finds the number invalid).
"""

from __future__ import annotations

import json
import statistics
import sys
import time

import twiliocore
from twiliocore.phone import to_e164_many

from bench._common import ACCOUNT_SID, AUTH_TOKEN, BODY, FROM_NUMBER, UNPACED, recipient

REGIONS = ("IN", "GB", "BR", "DE", "NG", "ID", "US")


def numbers_for(region: str, count: int) -> list[str]:
    """``count`` distinct valid mobile numbers of ``region``, in national/international/E.164."""
    import phonenumbers as pn

    example = pn.example_number_for_type(region, pn.PhoneNumberType.MOBILE)
    nsn = pn.national_significant_number(example)
    cc = example.country_code
    out: list[str] = []
    k = 0
    while len(out) < count:
        candidate = nsn[:-5] + f"{k % 100000:05d}" if k < 100000 else None
        k += 1
        if candidate is None:
            raise RuntimeError(f"not enough valid {region} numbers")
        number = pn.parse(f"+{cc}{candidate}")
        if not pn.is_valid_number(number):
            continue
        form = (
            pn.PhoneNumberFormat.NATIONAL,
            pn.PhoneNumberFormat.INTERNATIONAL,
            pn.PhoneNumberFormat.E164,
        )[len(out) % 3]
        out.append(pn.format_number(number, form))
    return out


def reference_e164(numbers: list[str], region: str) -> list[str | None]:
    """What libphonenumber (the ``phonenumbers`` port) makes of each input."""
    import phonenumbers as pn

    out: list[str | None] = []
    for text in numbers:
        try:
            parsed = pn.parse(text, region)
        except pn.NumberParseException:
            out.append(None)
            continue
        ok = pn.is_valid_number(parsed)
        out.append(pn.format_number(parsed, pn.PhoneNumberFormat.E164) if ok else None)
    return out


def windows(concurrency: int, jobs: int) -> list[int]:
    """``concurrency`` split over ``jobs`` (each at least 1)."""
    base, extra = divmod(concurrency, jobs)
    return [max(1, base + (1 if i < extra else 0)) for i in range(jobs)]


def run_jobs(
    client: twiliocore.Client, batches: list[tuple[str, list[str]]], concurrency: int
) -> tuple[float, int, int]:
    """Run the jobs at once; returns (seconds, sent, invalid)."""
    t0 = time.perf_counter()
    jobs = [
        client.bulk_send(
            numbers,
            BODY,
            from_=FROM_NUMBER,
            window=w,
            mps=UNPACED,
            region=region,
            keep_results=False,
        )
        for (region, numbers), w in zip(batches, windows(concurrency, len(batches)), strict=True)
    ]
    summaries = [job.wait() for job in jobs]
    wall = time.perf_counter() - t0
    return wall, sum(s["sent"] for s in summaries), sum(s["invalid"] for s in summaries)


def main() -> None:
    base, n, concurrency, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    per = max(1, n // len(REGIONS))
    mix = [(region, numbers_for(region, per)) for region in REGIONS]
    plus1 = [("US", [recipient(j * per + i) for i in range(per)]) for j in range(len(REGIONS))]
    total = per * len(REGIONS)
    identical = True
    mismatches: list[dict[str, object]] = []
    for region, numbers in mix:
        ours = [r.e164 for r in to_e164_many(numbers, region)]
        theirs = reference_e164(numbers, region)
        if ours != theirs:
            identical = False
            for text, a, b in zip(numbers, ours, theirs, strict=True):
                if a != b and len(mismatches) < 10:
                    mismatches.append({"region": region, "input": text, "ours": a, "theirs": b})
    client = twiliocore.Client(ACCOUNT_SID, AUTH_TOKEN, base_url=base)
    run_jobs(client, [(r, nums[:concurrency]) for r, nums in plus1], concurrency)  # warm-up
    rates: dict[str, list[float]] = {"plus1": [], "mix": []}
    sent: dict[str, int] = {}
    invalid: dict[str, int] = {}
    for i in range(rounds):
        order = [("plus1", plus1), ("mix", mix)]
        if i % 2:
            order.reverse()
        for name, batches in order:
            wall, ok, bad = run_jobs(client, batches, concurrency)
            rates[name].append(ok / wall if wall > 0 else 0.0)
            sent[name], invalid[name] = ok, bad
    client.close()
    plus1_rate = statistics.median(rates["plus1"])
    mix_rate = statistics.median(rates["mix"])
    out = {
        "n": total,
        "regions": list(REGIONS),
        "concurrency": concurrency,
        "rounds": rounds,
        "plus1_rate": plus1_rate,
        "mix_rate": mix_rate,
        "ratio": mix_rate / plus1_rate if plus1_rate else None,
        "plus1_rates": rates["plus1"],
        "mix_rates": rates["mix"],
        "sent": sent,
        "invalid": invalid,
        "identical": identical,
        "mismatches": mismatches,
        "examples": {region: numbers[:3] for region, numbers in mix},
    }
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
