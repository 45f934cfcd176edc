"""``twiliocore serve``: run the prestart step, then the REST service under uvicorn.

The listening socket is bound before anything else starts, so a port already in use
(a second ``make run``) is reported at once, with exit status 1, and never after the
start-up log has said "ready".
"""

from __future__ import annotations

import argparse
import errno
import logging
import socket
import sys

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


def _listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (as uvicorn binds it); ``OSError`` when it cannot be."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def run(args: argparse.Namespace) -> int:
    """Start the service; returns the exit status (1 when the address cannot be bound)."""
    try:
        sock = _listen(args.host, args.port)
    except OSError as exc:
        reason = "the port is taken" if exc.errno == errno.EADDRINUSE else exc.strerror or exc
        print(
            f"twiliocore serve: cannot listen on {args.host}:{args.port}: {reason}"
            " (is another twiliocore serve or `make run` running? choose another --port)",
            file=sys.stderr,
        )
        return 1
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
    config = uvicorn.Config(
        create_app(settings),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        proxy_headers=settings.TRUST_PROXY_HEADERS,
    )
    server = uvicorn.Server(config)
    with sock:
        try:
            server.run(sockets=[sock])
        except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it stopped on, as uvicorn.run
            pass
    # As uvicorn.run: a start-up that failed (the lifespan raised) is a failed run.
    return 0 if server.started else 3
