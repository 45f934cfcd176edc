"""The HTTP engine from Python: sync and async requests, errors, cancel, Ctrl-C, exit."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from twiliocore import _core, errors


class _Server:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.delay = 0.0
        self.url = ""


@pytest.fixture
def server() -> Iterator[_Server]:
    state = _Server()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            state.requests.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body,
                    "client": self.client_address,
                }
            )
            if state.delay:
                time.sleep(state.delay)
            payload = b'{"ok": true}'
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Retry-After", "2")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass

        do_GET = _handle
        do_POST = _handle

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.fixture
def engine() -> Iterator[_core.Engine]:
    eng = _core.Engine(timeout=10.0)
    yield eng
    eng.shutdown()


def test_sync_post_round_trip_with_auth(server: _Server, engine: _core.Engine) -> None:
    response = engine.request(
        "POST",
        server.url + "/p?x=1",
        headers=[("Content-Type", "application/x-www-form-urlencoded")],
        body=b"A=1&B=%2B",
        username="ACuser",
        password="s3cret",
    )
    assert response.status == 200
    assert response.body == b'{"ok": true}'
    assert response.header("retry-after") == "2"
    assert response.header("Content-Type") == "application/json"
    assert response.method == "POST"
    request = server.requests[0]
    assert request["path"] == "/p?x=1"
    assert request["body"] == b"A=1&B=%2B"
    expected = "Basic " + base64.b64encode(b"ACuser:s3cret").decode()
    assert request["headers"]["authorization"] == expected
    assert request["headers"]["user-agent"].startswith("twiliocore/")
    assert "s3cret" not in repr(response)


def test_sequential_requests_reuse_one_connection(server: _Server, engine: _core.Engine) -> None:
    for _ in range(5):
        assert engine.request("GET", server.url + "/r").status == 200
    assert engine.stats()["connections_opened"] == 1
    assert len({r["client"] for r in server.requests}) == 1


def test_connection_refused_is_transport_error() -> None:
    engine = _core.Engine()
    with pytest.raises(errors.TransportError) as info:
        engine.request("GET", "http://127.0.0.1:1/x", username="AC1", password="tok3n")
    assert info.value.stage == "connect"
    assert info.value.never_sent
    assert str(info.value).startswith("connection refused: http://127.0.0.1:1/x")
    assert "tok3n" not in str(info.value)
    engine.shutdown()


def test_slow_answer_is_timeout(server: _Server, engine: _core.Engine) -> None:
    server.delay = 2.0
    with pytest.raises(errors.Timeout) as info:
        engine.request("GET", server.url + "/slow", timeout=0.2)
    assert not isinstance(info.value, errors.ConnectTimeout)
    assert info.value.stage == "receive"


def test_async_request(server: _Server, engine: _core.Engine) -> None:
    async def main() -> list[int]:
        responses = await asyncio.gather(
            *(engine.request_async("GET", f"{server.url}/a/{i}") for i in range(20))
        )
        return [r.status for r in responses]

    assert asyncio.run(main()) == [200] * 20
    assert engine.stats()["in_flight"] == 0


def test_async_error_raises_translated_exception(engine: _core.Engine) -> None:
    async def main() -> None:
        await engine.request_async("GET", "http://127.0.0.1:1/x")

    with pytest.raises(errors.TransportError):
        asyncio.run(main())


def test_cancelling_the_awaitable_cancels_the_transfer(
    server: _Server, engine: _core.Engine
) -> None:
    server.delay = 5.0

    async def main() -> None:
        task = asyncio.ensure_future(engine.request_async("GET", server.url + "/hang"))
        while not server.requests:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    deadline = time.monotonic() + 5
    while engine.stats()["in_flight"] and time.monotonic() < deadline:
        time.sleep(0.01)
    stats = engine.stats()
    assert stats["in_flight"] == 0
    assert stats["failed"] == 1  # completed as cancelled, not answered


def test_ctrl_c_interrupts_a_sync_wait_and_cancels(server: _Server, engine: _core.Engine) -> None:
    server.delay = 5.0

    def interrupt() -> None:
        while not server.requests:
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        engine.request("GET", server.url + "/hang")
    deadline = time.monotonic() + 5
    while engine.stats()["in_flight"] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert engine.stats()["in_flight"] == 0


def test_shutdown_then_request_is_cancelled(server: _Server) -> None:
    engine = _core.Engine()
    engine.shutdown()
    engine.shutdown()
    assert not engine.running
    with pytest.raises(errors.Cancelled):
        engine.request("GET", server.url + "/late")


def test_bad_timeout_names_the_field() -> None:
    with pytest.raises(ValueError, match="timeout"):
        _core.Engine(timeout=-1.0)


def test_user_agent_names_versions() -> None:
    agent = _core.default_user_agent()
    assert agent.startswith("twiliocore/")
    assert ") libcurl/" in agent


def test_interpreter_exit_with_requests_in_flight_does_not_hang(server: _Server) -> None:
    server.delay = 30.0
    script = textwrap.dedent(
        f"""
        import asyncio, threading
        from twiliocore import _core
        engine = _core.Engine(timeout=60.0)
        url = {server.url!r} + "/hang"

        def sync_send():
            try:
                engine.request("GET", url)
            except Exception:
                pass

        threading.Thread(target=sync_send, daemon=True).start()

        async def main():
            futures = [engine.request_async("GET", url) for _ in range(5)]
            await asyncio.sleep(0.3)
            return futures

        loop = asyncio.new_event_loop()
        pending = loop.run_until_complete(main())
        print("exiting", flush=True)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "exiting" in result.stdout
    assert "Traceback" not in result.stderr


# --- TLS and HTTP/2 against nginx --------------------------------------------------------

NGINX_CONF = """\
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port} ssl http2;
        ssl_certificate {tmp}/server.pem;
        ssl_certificate_key {tmp}/server.key;
        location / {{ return 200 '{{"ok": true}}'; }}
    }}
}}
"""


def _make_certs(directory: Path) -> Path:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "twiliocore test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (directory / "ca.pem").write_bytes(ca_cert.public_bytes(pem))
    (directory / "server.pem").write_bytes(cert.public_bytes(pem))
    (directory / "server.key").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return directory / "ca.pem"


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """nginx with TLS + HTTP/2 on loopback: (base URL, CA file)."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(nginx):
        pytest.skip("nginx not installed (scripts/setup.sh installs nginx-light)")
    tmp = tmp_path_factory.mktemp("nginx")
    ca = _make_certs(tmp)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp / "nginx.conf").write_text(NGINX_CONF.format(tmp=tmp, port=port))
    proc = subprocess.Popen(
        [nginx, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-e", str(tmp / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("nginx did not start: " + (tmp / "error.log").read_text())
            time.sleep(0.05)
    yield f"https://127.0.0.1:{port}", str(ca)
    proc.send_signal(signal.SIGQUIT)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_tls_verified_with_ca_bundle_speaks_http2(tls_server: tuple[str, str]) -> None:
    url, ca = tls_server
    engine = _core.Engine(ca_bundle=ca)
    response = engine.request("GET", url + "/x")
    assert response.status == 200
    assert response.http_version == 20
    engine.shutdown()


def test_untrusted_certificate_is_tls_error(tls_server: tuple[str, str]) -> None:
    url, _ = tls_server
    engine = _core.Engine()
    with pytest.raises(errors.TLSError) as info:
        engine.request("GET", url + "/x")
    assert info.value.stage == "tls"
    assert info.value.never_sent
    engine.shutdown()


def test_insecure_switch_skips_verification(tls_server: tuple[str, str]) -> None:
    url, _ = tls_server
    engine = _core.Engine(insecure=True)
    assert engine.request("GET", url + "/x").status == 200
    engine.shutdown()


def test_concurrent_requests_multiplex_on_one_http2_connection(
    tls_server: tuple[str, str],
) -> None:
    url, ca = tls_server
    engine = _core.Engine(ca_bundle=ca)

    async def burst() -> list[int]:
        responses = await asyncio.gather(
            *(engine.request_async("GET", f"{url}/m/{i}") for i in range(50))
        )
        return [r.http_version for r in responses]

    assert asyncio.run(burst()) == [20] * 50
    assert engine.stats()["connections_opened"] == 1
    assert asyncio.run(burst()) == [20] * 50
    assert engine.stats()["connections_opened"] == 1  # warm: no new connection
    engine.shutdown()
