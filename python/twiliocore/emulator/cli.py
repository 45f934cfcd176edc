"""``twiliocore emulator``: run the Twilio emulator in the foreground.

Prints the base URL and the credentials (a fresh random pair unless given) as ``export``
lines for a shell, the settings the client and the service read, then serves until
interrupted (Ctrl-C or SIGTERM). The credentials are printed deliberately, once, at
start; nothing else ever shows the token.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import signal
import sys
import threading
from types import FrameType

from twiliocore.emulator.config import DEFAULT_PHONE_NUMBERS
from twiliocore.emulator.server import Emulator

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the emulator's options on ``parser``."""
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8081, help="TCP port, 0 for any (8081)")
    parser.add_argument("--account-sid", help="the account SID (default: random AC...)")
    parser.add_argument("--auth-token", help="the auth token (default: random)")
    parser.add_argument(
        "--phone-number",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="a sender the account owns (+E164, whatsapp:+E164, short code, alphanumeric);"
        f" repeatable; always owned: {', '.join(DEFAULT_PHONE_NUMBERS)}",
    )
    parser.add_argument(
        "--sms-url", help="where incoming messages are posted (SmsUrl of every number)"
    )
    parser.add_argument(
        "--mps",
        type=float,
        help="segments per second for every sender (default: Twilio's per-sender rates)",
    )
    parser.add_argument(
        "--max-concurrent",
        type=int,
        default=100,
        help="concurrent API requests before 429 / 20429 (default 100)",
    )
    parser.add_argument(
        "--queue-cap-seconds",
        type=float,
        default=36000.0,
        help="longest sender queue, in seconds of traffic, before 21611 (default 36000)",
    )
    parser.add_argument(
        "--status-delay",
        type=float,
        default=0.5,
        help="seconds between status transitions (default 0.5)",
    )
    parser.add_argument("--seed", type=int, help="seed of the fault generator")
    parser.add_argument(
        "--faults",
        help='fault probabilities, e.g. "429=0.1,500=0.05,503=0.05,slow=0.1,drop=0.02,'
        'drop_after=0.02,slow_seconds=2"',
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="server log level (default info)",
    )


def run(args: argparse.Namespace) -> int:
    """Run the emulator until interrupted; return the exit status."""
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)-8s %(message)s")
    try:
        emulator = Emulator(
            args.host,
            args.port,
            args.account_sid,
            args.auth_token,
            mps=args.mps,
            max_concurrent=args.max_concurrent,
            queue_cap_seconds=args.queue_cap_seconds,
            status_delay=args.status_delay,
            seed=args.seed,
            faults=args.faults,
            phone_numbers=args.phone_number,
            sms_url=args.sms_url,
        )
    except ValueError as exc:
        print(f"twiliocore emulator: {exc}", file=sys.stderr)
        return 2
    try:
        emulator.start()
    except RuntimeError as exc:
        print(f"twiliocore emulator: {exc}", file=sys.stderr)
        return 1
    numbers = [n.address for n in emulator.config.phone_numbers]
    sms = next((n for n in numbers if n.startswith("+")), "")
    whatsapp = next((n[9:] for n in numbers if n.startswith("whatsapp:")), "")
    print(f"Twilio emulator listening on {emulator.url}")
    settings = {
        "TWILIO_API_BASE_URL": emulator.url,
        "TWILIO_ACCOUNT_SID": emulator.account_sid,
        "TWILIO_AUTH_TOKEN": emulator.auth_token,
        "TWILIO_PHONE_NUMBER": sms,
        "TWILIO_WHATSAPP_NUMBER": whatsapp,
    }
    # Shell lines to paste into another terminal (quoted: a given token may hold anything).
    for name, value in settings.items():
        print(f"export {name}={shlex.quote(value)}")
    print(f"Senders: {', '.join(numbers)}")
    print(f"Inspect: {emulator.url}/_emulator/messages  (Ctrl-C to stop)", flush=True)

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.2):
            if emulator._thread is None or not emulator._thread.is_alive():
                print("twiliocore emulator: the server stopped", file=sys.stderr)
                return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        emulator.stop()
    return 0
