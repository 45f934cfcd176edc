"""Warnings through the standard ``logging`` module, imported when the first one is logged.

``import twiliocore`` does not load ``logging`` (with ``traceback``, ``tokenize`` and
``string`` it is about 1 MB of a process's memory); the loggers and their names are the usual
``twiliocore.*`` ones, configured as any other.
"""

from __future__ import annotations


def warning(logger: str, message: str, *args: object) -> None:
    """Log ``message % args`` at WARNING on the logger named ``logger``."""
    import logging

    logging.getLogger(logger).warning(message, *args)
