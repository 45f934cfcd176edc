"""A throwaway PostgreSQL server on loopback (Debian's ``postgresql`` binaries).

Shared by the service tests (``tests/api/conftest.py``) and the service benchmark
(``bench/service.py``): ``initdb`` into a temporary directory, then ``postgres`` on a free
port with ``fsync=off`` (the data is thrown away). The server refuses to run as root, so as
root it runs as ``nobody``.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from bench.fake_twilio import free_port

__all__ = ["TempPostgres", "binary", "start"]


def binary(name: str) -> str | None:
    """The path of a PostgreSQL server program (on PATH or under /usr/lib/postgresql)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


@dataclass
class TempPostgres:
    """A running server; ``url`` is its SQLAlchemy base URL (no database name)."""

    url: str
    port: int
    root: Path
    process: subprocess.Popen[bytes]

    def create_database(self, prefix: str = "t_") -> str:
        """Create a new, empty database; returns its SQLAlchemy URL."""
        import psycopg

        name = prefix + uuid.uuid4().hex[:12]
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return f"{self.url}/{name}"

    def stop(self) -> None:
        """Stop the server and delete its files."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> TempPostgres:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(*settings: str) -> TempPostgres:
    """Start a server; ``settings`` are extra ``name=value`` server settings.

    Raises:
        FileNotFoundError: ``initdb`` or ``postgres`` is not installed.
        ImportError: ``psycopg`` is not installed.
    """
    initdb, postgres = binary("initdb"), binary("postgres")
    if not initdb or not postgres:
        raise FileNotFoundError("PostgreSQL server binaries (initdb, postgres) are not installed")
    import psycopg

    # Not under a private temp dir: the server may run as nobody.
    root = Path(tempfile.mkdtemp(prefix="twiliocore-pg-"))
    data, sockets = root / "data", root / "run"
    sockets.mkdir()
    prefix: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        prefix = ["runuser", "-u", "nobody", "--"]
        for path in (root, sockets):
            shutil.chown(path, "nobody")
    subprocess.run(
        [*prefix, initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = free_port()
    extra = [arg for setting in settings for arg in ("-c", setting)]
    server = subprocess.Popen(
        [
            *prefix,
            postgres,
            "-D",
            str(data),
            "-p",
            str(port),
            "-k",
            str(sockets),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            *extra,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres").close()
            break
        except psycopg.OperationalError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                shutil.rmtree(root, ignore_errors=True)
                raise
            time.sleep(0.1)
    return TempPostgres(
        url=f"postgresql+psycopg://postgres@127.0.0.1:{port}", port=port, root=root, process=server
    )
