"""What the ``twiliocore`` subcommands that talk to Twilio share: options, client, output.

The account options (``--account-sid``, ``--auth-token``, ``--base-url``, ``--timeout``)
default to the ``TWILIO_*`` variables; a missing one is reported with the option and the
variable that give it, never with the Python names behind them. Output is a plain table for
people, or JSON with ``--json`` for scripts.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from twiliocore.client import Client

__all__ = [
    "CommandError",
    "add_account_options",
    "add_json_option",
    "client_from",
    "credentials_from",
    "guarded",
    "print_json",
    "print_table",
]


class CommandError(Exception):
    """A failure to report in one line, with the exit status to end with.

    Args:
        message: what went wrong, naming the option or variable to change.
        status: the exit status (2: usage or configuration, 1: the operation failed).
    """

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


def add_account_options(parser: argparse.ArgumentParser) -> None:
    """Register ``--account-sid``, ``--auth-token``, ``--base-url`` and ``--timeout``."""
    group = parser.add_argument_group("Twilio account (defaults from the environment)")
    group.add_argument(
        "--account-sid", metavar="SID", help="account SID (default TWILIO_ACCOUNT_SID)"
    )
    group.add_argument(
        "--auth-token",
        metavar="TOKEN",
        help="auth token (default TWILIO_AUTH_TOKEN; prefer the variable: other users of"
        " this machine can read command lines)",
    )
    group.add_argument(
        "--base-url",
        metavar="URL",
        help="API root (default TWILIO_API_BASE_URL, else Twilio's; the emulator's URL for"
        " local runs)",
    )
    group.add_argument(
        "--timeout", type=float, default=30.0, metavar="SECONDS", help="per request (30)"
    )


def add_json_option(parser: argparse.ArgumentParser) -> None:
    """Register ``--json``: machine-readable output instead of the table."""
    parser.add_argument(
        "--json", action="store_true", help="print JSON (for scripts) instead of a table"
    )


def credentials_from(args: argparse.Namespace) -> tuple[str, str]:
    """The account SID and auth token from the options or the environment.

    Raises:
        CommandError: either is missing (the message names its option and variable).
    """
    account_sid = args.account_sid or os.environ.get("TWILIO_ACCOUNT_SID")
    auth_token = args.auth_token or os.environ.get("TWILIO_AUTH_TOKEN")
    if not account_sid or not auth_token:
        missing = [
            f"{option} or {variable}"
            for value, option, variable in (
                (account_sid, "--account-sid", "TWILIO_ACCOUNT_SID"),
                (auth_token, "--auth-token", "TWILIO_AUTH_TOKEN"),
            )
            if not value
        ]
        raise CommandError(
            "no Twilio account: pass --account-sid/--auth-token or set "
            f"TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN (missing: {'; '.join(missing)}). "
            "For a local emulator, `twiliocore emulator` prints the lines to export."
        )
    return account_sid, auth_token


def client_from(args: argparse.Namespace) -> Client:
    """A :class:`~twiliocore.Client` for the account the options (or environment) name.

    Raises:
        CommandError: the account is not configured, or a setting is malformed.
    """
    from twiliocore.client import Client

    account_sid, auth_token = credentials_from(args)
    try:
        return Client(account_sid, auth_token, base_url=args.base_url, timeout=args.timeout)
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def guarded(command: str, run: Callable[[], int]) -> int:
    """Run ``run``; report a :class:`CommandError` or a Twilio error as one line on stderr.

    Returns:
        ``run``'s exit status, the error's, 1 for an error from Twilio or the network, or
        130 when interrupted (Ctrl-C).
    """
    from twiliocore.errors import TwilioCoreError, TwilioRestError

    try:
        return run()
    except CommandError as exc:
        print(f"twiliocore {command}: {exc}", file=sys.stderr)
        return exc.status
    except TwilioRestError as exc:
        code = f", error {exc.code}" if exc.code != exc.status else ""
        print(
            f"twiliocore {command}: Twilio answered HTTP {exc.status}{code}: "
            f"{exc.msg or exc.message}",
            file=sys.stderr,
        )
        return 1
    except TwilioCoreError as exc:
        print(f"twiliocore {command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C before or after the work: no traceback
        print(f"twiliocore {command}: interrupted", file=sys.stderr)
        return 130


def _plain(value: object) -> object:
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    return value


def print_json(value: object, out: TextIO | None = None) -> None:
    """Print ``value`` as indented JSON (datetimes in ISO 8601)."""
    print(json.dumps(value, indent=2, default=_plain), file=out or sys.stdout)


def _cell(value: object, width: int | None) -> str:
    if value is None:
        text = "-"
    elif isinstance(value, _dt.datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S")
    else:
        text = " ".join(str(value).split())
    if width is not None and len(text) > width:
        text = text[: width - 3] + "..."
    return text


def print_table(
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[tuple[str, str, int | None]],
    out: TextIO | None = None,
) -> None:
    """Print ``rows`` as aligned columns under a header.

    Args:
        rows: the records.
        columns: ``(key, heading, widest)`` per column; ``widest`` cuts longer text with
            ``...`` (``None``: never cut).
        out: where to print (standard output by default).
    """
    cells = [[_cell(row.get(key), widest) for key, _, widest in columns] for row in rows]
    headings = [heading for _, heading, _ in columns]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headings)]
    stream = out or sys.stdout
    for line in [headings, *cells]:
        print(
            "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip(), file=stream
        )
