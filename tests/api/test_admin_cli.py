"""``twiliocore admin``: the real command as a subprocess on a temp SQLite database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy import inspect
from twiliocore_api import crud
from twiliocore_api.core.config import Settings
from twiliocore_api.core.db import make_engine, make_session_factory

OPS_PASSWORD = "ops-password-123"


def admin(
    directory: Path, *args: str, url: str | None = None, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    """``twiliocore admin ARGS`` in ``directory`` (``--database-url url`` when given)."""
    # Nothing of the caller's service configuration leaks in (Settings reads these names).
    environment = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    environment.update(env)
    options = ["--database-url", url] if url is not None else []
    return subprocess.run(
        [sys.executable, "-m", "twiliocore", "admin", *options, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        cwd=directory,
        timeout=120,
    )


def _users(url: str) -> list[dict[str, object]]:
    result = admin(Path("."), "list", "--json", url=url)
    assert result.returncode == 0, result.stderr
    users: list[dict[str, object]] = json.loads(result.stdout)
    return users


def test_create_on_a_fresh_database_then_list_and_refuse_a_duplicate(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    created = admin(
        tmp_path,
        "create",
        "--email",
        "Ops@Example.com",
        "--role",
        "admin",
        "--password-stdin",
        url=url,
        stdin=OPS_PASSWORD + "\n",
    )
    assert created.returncode == 0, created.stderr
    assert "created admin ops@example.com" in created.stdout
    assert OPS_PASSWORD not in created.stdout + created.stderr

    engine = make_engine(url)
    assert "users" in inspect(engine).get_table_names()  # the migrations ran first
    with make_session_factory(engine)() as session:
        assert crud.authenticate(session, email="ops@example.com", password=OPS_PASSWORD)
    engine.dispose()

    (user,) = _users(url)
    assert user["id"] == 1
    assert user["email"] == "ops@example.com"
    assert user["role"] == "admin"
    assert user["active"] is True
    assert isinstance(user["created"], str) and user["created"].startswith("20")

    duplicate = admin(
        tmp_path, "create", "--email", "OPS@example.com", "--password-stdin", url=url, stdin="x"
    )
    assert duplicate.returncode == 1
    assert "--email" in duplicate.stderr and "ops@example.com exists already" in duplicate.stderr
    assert len(_users(url)) == 1

    table = admin(tmp_path, "list", url=url)
    assert table.returncode == 0, table.stderr
    assert "ops@example.com" in table.stdout and "admin" in table.stdout


def test_the_configured_database_and_a_generated_password(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'configured.db'}"
    # No --database-url: DATABASE_URL, as the service reads it; standard input is no terminal.
    created = admin(tmp_path, "create", "--email", "user@example.com", DATABASE_URL=url)
    assert created.returncode == 0, created.stderr
    (line,) = [x for x in created.stdout.splitlines() if x.startswith("generated password")]
    password = line.rsplit(" ", 1)[-1]
    assert len(password) >= 20
    assert created.stdout.count(password) == 1 and password not in created.stderr
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        user = crud.authenticate(session, email="user@example.com", password=password)
        assert user is not None and user.role == "user"
    engine.dispose()


def test_passwords_follow_the_api_rules_and_emails_are_checked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rules.db'}"
    short = admin(
        tmp_path, "create", "--email", "a@example.com", "--password-stdin", url=url, stdin="tiny7\n"
    )
    assert short.returncode == 1
    assert "the password is refused: String should have at least 8 characters" in short.stderr
    assert "tiny7" not in short.stdout + short.stderr
    empty = admin(tmp_path, "create", "--email", "a@example.com", "--password-stdin", url=url)
    assert empty.returncode == 1 and "--password-stdin" in empty.stderr
    bad = admin(tmp_path, "create", "--email", "not-an-address", url=url)
    assert bad.returncode == 1
    assert "--email: value is not a valid email address" in bad.stderr
    assert _users(url) == []


def test_reset_password_logs_the_user_out_everywhere(tmp_path: Path, run_service) -> None:
    with run_service(tmp_path) as svc:
        email, password = svc.settings.ADMIN_EMAIL, svc.settings.ADMIN_PASSWORD
        assert password is not None
        old_token = svc.login()
        with svc.client(old_token) as client:
            assert client.get("/api/users/me").status_code == 200
        new_password = "brand-new-password-456"
        reset = admin(
            tmp_path,
            "reset-password",
            "--email",
            email.upper(),
            "--password-stdin",
            url=svc.settings.DATABASE_URL,
            stdin=new_password + "\n",
        )
        assert reset.returncode == 0, reset.stderr
        assert new_password not in reset.stdout + reset.stderr
        with svc.client(old_token) as client:
            assert client.get("/api/users/me").status_code == 401
        with httpx.Client(base_url=svc.url, trust_env=False) as client:
            old = client.post(
                "/api/auth/login", json={"email": email, "password": password.get_secret_value()}
            )
            assert old.status_code == 401
            new = client.post("/api/auth/login", json={"email": email, "password": new_password})
            assert new.status_code == 200, new.text
            token = new.json()["access_token"]
            me = client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
            assert me.status_code == 200 and me.json()["email"] == email


def test_reset_password_of_an_unknown_email(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'unknown.db'}"
    result = admin(
        tmp_path,
        "reset-password",
        "--email",
        "nobody@example.com",
        "--password-stdin",
        url=url,
        stdin="whatever-password\n",
    )
    assert result.returncode == 1
    assert "no user with e-mail nobody@example.com" in result.stderr
    assert "Traceback" not in result.stderr


def _at_a_terminal(url: str, email: str, *answers: str) -> tuple[str, int]:
    """Run ``admin reset-password`` on a pseudo-terminal, typing ``answers`` at its prompts."""
    import pty
    import time

    pid, fd = pty.fork()
    if pid == 0:  # the child: the command, its standard input a terminal
        environment = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
        argv = [sys.executable, "-m", "twiliocore", "admin", "--database-url", url]
        os.execve(sys.executable, [*argv, "reset-password", "--email", email], environment)
    out = b""
    for prompt, answer in zip((b"New password: ", b"Repeat it: "), answers, strict=True):
        deadline = time.monotonic() + 60
        while prompt not in out and time.monotonic() < deadline:
            out += os.read(fd, 1024)
        os.write(fd, answer.encode() + b"\n")
    while True:
        try:
            chunk = os.read(fd, 1024)
        except OSError:  # the child has exited and closed the terminal
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    return out.decode(), os.waitstatus_to_exitcode(status)


def test_reset_password_typed_twice_at_a_terminal(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tty.db'}"
    created = admin(
        tmp_path, "create", "--email", "t@example.com", "--password-stdin", url=url, stdin="x" * 9
    )
    assert created.returncode == 0, created.stderr
    out, code = _at_a_terminal(url, "t@example.com", "typed-password-1", "typed-password-2")
    assert code == 1 and "the two passwords typed differ" in out
    out, code = _at_a_terminal(url, "t@example.com", "typed-password-1", "typed-password-1")
    assert code == 0, out
    assert "typed-password-1" not in out  # not echoed, not printed
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        assert crud.authenticate(session, email="t@example.com", password="typed-password-1")
    engine.dispose()
