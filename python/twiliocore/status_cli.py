"""``twiliocore status SID``: a message's status at Twilio, with its error if it failed.

Prints the message's fields one per line (``--json``: the Message resource as Twilio sent
it). Exit status 0 when Twilio answered, 1 when it did not (e.g. no such message, 20404),
2 on missing configuration.
"""

from __future__ import annotations

import argparse

from twiliocore._cli import (
    add_account_options,
    add_json_option,
    client_from,
    guarded,
    print_json,
    print_table,
)

__all__ = ["add_arguments", "run"]

# The fields shown, in order: (attribute, label).
_FIELDS = (
    ("sid", "sid"),
    ("status", "status"),
    ("error_code", "error code"),
    ("error_message", "error message"),
    ("to", "to"),
    ("from_", "from"),
    ("direction", "direction"),
    ("num_segments", "segments"),
    ("num_media", "media"),
    ("price", "price"),
    ("date_created", "created"),
    ("date_sent", "sent"),
    ("date_updated", "updated"),
    ("body", "body"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the ``status`` options on ``parser``."""
    parser.add_argument("sid", metavar="SID", help="the message's SID (SM... or MM...)")
    add_json_option(parser)
    add_account_options(parser)


def run(args: argparse.Namespace) -> int:
    """Fetch the message ``args.sid`` and print it; returns the exit status."""

    def fetch() -> int:
        with client_from(args) as client:
            message = client.messages(args.sid).fetch()
        if args.json:
            print_json(message.to_dict())
            return 0
        values = {label: getattr(message, name) for name, label in _FIELDS}
        if message.price is not None and message.price_unit:
            values["price"] = f"{message.price} {message.price_unit}"
        rows = [{"field": label, "value": values[label]} for _, label in _FIELDS]
        print_table(rows, [("field", "FIELD", None), ("value", "VALUE", None)])
        return 0

    return guarded("status", fetch)
