"""The self-contained wheel ``make dist`` writes: it works with no system library but glibc's.

``make dist`` runs once per module (its build directory, build/dist, is incremental: about
15 s when nothing changed, about 2 minutes from scratch). The wheel goes into a fresh
virtualenv that sees none of the test environment's packages. ``ldd`` on its two binaries
must resolve every library from the wheel's ``twiliocore.libs`` but those the manylinux
policy lets a wheel take from the system; then a process that imports twiliocore, parses
numbers with libphonenumber and sends through libcurl to the emulator must map curl,
libphonenumber, protobuf and ICU from ``twiliocore.libs``. Where the test runs as root with
``unshare``, that process runs with the system's copies of every bundled library replaced by
an empty file, so nothing can quietly fall back on them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import venv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# The first test builds the wheel: from scratch that takes a few minutes on a busy machine.
pytestmark = [pytest.mark.dist, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
# What a manylinux wheel may load from the system (auditwheel's policy whitelist, less the X11,
# GL and GLib libraries twiliocore has no use for), and the kernel's vDSO.
ALLOWED_FROM_SYSTEM = {
    "linux-vdso.so.1",
    "ld-linux-x86-64.so.2",
    "libc.so.6",
    "libm.so.6",
    "libmvec.so.1",
    "libpthread.so.0",
    "libdl.so.2",
    "librt.so.1",
    "libresolv.so.2",
    "libanl.so.1",
    "libnsl.so.1",
    "libutil.so.1",
    "libstdc++.so.6",
    "libgcc_s.so.1",
    "libatomic.so.1",
    "libz.so.1",
}
# auditwheel names a copy `<name before the first dot>-<8 hex digits>.<rest>`.
GRAFTED = re.compile(r"^(?P<stem>[^.]+)-[0-9a-f]{8}(?P<rest>\..+)$")
# The libraries the issue is about, by the stem of their file name.
MUST_BUNDLE = ("libcurl", "libphonenumber", "libprotobuf", "libicuuc", "libicui18n", "libicudata")
SENDER = "+15005550006"
RECIPIENT = "+14155552671"


@dataclass
class Installed:
    """The repaired wheel installed into a fresh virtualenv."""

    wheel: Path
    python: Path
    package: Path  # site-packages/twiliocore
    libs: Path  # site-packages/twiliocore.libs

    def binaries(self) -> list[Path]:
        return [*self.package.glob("_core*.so"), self.package / "libtwiliocore_phonenumber.so"]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    if importlib.util.find_spec("auditwheel") is None:
        pytest.skip("auditwheel is not installed here: scripts/setup.sh installs it into .venv")
    # Its own make, not a sub-make of `make test` (whose job server it could not reach).
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    made = subprocess.run(
        ["make", "-s", "dist"], cwd=ROOT, capture_output=True, text=True, env=env, timeout=900
    )
    assert made.returncode == 0, made.stdout + made.stderr
    (wheel,) = (ROOT / "dist").glob("twiliocore-*.whl")
    path = tmp_path_factory.mktemp("dist") / "venv"
    venv.EnvBuilder(with_pip=False).create(path)
    python = path / "bin" / "python"
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "--python", str(python)),
            *("install", "-q", "--no-deps", "--no-index", str(wheel)),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('platlib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    site = Path(purelib)
    yield Installed(wheel, python, site / "twiliocore", site / "twiliocore.libs")
    shutil.rmtree(path, ignore_errors=True)


def bundled_stems(libs: Path) -> dict[str, str]:
    """Stem of the original library ("libcurl") -> its original file name, for each copy."""
    stems = {}
    for lib in libs.iterdir():
        match = GRAFTED.match(lib.name)
        assert match is not None, f"{lib.name} is not named as auditwheel names a copy"
        stems[match["stem"]] = match["stem"] + match["rest"]
    return stems


def test_wheel_is_manylinux_and_bundles_the_libraries(installed: Installed) -> None:
    assert re.search(r"-manylinux_2_\d+_x86_64\.whl$", installed.wheel.name), installed.wheel
    stems = bundled_stems(installed.libs)
    assert set(MUST_BUNDLE) <= set(stems), sorted(stems)


def test_ldd_resolves_nothing_outside_the_wheel_but_what_the_policy_allows(
    installed: Installed,
) -> None:
    for binary in installed.binaries():
        out = subprocess.run(
            ["ldd", str(binary)],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "LD_LIBRARY_PATH": ""},
        ).stdout
        resolved = []
        for line in out.splitlines():
            # "libcurl-02fbea31.so.4.8.0 => /.../twiliocore.libs/libcurl-... (0x...)", or
            # "linux-vdso.so.1 (0x...)", or "/lib64/ld-linux-x86-64.so.2 (0x...)".
            name, _, target = line.strip().rsplit(" (0x", 1)[0].partition(" => ")
            assert target != "not found", f"{binary.name}: {line.strip()}"
            resolved.append((Path(name).name, Path(target or name).resolve()))
        assert resolved, out
        outside = [
            f"{name} => {path}"
            for name, path in resolved
            if path.parent != installed.libs and name not in ALLOWED_FROM_SYSTEM
        ]
        assert outside == [], f"{binary.name} takes from the system: {outside}"
    backend = installed.package / "libtwiliocore_phonenumber.so"
    out = subprocess.run(["ldd", str(backend)], capture_output=True, text=True).stdout
    for stem in ("libphonenumber", "libprotobuf", "libicuuc", "libicudata"):
        assert re.search(rf"{stem}-[0-9a-f]{{8}}\.\S* => \S*/twiliocore\.libs/", out), out


def system_copies(stems: dict[str, str]) -> list[Path]:
    """The files the bundled libraries were copied from (the loader's directories)."""
    multiarch = sysconfig.get_config_var("MULTIARCH") or "x86_64-linux-gnu"
    found = set()
    for directory in (Path("/usr/lib") / multiarch, Path("/lib") / multiarch):
        for stem in stems:
            found.update(p.resolve() for p in directory.glob(f"{stem}.so*"))
    return sorted(found)


def can_hide_files() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "mount", "--bind", "/dev/null", "/dev/null"],
        capture_output=True,
    )
    return probe.returncode == 0


# Runs in the fresh virtualenv: phone numbers through libphonenumber's metadata (the GB and IN
# numbers are not +1 numbers, so the backend library is loaded; full-width digits go through
# ICU), one send through libcurl to the emulator, then the shared objects the process maps.
CHILD = """
import json, sys, twiliocore
from twiliocore import phone
numbers = [phone.to_e164("020 7946 0958", "GB"), phone.to_e164("098765 43210", "IN"),
           phone.number_info("+919876543210").region,
           phone.to_e164("".join(chr(0xFF10 + int(d)) for d in "02079460958"), "GB")]
with twiliocore.Client() as client:
    message = client.messages.create(to=sys.argv[1], from_=sys.argv[2], body="from dist/")
maps = sorted({line.split(None, 5)[5].strip() for line in open("/proc/self/maps")
               if len(line.split(None, 5)) == 6 and ".so" in line})
print(json.dumps({"numbers": numbers, "sid": message.sid, "maps": maps}))
"""


def test_sends_and_parses_with_the_system_copies_hidden(
    installed: Installed, emulator: Any
) -> None:
    stems = bundled_stems(installed.libs)
    hidden = system_copies(stems)
    assert any(p.name.startswith("libcurl.so") for p in hidden), hidden
    command = [str(installed.python), "-c", CHILD, RECIPIENT, SENDER]
    if can_hide_files():
        mounts = " && ".join(f"mount --bind /dev/null {p}" for p in hidden)
        command = ["unshare", "-m", "--propagation", "private", "sh", "-c",
                   f'{mounts} && exec "$@"', "sh", *command]  # fmt: skip
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LD_LIBRARY_PATH": "",
        "TWILIO_ACCOUNT_SID": emulator.account_sid,
        "TWILIO_AUTH_TOKEN": emulator.auth_token,
        "TWILIO_API_BASE_URL": emulator.url,
    }
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["numbers"] == ["+442079460958", "+919876543210", "IN", "+442079460958"]
    assert emulator.message(report["sid"]).body == "from dist/"

    maps = [Path(p).resolve() for p in report["maps"]]
    for stem in MUST_BUNDLE:
        loaded = [p for p in maps if p.name.startswith(f"{stem}-") or p.name.startswith(f"{stem}.")]
        assert loaded, f"{stem} not mapped: {report['maps']}"
        assert all(p.parent == installed.libs for p in loaded), loaded
    from_system = [p for p in maps if p in hidden or p.name.split(".so")[0] in stems]
    assert [p for p in from_system if p.parent != installed.libs] == []


def test_licences_of_every_bundled_library_ship_in_the_wheel(installed: Installed) -> None:
    licences = installed.package / "_vendor_licenses"
    notices = (licences / "THIRD_PARTY_NOTICES").read_text(encoding="utf-8")
    rows = {}  # library -> (Debian package, licence)
    for line in notices.splitlines():
        fields = line.split()
        if fields and (installed.libs / fields[0]).is_file():
            rows[fields[0]] = (fields[1], line.split(": ", 1)[1])
    assert sorted(rows) == sorted(p.name for p in installed.libs.iterdir())
    for package, licence in rows.values():
        assert licence.strip(), package
        assert (licences / f"{package}.copyright").stat().st_size > 500, package

    def row(stem: str) -> tuple[str, str]:
        (found,) = [value for name, value in rows.items() if name.startswith(f"{stem}-")]
        return found

    assert row("libcurl") == ("libcurl4", "curl")
    assert row("libphonenumber")[1] == "Apache-2.0"
    icu_package, _ = row("libicuuc")
    assert "Unicode" in (licences / f"{icu_package}.copyright").read_text(encoding="utf-8")
    assert "Apache License" in (licences / "common-licenses" / "Apache-2.0").read_text()
    lgpl = (licences / "common-licenses" / "LGPL-2.1").read_text()
    assert "GNU LESSER GENERAL PUBLIC LICENSE" in lgpl
    assert "Redistribution and use" in (licences / "pybind11.LICENSE").read_text()
    assert "pybind11" in notices and "nlohmann/json" in notices
    assert (licences / "nlohmann-json3-dev.copyright").stat().st_size > 500
