"""``twiliocore bulk``: one message to every number of a file, with progress and a summary.

Numbers come from a CSV or text file (``-``: standard input): the column named ``phone``,
``to`` or ``number`` when the first row names one (or the one ``--column`` names), else the
first column. They go through ``Client.bulk_send`` (normalised, deduplicated, paced per
sender, never sent twice). While it runs, a progress bar (tqdm's, with the ``cli`` extra:
``pip install 'twiliocore[cli]'``; a plain line without it) shows on a terminal; at the end
a summary counts sent, failed, invalid, duplicates, unknown and cancelled recipients, with
the duration and rate, and lists the recipients that were not sent. Ctrl-C cancels the job:
requests already sent finish and are counted.

Exit status: 0 when every recipient was sent (duplicates aside), 1 when any failed, was
invalid or has an unknown outcome, 2 on a usage or configuration error, 130 when cancelled.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import io
import os
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from twiliocore._cli import (
    CommandError,
    add_account_options,
    add_json_option,
    client_from,
    guarded,
    print_json,
    print_table,
)

if TYPE_CHECKING:
    from twiliocore._types import BulkResult, BulkSummary

__all__ = ["add_arguments", "read_numbers", "run"]

#: Column names that hold the numbers, when the first row is a header.
NUMBER_COLUMNS = ("phone", "to", "number")

#: Recipients not sent that the human summary lists (``--json`` lists all).
_LISTED = 20

_WHATSAPP = "whatsapp:"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the ``bulk`` options on ``parser``."""
    parser.add_argument(
        "--to-file",
        required=True,
        metavar="FILE",
        help="CSV or text file of numbers, one per row ('-': standard input)",
    )
    parser.add_argument("--message", required=True, metavar="TEXT", help="the message text")
    parser.add_argument(
        "--column",
        metavar="NAME",
        help="the CSV column of the numbers (default: phone, to or number if the first row"
        " names one, else the first column)",
    )
    parser.add_argument("--whatsapp", action="store_true", help="send through WhatsApp")
    parser.add_argument(
        "--from",
        dest="from_number",
        metavar="ADDRESS",
        help="sender (default TWILIO_PHONE_NUMBER, or TWILIO_WHATSAPP_NUMBER with --whatsapp)",
    )
    parser.add_argument(
        "--media-url", action="append", default=None, metavar="URL", help="media (repeatable)"
    )
    parser.add_argument(
        "--mps",
        type=float,
        metavar="N",
        help="message segments per second to send at (default: the sender's rate at Twilio)",
    )
    parser.add_argument(
        "--region", default="US", help="region of numbers written without + (default US)"
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress display on the terminal"
    )
    add_json_option(parser)
    add_account_options(parser)


def read_numbers(stream: TextIO, column: str | None = None) -> list[str]:
    """The numbers of a CSV or text file.

    Args:
        stream: the file's text.
        column: the header of the column holding the numbers; ``None``: ``phone``, ``to``
            or ``number`` if the first row names one (then it is a header), else the first
            column (a first row without a digit in it is a header too).

    Returns:
        The non-empty cells of the column, in order (duplicates kept: the job counts them).

    Raises:
        CommandError: ``column`` is not in the first row.
    """
    text = stream.read()
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], ",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = [row for row in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in row)]
    if not rows:
        return []
    header = [cell.strip().lower() for cell in rows[0]]
    index = 0
    if column is not None:
        if column.strip().lower() not in header:
            raise CommandError(
                f"--column: no column {column!r} in the first row ({', '.join(rows[0])})"
            )
        index = header.index(column.strip().lower())
        rows = rows[1:]
    elif any(name in header for name in NUMBER_COLUMNS):
        index = next(header.index(name) for name in NUMBER_COLUMNS if name in header)
        rows = rows[1:]
    elif not any(ch.isdigit() for ch in header[0]):
        rows = rows[1:]
    return [row[index].strip() for row in rows if len(row) > index and row[index].strip()]


class _Progress:
    """Progress of the job on the terminal: tqdm's bar if installed, else a plain line.

    ``update`` is called from the engine's thread; ``close`` from the main thread.
    """

    def __init__(self, total: int, stream: TextIO, enabled: bool) -> None:
        self._stream = stream
        self._total = total
        self._enabled = enabled and stream.isatty()
        self._lock = threading.Lock()
        self._bar: Any = None
        self._last = ""
        self._started = time.monotonic()
        if not self._enabled:
            return
        try:  # the `cli` extra; imported by name: it ships no type information
            tqdm = importlib.import_module("tqdm").tqdm
        except ImportError:
            return
        self._bar = tqdm(total=total, unit="msg", file=stream, dynamic_ncols=True, leave=True)

    def update(self, counters: Mapping[str, Any]) -> None:
        if not self._enabled:
            return
        done = sum(
            int(counters[key])
            for key in ("sent", "failed", "invalid", "duplicates", "unknown", "cancelled")
        )
        with self._lock:
            if self._bar is not None:
                self._bar.n = done
                self._bar.set_postfix(
                    sent=counters["sent"], failed=counters["failed"], refresh=False
                )
                self._bar.refresh()
                return
            elapsed = time.monotonic() - self._started
            line = (
                f"{done}/{self._total} done: {counters['sent']} sent, "
                f"{counters['failed']} failed, {counters['invalid']} invalid, "
                f"{_per_second(int(counters['sent']), elapsed):.1f} msg/s"
            )
            self._stream.write("\r" + line.ljust(len(self._last)))
            self._stream.flush()
            self._last = line

    def close(self) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.close()
            elif self._last:
                self._stream.write("\n")
                self._stream.flush()
            self._enabled = False


def _per_second(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


def _sender(args: argparse.Namespace) -> str:
    if args.from_number:
        return str(args.from_number).removeprefix(_WHATSAPP)
    variable = "TWILIO_WHATSAPP_NUMBER" if args.whatsapp else "TWILIO_PHONE_NUMBER"
    sender = os.environ.get(variable)
    if not sender:
        kind = "WhatsApp" if args.whatsapp else "SMS"
        raise CommandError(f"no {kind} sender: pass --from or set {variable}")
    return sender.removeprefix(_WHATSAPP)


def _read(path: str, column: str | None) -> list[str]:
    if path == "-":
        return read_numbers(sys.stdin, column)
    try:
        with open(path, encoding="utf-8-sig", newline="") as stream:
            return read_numbers(stream, column)
    except OSError as exc:
        raise CommandError(f"--to-file: cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise CommandError(f"--to-file: {path} is not UTF-8 text") from None


def _not_sent(results: Sequence[BulkResult]) -> list[BulkResult]:
    # Failed, invalid and unknown recipients; the cancelled ones are counted, not listed.
    return [r for r in results if r["status"] not in ("sent", "duplicate", "cancelled")]


def _print_summary(summary: BulkSummary, results: Sequence[BulkResult], cancelled: bool) -> None:
    duration = float(summary.get("duration_seconds", 0.0))
    rate = _per_second(summary.get("sent", 0), duration)
    rows = [
        {"what": key, "value": summary.get(key, 0)}
        for key in ("sent", "failed", "invalid", "duplicates", "unknown", "cancelled")
    ]
    rows.append({"what": "duration", "value": f"{duration:.2f} s"})
    rows.append({"what": "rate", "value": f"{rate:.1f} msg/s"})
    if cancelled:
        print("cancelled (Ctrl-C): requests already sent were finished and are counted")
    print_table(rows, [("what", "SUMMARY", None), ("value", "", None)])
    missed = _not_sent(results)
    if missed:
        print()
        listed = [
            {**r, "error": r["error"] or "", "error_code": r["error_code"]}
            for r in missed[:_LISTED]
        ]
        print_table(
            listed,
            [
                ("to", "NOT SENT", None),
                ("status", "STATUS", None),
                ("error_code", "CODE", None),
                ("error", "REASON", 70),
            ],
        )
        if len(missed) > _LISTED:
            print(f"... and {len(missed) - _LISTED} more (--json lists every recipient)")


def run(args: argparse.Namespace) -> int:
    """Send ``args.message`` to every number of ``args.to_file``; returns the exit status."""

    def bulk() -> int:
        if not args.message.strip() and not args.media_url:
            raise CommandError("--message: is empty (give a text, or --media-url)")
        sender = _sender(args)
        numbers = _read(args.to_file, args.column)
        if not numbers:
            raise CommandError(f"--to-file: no numbers in {args.to_file}")
        progress = _Progress(len(numbers), sys.stderr, enabled=not args.no_progress)
        cancelled = False
        with client_from(args) as client:
            try:
                job = client.bulk_send(
                    numbers,
                    args.message,
                    from_=sender,
                    media_url=args.media_url,
                    whatsapp=args.whatsapp,
                    mps=args.mps,
                    region=args.region,
                    on_progress=progress.update,
                )
            except ValueError as exc:
                progress.close()
                raise CommandError(str(exc)) from None
            started = time.monotonic()
            try:
                summary = job.wait()
                progress.update(summary)  # the end, even when it came before a progress call
            except KeyboardInterrupt:
                # wait() cancelled the job and let the requests already sent finish.
                cancelled = True
                summary = job.summary
                if not summary.get("duration_seconds"):
                    summary["duration_seconds"] = time.monotonic() - started
            finally:
                progress.close()
            results = job.results
        if args.json:
            sent_per_second = _per_second(summary["sent"], summary["duration_seconds"])
            print_json(
                {
                    "summary": summary,
                    "sent_per_second": round(sent_per_second, 3),
                    "cancelled": cancelled,
                    "results": results,
                }
            )
        else:
            _print_summary(summary, results, cancelled)
        if cancelled:
            return 130
        return 1 if summary["failed"] or summary["invalid"] or summary["unknown"] else 0

    return guarded("bulk", bulk)
