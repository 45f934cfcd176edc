"""``twiliocore serve``: run the prestart step, then the REST service under uvicorn."""

from __future__ import annotations

import argparse
import logging

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the ``serve`` options."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="log level (info)",
    )


def run(args: argparse.Namespace) -> int:
    """Start the service; returns the exit status."""
    import uvicorn

    from twiliocore_api.core.config import load_settings
    from twiliocore_api.main import create_app
    from twiliocore_api.prestart import prestart

    logging.basicConfig(
        level=getattr(logging, str(args.log_level).upper()),
        format="%(levelname)-8s %(name)s: %(message)s",
    )
    settings = load_settings(SERVER_HOST=args.host, SERVER_PORT=args.port)
    prestart(settings)
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        proxy_headers=settings.TRUST_PROXY_HEADERS,
    )
    return 0
