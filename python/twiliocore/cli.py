"""The ``twiliocore`` command: ``send``, ``bulk``, ``status``, ``messages``, ``emulator``...

Each subcommand lives with the code it drives: a module (or any object) with
``add_arguments(parser)`` and ``run(args) -> int``. The package's own subcommands are listed
here; others plug in through the ``twiliocore.commands`` entry-point group, as the REST
service's ``serve`` does (see ``[project.entry-points]`` in ``pyproject.toml``), so the
library never imports the service by name. Only the subcommand that runs is imported (the
entry points are looked up only to list them or to run one), and one whose optional
dependencies are missing names the extra to install instead of breaking the rest.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol, cast

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

#: The entry-point group other distributions register subcommands in.
ENTRY_POINT_GROUP = "twiliocore.commands"

# The package's own subcommands: name -> (module, help text, the extra it needs or None).
_BUILTIN: dict[str, tuple[str, str, str | None]] = {
    "emulator": (
        "twiliocore.emulator.cli",
        "run the local Twilio emulator (mock mode; needs twiliocore[emulator])",
        "emulator",
    ),
    "send": ("twiliocore.sms_cli", "send one SMS or WhatsApp message", None),
    "bulk": (
        "twiliocore.bulk_cli",
        "send one message to every number of a CSV or text file, with progress",
        None,
    ),
    "status": ("twiliocore.status_cli", "show a message's status at Twilio, and its error", None),
    "messages": ("twiliocore.messages_cli", "list the account's recent messages", None),
}

# What `twiliocore --help` says (argparse prints it as is: plain text, no markup).
_DESCRIPTION = "SMS and WhatsApp through Twilio from the command line, and its local emulator."
_EPILOG = """
The Twilio account comes from TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or --account-sid
and --auth-token), the senders from TWILIO_PHONE_NUMBER and TWILIO_WHATSAPP_NUMBER (or
--from), and TWILIO_API_BASE_URL points the commands at a local emulator.

examples:
  twiliocore emulator                           a local Twilio; prints the lines to export
  twiliocore send --to +14155552671 --body Hi   one message
  twiliocore bulk --to-file numbers.csv --message "Closed on Monday"
  twiliocore status SM0123456789abcdef0123456789abcdef
  twiliocore messages --limit 20 --json

'twiliocore COMMAND --help' describes each command."""

# Entry-point subcommands that an extra of this package provides: name -> (help text, extra).
# They are listed, and say how to install them, even when the extra is missing.
_FROM_EXTRAS: dict[str, tuple[str, str]] = {
    "serve": ("run the REST service (needs twiliocore[api])", "api"),
    "admin": (
        "the REST service's users: create, reset-password, list (needs twiliocore[api])",
        "api",
    ),
}


class Command(Protocol):
    """What a subcommand provides (a module with these two functions will do)."""

    def add_arguments(self, parser: argparse.ArgumentParser, /) -> None:
        """Register the subcommand's options on ``parser``."""

    def run(self, args: argparse.Namespace, /) -> int:
        """Run the subcommand with the parsed ``args``; returns the exit status."""


def _extra(name: str) -> str | None:
    """The extra of this package that provides subcommand ``name``, if any."""
    if name in _BUILTIN:
        return _BUILTIN[name][2]
    return _FROM_EXTRAS[name][1] if name in _FROM_EXTRAS else None


def _plugins() -> dict[str, EntryPoint]:
    """The ``twiliocore.commands`` entry points by name (first one wins), not yet loaded."""
    from importlib.metadata import entry_points

    found: dict[str, EntryPoint] = {}
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(entry_point.name, entry_point)
    return found


def _load(name: str, plugins: dict[str, EntryPoint]) -> Command:
    """Import the subcommand ``name``; ``ImportError`` when it is unavailable."""
    if name in _BUILTIN:
        return cast("Command", importlib.import_module(_BUILTIN[name][0]))
    if name not in plugins:
        raise ImportError(f"no {ENTRY_POINT_GROUP!r} entry point named {name!r} is installed")
    return cast("Command", plugins[name].load())


def _register(
    sub_parser: argparse.ArgumentParser, name: str, plugins: dict[str, EntryPoint]
) -> None:
    """Add ``name``'s options to ``sub_parser``, or record why it cannot run."""
    try:
        command = _load(name, plugins)
    except ImportError as exc:
        sub_parser.set_defaults(_import_error=str(exc))
        return
    command.add_arguments(sub_parser)
    sub_parser.set_defaults(_run=command.run)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Build the argument parser.

    Args:
        command: the subcommand about to run: only its module is imported. ``None`` imports
            every subcommand's module and registers all their options.

    Returns:
        The parser; a parsed subcommand carries ``_run`` (its ``run`` function) or
        ``_import_error`` (why it is unavailable).
    """
    parser = argparse.ArgumentParser(
        prog="twiliocore",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_VersionAction, help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("version", help="print the version")
    # Only a plugin, or the list of every command, needs the installed entry points.
    plugins = {} if command in _BUILTIN else _plugins()
    helps = {name: help_text for name, (_, help_text, _) in _BUILTIN.items()}
    helps.update({name: help_text for name, (help_text, _) in _FROM_EXTRAS.items()})
    for name, entry_point in plugins.items():
        helps.setdefault(name, f"provided by {entry_point.value}")
    for name, help_text in helps.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        if command is None or command == name:
            _register(sub_parser, name, plugins)
    return parser


class _VersionAction(argparse.Action):
    """``--version``: imports the package (and its compiled core) only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        from twiliocore import __version__

        print(f"twiliocore {__version__}")
        parser.exit()


def _unavailable(command: str, reason: str) -> int:
    """Say why ``command`` cannot run and how to install it; returns the exit status."""
    print(f"twiliocore {command}: unavailable: {reason}", file=sys.stderr)
    extra = _extra(command)
    if extra is not None and f"twiliocore[{extra}]" not in reason:
        print(f"install it with: pip install 'twiliocore[{extra}]'", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``twiliocore`` console script; returns the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = next((arg for arg in arguments if not arg.startswith("-")), None)
    parser = build_parser(command or "")
    # Options of an unavailable subcommand are unknown: its reason is printed, not a usage error.
    args, unknown = parser.parse_known_args(arguments)
    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "version":
        from twiliocore import __version__

        print(__version__)
        return 0
    import_error: str | None = getattr(args, "_import_error", None)
    if import_error is not None:
        return _unavailable(args.command, import_error)
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    run: Callable[[argparse.Namespace], int] = args._run
    try:
        return int(run(args))
    except ModuleNotFoundError as exc:
        # A dependency of an extra that is not installed (the service imports its web stack
        # when it starts); a missing module of twiliocore itself is a bug and propagates.
        if _extra(args.command) is None or (exc.name or "twiliocore").startswith("twiliocore"):
            raise
        return _unavailable(args.command, str(exc))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
