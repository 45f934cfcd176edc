"""The ``twiliocore`` command: ``emulator``, ``serve``, ``send`` and ``version``.

Each subcommand lives with the code it drives (``add_arguments`` and ``run``);
one whose optional dependencies are missing says so instead of breaking the rest.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# name -> (module providing add_arguments(parser) and run(args) -> int, help text)
_SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "emulator": ("twiliocore.emulator.cli", "run the local Twilio emulator (mock mode)"),
    "serve": ("twiliocore_api.cli", "run the REST service (needs twiliocore[api])"),
    "send": ("twiliocore.sms_cli", "send one SMS or WhatsApp message"),
}


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(prog="twiliocore", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("version", help="print the version")
    for name, (module_name, help_text) in _SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text)
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            sub_parser.set_defaults(_import_error=str(exc))
            continue
        module.add_arguments(sub_parser)
        sub_parser.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``twiliocore`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "version":
        from twiliocore import __version__

        print(__version__)
        return 0
    import_error = getattr(args, "_import_error", None)
    if import_error is not None:
        print(f"twiliocore {args.command}: unavailable: {import_error}", file=sys.stderr)
        if args.command == "serve":
            print("install the service with: pip install 'twiliocore[api]'", file=sys.stderr)
        return 2
    return int(args._run(args))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
