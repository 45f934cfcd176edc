"""The HTTP engine from Python: sync and async requests, errors, cancel, Ctrl-C, exit."""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import signal
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
# The benchmarks' fake Twilio: nginx on loopback, TLS + HTTP/2 with a CA generated per run.
# Its GET-able paths are nginx's /_status page and the files under /_files/.

_BIG_PAGE = b"".join(b'{"sid": "SM%032d"},\n' % i for i in range(60_000))  # about 2.5 MB


@pytest.fixture(scope="module")
def nginx() -> Iterator[Any]:
    """The benchmarks' fake Twilio (bench/fake_twilio.py), with a large page under /_files/."""
    if not (shutil.which("nginx") or os.path.exists("/usr/sbin/nginx")):
        pytest.skip("nginx not installed (scripts/setup.sh installs nginx-light)")
    from bench import fake_twilio

    with fake_twilio.start() as server:
        (server.tmp / "files" / "page.json").write_bytes(_BIG_PAGE)
        yield server


@pytest.fixture(scope="module")
def tls_server(nginx: Any) -> tuple[str, str]:
    """nginx with TLS + HTTP/2 on loopback: (URL of a page answering 200, CA file)."""
    return nginx.https_url + "/_status", str(nginx.ca)


def test_ca_file_is_loaded_once_and_shared_by_every_connection(nginx: Any, tmp_path: Path) -> None:
    # Debian's libcurl also has a CA directory by default; with it, libcurl loads the CA file
    # again for every connection (0.9 MB each with the system bundle). The engine clears the
    # directory, so the store loaded for the first connection serves the next ones: after the
    # file is emptied, new connections (HTTP/1.1 only, one per request in flight) still verify.
    ca = tmp_path / "ca.pem"
    shutil.copyfile(nginx.ca, ca)
    url = nginx.https_h1_url + "/_files/page.json"  # megabytes: the requests overlap
    engine = _core.Engine(ca_bundle=str(ca))
    try:
        assert engine.request("GET", url).status == 200
        ca.write_text("")

        async def several() -> list[Any]:
            return await asyncio.gather(*(engine.request_async("GET", url) for _ in range(8)))

        responses = asyncio.run(several())
        assert [r.status for r in responses] == [200] * 8
        assert all(r.http_version == 11 for r in responses)
        assert engine.stats()["connections_opened"] > 1
    finally:
        engine.shutdown()


def test_new_connections_resume_the_tls_session_of_an_earlier_one(nginx: Any) -> None:
    # The engine's handles share one TLS session cache: after a first connection, the
    # connections opened for requests in flight at once resume its session instead of a full
    # handshake. /_session answers "r" on a resumed session, "." on a full one, and closes
    # the connection, so every request has one of its own. With a cache per handle, only the
    # handle of the first request could resume: never more than one "r" in a wave.
    # Over TLS 1.3, libcurl 7.88 with OpenSSL does not always resume the connections of a
    # wave that start after others of the wave have finished (curl's own --parallel does the
    # same; over TLS 1.2 every one resumes), so a loaded machine may see a wave with one "r":
    # each attempt is a fresh engine, and one wave with several is the proof.
    url = nginx.https_h1_url + "/_session"

    async def wave(engine: Any) -> list[bytes]:
        answers = await asyncio.gather(*(engine.request_async("GET", url) for _ in range(6)))
        return [answer.body for answer in answers]

    waves = []
    for _attempt in range(10):
        engine = _core.Engine(ca_bundle=str(nginx.ca))
        try:
            assert engine.request("GET", url).body == b"."
            bodies = asyncio.run(wave(engine))
            assert engine.stats()["connections_opened"] == 7
        finally:
            engine.shutdown()
        waves.append(bodies)
        if bodies.count(b"r") >= 2:
            break
    assert max(bodies.count(b"r") for bodies in waves) >= 2, waves


def test_http2_answers_far_larger_than_the_receive_buffer_arrive_whole(
    tls_server: tuple[str, str],
) -> None:
    # Each handle reads through a 4 KB buffer (http_engine.cpp): a list page of megabytes must
    # still arrive byte for byte over one multiplexed connection, several at once.
    url, ca = tls_server
    page_url = url.replace("/_status", "/_files/page.json")
    engine = _core.Engine(ca_bundle=ca)
    try:
        first = engine.request("GET", page_url)
        assert first.http_version == 20
        assert first.status == 200 and first.body == _BIG_PAGE

        async def several() -> list[Any]:
            return await asyncio.gather(*(engine.request_async("GET", page_url) for _ in range(4)))

        for response in asyncio.run(several()):
            assert response.status == 200 and response.body == _BIG_PAGE
        assert engine.stats()["connections_opened"] == 1
    finally:
        engine.shutdown()


def test_tls_verified_with_ca_bundle_speaks_http2(tls_server: tuple[str, str]) -> None:
    url, ca = tls_server
    engine = _core.Engine(ca_bundle=ca)
    response = engine.request("GET", url)
    assert response.status == 200
    assert response.http_version == 20
    engine.shutdown()


def test_untrusted_certificate_is_tls_error(tls_server: tuple[str, str]) -> None:
    url, _ = tls_server
    engine = _core.Engine()
    with pytest.raises(errors.TLSError) as info:
        engine.request("GET", url)
    assert info.value.stage == "tls"
    assert info.value.never_sent
    engine.shutdown()


def test_insecure_switch_skips_verification(tls_server: tuple[str, str]) -> None:
    url, _ = tls_server
    engine = _core.Engine(insecure=True)
    assert engine.request("GET", url).status == 200
    engine.shutdown()


def test_concurrent_requests_multiplex_on_one_http2_connection(
    tls_server: tuple[str, str],
) -> None:
    url, ca = tls_server
    engine = _core.Engine(ca_bundle=ca)

    async def burst() -> list[int]:
        responses = await asyncio.gather(*(engine.request_async("GET", url) for _ in range(50)))
        return [r.http_version for r in responses]

    assert asyncio.run(burst()) == [20] * 50
    assert engine.stats()["connections_opened"] == 1
    assert asyncio.run(burst()) == [20] * 50
    assert engine.stats()["connections_opened"] == 1  # warm: no new connection
    engine.shutdown()


def test_ssl_cert_file_is_the_trust_when_no_ca_bundle_is_given(
    tls_server: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # OpenSSL's (and Python's ssl) convention: without ca_bundle=, SSL_CERT_FILE names the CAs.
    url, ca = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", ca)
    engine = _core.Engine()
    try:
        assert engine.request("GET", url).status == 200
    finally:
        engine.shutdown()
    monkeypatch.setenv("SSL_CERT_FILE", "")  # set but empty: the system store, which lacks the CA
    engine = _core.Engine()
    try:
        with pytest.raises(errors.TLSError):
            engine.request("GET", url)
    finally:
        engine.shutdown()
