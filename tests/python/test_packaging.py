"""What ``pip install twiliocore`` gives without extras, and how subcommands plug in.

The wheel is built from this checkout (incrementally, in the build directory ``make build``
uses) and installed with ``--no-deps --no-index`` into a fresh virtualenv that sees none of
the test environment's packages: the library, ``Client`` and the CLI must work there, and the
emulator and the service must name the extra that provides them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from twiliocore import cli

ROOT = Path(__file__).resolve().parents[2]
WEB_STACK = ("starlette", "uvicorn", "fastapi", "multipart", "python_multipart")
SENDER = "+15005550006"
RECIPIENT = "+14155552671"


class BareVenv:
    """A virtualenv holding twiliocore's wheel and nothing else."""

    def __init__(self, path: Path) -> None:
        self.python = path / "bin" / "python"
        self.script = path / "bin" / "twiliocore"

    def run(self, *args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(arg) for arg in args], capture_output=True, text=True, timeout=120
        )
        assert not check or result.returncode == 0, result.stderr
        return result

    def python_c(self, code: str) -> str:
        return self.run(self.python, "-c", code).stdout


@pytest.fixture(scope="module")
def bare_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BareVenv]:
    build_dir = ROOT / "build" / "py"
    if not (build_dir / "CMakeCache.txt").exists():
        pytest.skip("no build/py to build the wheel from: run `make build` first")
    wheels = tmp_path_factory.mktemp("wheel")
    # The lock `make build` takes, so that the two never build in build/py at once.
    subprocess.run(
        [
            *("flock", str(ROOT / "build" / ".lock"), sys.executable, "-m", "pip", "wheel"),
            *("-q", "--no-deps", "--no-index", "--no-build-isolation"),
            *(f"-Cbuild-dir={build_dir}", "-w", str(wheels), str(ROOT)),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    path = tmp_path_factory.mktemp("bare") / "venv"
    venv.EnvBuilder(with_pip=False).create(path)
    (wheel,) = wheels.glob("twiliocore-*.whl")
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "--python", str(path / "bin" / "python")),
            *("install", "-q", "--no-deps", "--no-index", str(wheel)),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    yield BareVenv(path)
    shutil.rmtree(path, ignore_errors=True)


def test_bare_venv_has_no_web_stack(bare_venv: BareVenv) -> None:
    out = bare_venv.python_c(
        "import importlib.util\n"
        f"print([m for m in {WEB_STACK!r} if importlib.util.find_spec(m) is not None])"
    )
    assert out.strip() == "[]"


def test_library_imports_and_sends_without_web_stack(bare_venv: BareVenv, emulator: Any) -> None:
    code = (
        "import pathlib, sys, twiliocore\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in "
        f"{WEB_STACK!r} + ('importlib.metadata',)], sorted(sys.modules)\n"
        "root = pathlib.Path(twiliocore.__file__).parent\n"
        "for path in root.rglob('*.py'):\n"
        "    name = '.'.join(('twiliocore',) + path.relative_to(root).with_suffix('').parts)\n"
        "    if not name.startswith(('twiliocore.emulator', 'twiliocore.__main__')):\n"
        "        __import__(name.removesuffix('.__init__'))\n"
        "from twiliocore import Client\n"
        f"with Client({emulator.account_sid!r}, {emulator.auth_token!r}, "
        f"base_url={emulator.url!r}) as client:\n"
        f"    message = client.messages.create(to={RECIPIENT!r}, from_={SENDER!r}, body='bare')\n"
        "print(message.sid, message.status, message.body)\n"
    )
    sid, status, body = bare_venv.python_c(code).split()
    assert sid.startswith("SM") and status == "queued" and body == "bare"
    assert emulator.message(sid).body == "bare"


def test_cli_help_lists_every_command_without_web_stack(bare_venv: BareVenv) -> None:
    out = bare_venv.run(bare_venv.script, "--help").stdout
    for command in ("emulator", "send", "serve", "admin", "version"):
        assert f"    {command}" in out
    assert bare_venv.run(bare_venv.script, "send", "--help").stdout.count("--to") >= 1
    assert bare_venv.run(bare_venv.script, "version").stdout.strip() == "0.1.0"


@pytest.mark.parametrize(
    ("argv", "extra"),
    [
        (["emulator", "--port", "0"], "emulator"),
        (["serve", "--port", "0"], "api"),
        (["admin", "list"], "api"),
    ],
)
def test_commands_of_extras_name_the_extra(
    bare_venv: BareVenv, argv: list[str], extra: str
) -> None:
    result = bare_venv.run(bare_venv.script, *argv, check=False)
    assert result.returncode == 2, result.stderr
    assert f"twiliocore {argv[0]}: unavailable: " in result.stderr
    assert f"pip install 'twiliocore[{extra}]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_emulator_import_names_the_extra(bare_venv: BareVenv) -> None:
    for module in ("twiliocore.emulator", "twiliocore.emulator.state"):
        result = bare_venv.run(bare_venv.python, "-c", f"import {module}", check=False)
        assert result.returncode == 1
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("ImportError: the twiliocore emulator needs starlette, uvicorn")
        assert "pip install 'twiliocore[emulator]'" in last


def test_metadata_puts_the_web_stack_in_extras(bare_venv: BareVenv) -> None:
    out = bare_venv.python_c(
        "import importlib.metadata as m\n"
        "print('\\n'.join(m.requires('twiliocore')))\n"
        "print('|'.join(f'{e.name}={e.value}' for e in "
        "m.entry_points(group='twiliocore.commands')))\n"
    )
    *lines, entry_points = out.strip().splitlines()
    requirements = [Requirement(line) for line in lines]
    unconditional = [r.name for r in requirements if r.marker is None]
    assert unconditional == []

    def extras_of(name: str) -> set[str]:
        return {
            extra
            for r in requirements
            if r.name == name and r.marker is not None
            for extra in ("emulator", "api", "postgres")
            if r.marker.evaluate({"extra": extra})
        }

    for name in ("starlette", "uvicorn", "python-multipart"):
        assert extras_of(name) == {"emulator"}
    assert extras_of("fastapi") == {"api"}
    (self_requirement,) = [r for r in requirements if r.name == "twiliocore"]
    assert self_requirement.extras == {"emulator"}
    assert extras_of("twiliocore") == {"api"}
    assert set(entry_points.split("|")) == {
        "serve=twiliocore_api.cli",
        "admin=twiliocore_api.admin_cli",
    }


# The command line in-process: subcommands from entry points --------------------------------


def test_serve_without_the_service_installed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "_plugins", dict)
    assert cli.main(["serve", "--host", "127.0.0.1", "--port", "8000"]) == 2
    err = capsys.readouterr().err
    assert "serve: unavailable: no 'twiliocore.commands' entry point named 'serve'" in err
    assert "pip install 'twiliocore[api]'" in err


def test_admin_without_the_service_installed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "_plugins", dict)
    assert cli.main(["admin", "list", "--json"]) == 2
    err = capsys.readouterr().err
    assert "admin: unavailable: no 'twiliocore.commands' entry point named 'admin'" in err
    assert "pip install 'twiliocore[api]'" in err


def test_a_plugin_registers_a_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from importlib.metadata import EntryPoint

    # Any module with add_arguments(parser) and run(args) plugs in; sms_cli has both.
    plugin = EntryPoint(name="text", value="twiliocore.sms_cli", group=cli.ENTRY_POINT_GROUP)
    monkeypatch.setattr(cli, "_plugins", lambda: {"text": plugin})
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "    text" in capsys.readouterr().out
    assert cli.main(["text", "--to", RECIPIENT, "--body", "hi"]) == 2
    assert "TWILIO_ACCOUNT_SID" in capsys.readouterr().err
