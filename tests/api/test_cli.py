"""``twiliocore serve`` (what ``make run`` runs) and the docs/service.md walkthrough."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from twiliocore import cli

DOCS = Path(__file__).resolve().parents[2] / "docs" / "service.md"


def _walkthrough() -> str:
    text = DOCS.read_text(encoding="utf-8")
    block = text.split("<!-- walkthrough:start -->")[1].split("<!-- walkthrough:end -->")[0]
    return block.strip().removeprefix("```sh").removesuffix("```")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_help():
    out = subprocess.run(
        [sys.executable, "-m", "twiliocore", "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert "--host" in out and "--port" in out


def test_serve_runs_in_mock_mode_and_sends(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "ADMIN_"))}
    env.pop("DATABASE_URL", None)
    env.pop("SECRET_KEY", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "twiliocore", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    assert process.stdout is not None
    reader = threading.Thread(target=lambda: output.extend(process.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while not any("service ready" in line for line in list(output)):
            assert process.poll() is None, "".join(output)
            assert time.monotonic() < deadline, "".join(output)
            time.sleep(0.05)
        text = "".join(output)
        assert "MOCK MODE" in text
        password = re.search(r"generated password (\S+)", text).group(1)
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, trust_env=False, timeout=30) as client:
            assert client.get("/api/health").json()["mode"] == "mock"
            token = client.post(
                "/api/auth/login", json={"email": "admin@example.com", "password": password}
            ).json()["access_token"]
            sent = client.post(
                "/api/sms/send",
                headers={"Authorization": f"Bearer {token}"},
                json={"to_number": "+14155552671", "message": "Hello from twiliocore"},
            )
        assert sent.status_code == 201, sent.text
        assert sent.json()["message_sid"].startswith("SM")
        # The curl walkthrough of docs/service.md, exactly as written (but on this port).
        walkthrough = _walkthrough().replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        run = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", walkthrough],
            env={**env, "PASSWORD": password},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 0, run.stderr
        sent_line, history_line = [line for line in run.stdout.splitlines() if line.strip()]
        assert json.loads(sent_line)["success"] is True
        history = json.loads(history_line)["data"][0]
        assert history["body"] == "Hello from twiliocore"
        assert history["status"] == "delivered"
        assert (tmp_path / "data" / "twiliocore.db").exists()
        assert (tmp_path / "data" / "secret_key").exists()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)
            reader.join(10)
            process.stdout.close()
    assert process.returncode == 0, "".join(output)


def test_serve_on_a_taken_port_says_so_before_anything_starts(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "ADMIN_"))}
    env.pop("DATABASE_URL", None)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "twiliocore", "serve", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert f"cannot listen on 127.0.0.1:{port}: the port is taken" in result.stderr
    assert "ready" not in output
    # Nothing started: no database was created, no admin password generated.
    assert not (tmp_path / "data").exists()


def test_serve_is_the_services_entry_point() -> None:
    from importlib.metadata import entry_points

    (serve,) = [ep for ep in entry_points(group=cli.ENTRY_POINT_GROUP) if ep.name == "serve"]
    assert serve.value == "twiliocore_api.cli"
    args = cli.build_parser("serve").parse_args(["serve", "--port", "8123"])
    assert args.port == 8123 and args._run is serve.load().run


def test_a_missing_dependency_of_an_extra_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import twiliocore_api.cli

    def run(args: object) -> int:
        raise ModuleNotFoundError("No module named 'uvicorn'", name="uvicorn")

    monkeypatch.setattr(twiliocore_api.cli, "run", run)
    assert cli.main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "twiliocore serve: unavailable: No module named 'uvicorn'" in err
    assert "pip install 'twiliocore[api]'" in err

    def broken(args: object) -> int:
        raise ModuleNotFoundError("No module named 'twiliocore_api.gone'", name="twiliocore_api")

    monkeypatch.setattr(twiliocore_api.cli, "run", broken)
    with pytest.raises(ModuleNotFoundError):
        cli.main(["serve"])
