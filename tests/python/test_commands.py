"""The ``twiliocore`` command, run as a user runs it (subprocesses) against the emulator."""

from __future__ import annotations

import datetime as dt
import fcntl
import io
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
import uuid
from typing import Any

import pytest
import twiliocore
from twiliocore import Client
from twiliocore.bulk_cli import _Progress, read_numbers

COMMANDS = ("send", "bulk", "status", "messages", "emulator", "serve", "admin", "version")


def _env(emulator: Any | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWILIO_")}
    if emulator is not None:
        env.update(
            TWILIO_ACCOUNT_SID=emulator.account_sid,
            TWILIO_AUTH_TOKEN=emulator.auth_token,
            TWILIO_API_BASE_URL=emulator.url,
            TWILIO_PHONE_NUMBER="+15005550006",
            TWILIO_WHATSAPP_NUMBER="+14155238886",
        )
    env.update(extra)
    return env


def cli(
    *args: str, emulator: Any | None = None, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "twiliocore", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=_env(emulator, **env),
        timeout=120,
    )


def _sent_with(emulator: Any, body: str) -> list[dict[str, Any]]:
    return [m for m in emulator.messages() if m["body"] == body]


# -------------------------------------------------------------------- help, version, config


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_is_plain_text(command):
    result = cli(*([command] if command else []), "--help")
    assert result.returncode == 0, result.stderr
    assert "``" not in result.stdout
    assert not re.search(r":[a-z]+:`", result.stdout), result.stdout


def test_help_lists_the_commands():
    out = cli("--help").stdout
    for command in COMMANDS:
        assert f"    {command}" in out


def test_version_option():
    result = cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"twiliocore {twiliocore.__version__}"


@pytest.mark.parametrize(
    "args",
    [
        ["bulk", "--to-file", "-", "--message", "x"],
        ["status", "SM" + "0" * 32],
        ["messages"],
        ["send", "--to", "+14155552671", "--body", "x"],
    ],
)
def test_missing_account_names_the_options_and_variables(args):
    result = cli(*args, stdin="+14155552671\n", TWILIO_PHONE_NUMBER="+15005550006")
    assert result.returncode == 2
    assert "--account-sid/--auth-token" in result.stderr
    assert "TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN" in result.stderr
    assert "username" not in result.stderr and "account_sid=" not in result.stderr


def test_account_options_replace_the_environment(emulator):
    body = f"options {uuid.uuid4().hex}"
    result = cli(
        "bulk",
        "--to-file",
        "-",
        "--message",
        body,
        "--account-sid",
        emulator.account_sid,
        "--auth-token",
        emulator.auth_token,
        "--base-url",
        emulator.url,
        "--from",
        "+15005550006",
        stdin="+14155550301\n",
    )
    assert result.returncode == 0, result.stderr
    assert len(_sent_with(emulator, body)) == 1


def test_missing_sender_names_the_option(emulator):
    env = {"TWILIO_PHONE_NUMBER": "", "TWILIO_WHATSAPP_NUMBER": ""}
    sms = cli("bulk", "--to-file", "-", "--message", "x", emulator=emulator, stdin="1\n", **env)
    assert sms.returncode == 2
    assert "no SMS sender: pass --from or set TWILIO_PHONE_NUMBER" in sms.stderr
    wa = cli("send", "--to", "+1415555", "--body", "x", "--whatsapp", emulator=emulator, **env)
    assert wa.returncode == 2
    assert "no WhatsApp sender: pass --from or set TWILIO_WHATSAPP_NUMBER" in wa.stderr


# -------------------------------------------------------------------- bulk


def test_bulk_from_a_csv_with_a_phone_column(emulator, tmp_path):
    body = f"csv {uuid.uuid4().hex}"
    numbers = tmp_path / "numbers.csv"
    numbers.write_text(
        "name,phone\n"
        "Ann,+14155550310\n"
        'Bob,"(415) 555-0311"\n'
        "Cy,12\n"  # invalid
        "Di,+14155550310\n"  # duplicate
        "Ed,+15005550009\n",  # Twilio refuses it: 21614
        encoding="utf-8",
    )
    result = cli("bulk", "--to-file", str(numbers), "--message", body, emulator=emulator)
    assert result.returncode == 1, result.stderr
    counts = dict(
        line.split()[:2]
        for line in result.stdout.splitlines()
        if line.split() and line.split()[0] in ("sent", "failed", "invalid", "duplicates")
    )
    assert counts == {"sent": "2", "failed": "1", "invalid": "1", "duplicates": "1"}
    assert re.search(r"^duration\s+\d+\.\d+ s$", result.stdout, re.M)
    assert re.search(r"^rate\s+\d+\.\d+ msg/s$", result.stdout, re.M)
    assert re.search(r"^\+15005550009\s+failed\s+21614\s", result.stdout, re.M)
    assert re.search(r"^12\s+invalid\s", result.stdout, re.M)
    assert sorted(m["to"] for m in _sent_with(emulator, body)) == ["+14155550310", "+14155550311"]


def test_bulk_from_stdin_as_json(emulator):
    body = f"stdin {uuid.uuid4().hex}"
    numbers = "".join(f"+1415555{n:04d}\n" for n in range(400, 430))
    result = cli(
        "bulk", "--to-file", "-", "--message", body, "--json", emulator=emulator, stdin=numbers
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["cancelled"] is False
    assert answer["summary"]["sent"] == 30
    assert answer["summary"]["failed"] == answer["summary"]["invalid"] == 0
    assert answer["sent_per_second"] > 0
    sids = {r["message_sid"] for r in answer["results"]}
    assert sids == {m["sid"] for m in _sent_with(emulator, body)}


def test_bulk_whatsapp_with_media(emulator):
    body = f"wa {uuid.uuid4().hex}"
    result = cli(
        "bulk",
        "--to-file",
        "-",
        "--message",
        body,
        "--whatsapp",
        "--media-url",
        "https://example.com/a.jpg",
        emulator=emulator,
        stdin="to\n+447400123456\n",
    )
    assert result.returncode == 0, result.stderr
    (sent,) = _sent_with(emulator, body)
    assert sent["to"] == "whatsapp:+447400123456"
    assert sent["from"] == "whatsapp:+14155238886"
    assert emulator.message(sent["sid"]).media_urls == ["https://example.com/a.jpg"]


def test_bulk_rejects_what_it_cannot_read(emulator, tmp_path):
    missing = cli(
        "bulk", "--to-file", str(tmp_path / "nope.csv"), "--message", "x", emulator=emulator
    )
    assert missing.returncode == 2
    assert "--to-file: cannot read" in missing.stderr
    column = cli(
        "bulk",
        "--to-file",
        "-",
        "--message",
        "x",
        "--column",
        "mobile",
        emulator=emulator,
        stdin="phone\n+14155550100\n",
    )
    assert column.returncode == 2
    assert "--column: no column 'mobile'" in column.stderr
    empty = cli("bulk", "--to-file", "-", "--message", "x", emulator=emulator, stdin="\n\n")
    assert empty.returncode == 2
    assert "no numbers" in empty.stderr


def test_ctrl_c_cancels_the_bulk_cleanly(emulator, tmp_path):
    body = f"cancel {uuid.uuid4().hex}"
    numbers = tmp_path / "numbers.txt"
    numbers.write_text("".join(f"+1415556{n:04d}\n" for n in range(200)), encoding="utf-8")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "twiliocore",
            "bulk",
            "--to-file",
            str(numbers),
            "--message",
            body,
            "--mps",
            "5",
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(emulator),
    )
    deadline = time.monotonic() + 30
    while not _sent_with(emulator, body):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    answer = json.loads(out)
    assert answer["cancelled"] is True
    summary = answer["summary"]
    assert summary["cancelled"] > 0
    assert summary["sent"] + summary["cancelled"] == 200
    # What the summary calls sent is exactly what reached Twilio, and nothing goes on after.
    time.sleep(0.5)
    assert len(_sent_with(emulator, body)) == summary["sent"]


def test_bulk_progress_bar_on_a_terminal(emulator):
    pytest.importorskip("tqdm")
    body = f"tty {uuid.uuid4().hex}"
    primary, secondary = pty.openpty()
    # A terminal 120 columns wide (a new pseudo-terminal has no size, and no room for a bar).
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    numbers = "".join(f"+1415557{n:04d}\n" for n in range(40))
    process = subprocess.Popen(
        [sys.executable, "-m", "twiliocore", "bulk", "--to-file", "-", "--message", body],
        stdin=subprocess.PIPE,
        stdout=secondary,
        stderr=secondary,
        env=_env(emulator),
    )
    os.close(secondary)
    assert process.stdin is not None
    process.stdin.write(numbers.encode())
    process.stdin.close()
    output = b""
    while True:
        ready, _, _ = select.select([primary], [], [], 30)
        assert ready, output.decode(errors="replace")
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    os.close(primary)
    assert process.wait(30) == 0
    text = output.decode(errors="replace")
    assert "40/40" in text and "msg" in text
    assert re.search(r"sent\s+40", text)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_progress_line_without_tqdm(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # as if the cli extra were not installed
    stream = _Terminal()
    progress = _Progress(10, stream, enabled=True)
    counters = {"sent": 3, "failed": 1, "invalid": 1, "duplicates": 0, "unknown": 0}
    progress.update({**counters, "cancelled": 0})
    progress.close()
    assert stream.getvalue().startswith("\r5/10 done: 3 sent, 1 failed, 1 invalid, ")
    assert stream.getvalue().endswith(" msg/s\n")
    quiet = io.StringIO()  # not a terminal: no progress at all
    silent = _Progress(10, quiet, enabled=True)
    silent.update({**counters, "cancelled": 0})
    silent.close()
    assert quiet.getvalue() == ""


@pytest.mark.parametrize(
    ("text", "column", "numbers"),
    [
        ("+14155550100\n+14155550101\n", None, ["+14155550100", "+14155550101"]),
        ("name;number\nA;+1 415 555 0100\n", None, ["+1 415 555 0100"]),
        ("To\n+14155550100\n\n", None, ["+14155550100"]),
        ("name,mobile\nA,+14155550100\n", "Mobile", ["+14155550100"]),
        ("name,mobile\nA,+14155550100\n", None, ["A"]),
        ("+14155550100,Ann\n+14155550101,Bob\n", None, ["+14155550100", "+14155550101"]),
    ],
)
def test_read_numbers(text, column, numbers):
    assert read_numbers(io.StringIO(text), column) == numbers


# -------------------------------------------------------------------- status, messages


def _client(emulator: Any) -> Client:
    return Client(emulator.account_sid, emulator.auth_token, base_url=emulator.url)


def test_status_shows_the_error_of_an_undelivered_message(emulator):
    with _client(emulator) as client:
        sid = client.messages.create(to="+15005550010", from_="+15005550006", body="hi").sid
    deadline = time.monotonic() + 20
    while emulator.message(sid).status != "undelivered":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    human = cli("status", sid, emulator=emulator)
    assert human.returncode == 0, human.stderr
    fields = {line[:15].strip(): line[15:].strip() for line in human.stdout.splitlines()[1:]}
    assert fields["sid"] == sid
    assert fields["status"] == "undelivered"
    assert fields["error code"] == "30003"
    assert fields["error message"] not in ("", "-")
    as_json = json.loads(cli("status", sid, "--json", emulator=emulator).stdout)
    assert (as_json["sid"], as_json["status"], as_json["error_code"]) == (sid, "undelivered", 30003)


def test_status_of_an_unknown_message(emulator):
    result = cli("status", "SM" + "0" * 32, emulator=emulator)
    assert result.returncode == 1
    assert "HTTP 404, error 20404" in result.stderr
    assert "Traceback" not in result.stderr


def test_messages_lists_recent_messages_with_filters(fresh_emulator):
    with _client(fresh_emulator) as client:
        for n, to in enumerate(["+14155550320", "+14155550321", "+14155550320"]):
            client.messages.create(to=to, from_="+15005550006", body=f"listed {n}")
    table = cli("messages", "--limit", "2", emulator=fresh_emulator)
    assert table.returncode == 0, table.stderr
    header, *rows = table.stdout.splitlines()
    assert header.split() == ["SID", "DATE", "DIRECTION", "FROM", "TO", "STATUS", "ERROR", "BODY"]
    assert len(rows) == 2
    listed = json.loads(cli("messages", "--json", emulator=fresh_emulator).stdout)
    assert sorted(m["body"] for m in listed) == ["listed 0", "listed 1", "listed 2"]
    to = json.loads(
        cli("messages", "--json", "--to", "+14155550321", emulator=fresh_emulator).stdout
    )
    assert [m["body"] for m in to] == ["listed 1"]
    sender = cli("messages", "--json", "--from", "+15005550006", emulator=fresh_emulator)
    assert len(json.loads(sender.stdout)) == 3
    today = dt.datetime.now(dt.timezone.utc).date()
    same_day = cli("messages", "--json", "--date-sent", today.isoformat(), emulator=fresh_emulator)
    assert len(json.loads(same_day.stdout)) == 3
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    later = cli("messages", "--json", "--sent-after", tomorrow, emulator=fresh_emulator)
    assert json.loads(later.stdout) == []
    bad = cli("messages", "--date-sent", "yesterday", emulator=fresh_emulator)
    assert bad.returncode == 2
    assert "--date-sent" in bad.stderr and "YYYY-MM-DD" in bad.stderr


# -------------------------------------------------------------------- emulator


def test_emulator_prints_lines_a_shell_can_export():
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "twiliocore",
            "emulator",
            "--port",
            "0",
            "--log-level",
            "warning",
            "--auth-token",
            "a token; with $pecial chars",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        assert process.stdout is not None
        exports = []
        for line in process.stdout:
            if line.startswith("export "):
                exports.append(line)
            if line.startswith("Inspect:"):
                break
        script = "".join(exports) + 'printf "%s\\n" "$TWILIO_AUTH_TOKEN" "$TWILIO_PHONE_NUMBER"'
        shell = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
        assert shell.stdout.splitlines() == ["a token; with $pecial chars", "+15005550006"]
        assert [line.split("=")[0] for line in exports] == [
            "export TWILIO_API_BASE_URL",
            "export TWILIO_ACCOUNT_SID",
            "export TWILIO_AUTH_TOKEN",
            "export TWILIO_PHONE_NUMBER",
            "export TWILIO_WHATSAPP_NUMBER",
        ]
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=15)
    assert process.returncode == 0
