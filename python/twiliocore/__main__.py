"""``python -m twiliocore``: the command-line interface."""

from twiliocore.cli import main

raise SystemExit(main())
