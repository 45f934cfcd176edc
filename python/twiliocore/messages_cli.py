"""``twiliocore messages``: the account's recent messages, newest first.

Filters are the ones Twilio's Messages list takes: ``--to``, ``--from`` and the day sent
(``--date-sent``, ``--sent-before``, ``--sent-after``, as ``YYYY-MM-DD``). Prints a table
(``--json``: a list of Message resources as Twilio sent them). Exit status 0 when Twilio
answered, 1 when it did not, 2 on missing configuration or a malformed option.
"""

from __future__ import annotations

import argparse
import datetime as _dt

from twiliocore._cli import (
    add_account_options,
    add_json_option,
    client_from,
    guarded,
    print_json,
    print_table,
)

__all__ = ["add_arguments", "run"]

_COLUMNS: list[tuple[str, str, int | None]] = [
    ("sid", "SID", None),
    ("date", "DATE", None),
    ("direction", "DIRECTION", None),
    ("from", "FROM", None),
    ("to", "TO", None),
    ("status", "STATUS", None),
    ("error_code", "ERROR", None),
    ("body", "BODY", 40),
]


def _day(text: str) -> _dt.date:
    try:
        return _dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a day written YYYY-MM-DD") from None


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the ``messages`` options on ``parser``."""
    parser.add_argument(
        "--limit", type=_positive, default=20, metavar="N", help="how many messages (20)"
    )
    parser.add_argument("--to", metavar="ADDRESS", help="only messages to this number")
    parser.add_argument(
        "--from", dest="from_number", metavar="ADDRESS", help="only messages from this number"
    )
    parser.add_argument(
        "--date-sent", type=_day, metavar="YYYY-MM-DD", help="only messages sent that day (UTC)"
    )
    parser.add_argument(
        "--sent-before", type=_day, metavar="YYYY-MM-DD", help="only messages sent before that day"
    )
    parser.add_argument(
        "--sent-after", type=_day, metavar="YYYY-MM-DD", help="only messages sent after that day"
    )
    add_json_option(parser)
    add_account_options(parser)


def run(args: argparse.Namespace) -> int:
    """List the messages ``args`` select and print them; returns the exit status."""

    def listing() -> int:
        with client_from(args) as client:
            messages = client.messages.list(
                to=args.to,
                from_=args.from_number,
                date_sent=args.date_sent,
                date_sent_before=args.sent_before,
                date_sent_after=args.sent_after,
                limit=args.limit,
            )
        if args.json:
            print_json([message.to_dict() for message in messages])
            return 0
        rows = [
            {
                "sid": m.sid,
                "date": m.date_sent or m.date_created,
                "direction": m.direction,
                "from": m.from_,
                "to": m.to,
                "status": m.status,
                "error_code": m.error_code,
                "body": m.body,
            }
            for m in messages
        ]
        print_table(rows, _COLUMNS)
        return 0

    return guarded("messages", listing)
