"""Turn the wheel `pip wheel` built into a self-contained one in dist/ (`make dist`).

1. `auditwheel repair` copies every shared library the extension and the phone backend load
   that the manylinux policy does not allow (libcurl, OpenSSL, libphonenumber, protobuf, ICU
   with its data library, abseil, and what they load in turn) into `twiliocore.libs/`,
   renamed with a hash, and points the binaries at them. `--plat auto` takes the most
   compatible policy the bundled libraries' symbol versions allow on this machine.
2. Each bundled library is traced back to the Debian package that installed it (`dpkg -S`);
   that package's copyright file, the common licence texts it refers to, and a
   `THIRD_PARTY_NOTICES` listing library, package, version and licence go into
   `twiliocore/_vendor_licenses/`. The licence named for each package is in LICENSES below,
   checked by hand against its copyright file: a library from a package not listed there
   stops the build until someone has read its terms.
   The header-only libraries compiled into `_core` (pybind11, nlohmann/json) are listed there
   too, with their licence texts, as their licences ask of a binary.
3. `wheel pack` writes the wheel again with its RECORD rebuilt.

Usage: python scripts/dist.py WHEEL OUTDIR
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

LIBS_DIR = "twiliocore.libs"
LICENSES_DIR = Path("twiliocore") / "_vendor_licenses"
# auditwheel names a copy `<name before the first dot>-<8 hex digits>.<rest>`.
GRAFTED = re.compile(r"^(?P<stem>[^.]+)-[0-9a-f]{8}(?P<rest>\..+)$")
COMMON_LICENSE = re.compile(r"/usr/share/common-licenses/([A-Za-z0-9+_-]+(?:\.[0-9]+)*)")

# The licence of the library each Debian package ships, read from its copyright file (which
# often covers a whole source tree: tools, tests and docs under other terms).
LICENSES = {
    "libabsl20220623": "Apache-2.0",
    "libbrotli1": "MIT",
    # Upstream's NOTICE puts lib/et (com_err) under an MIT-style licence; Debian's file gives
    # GPL-2 for the whole e2fsprogs tree.
    "libcom-err2": "MIT-style per e2fsprogs' NOTICE (Debian's file: GPL-2 for the tree)",
    "libcurl4": "curl",
    "libffi8": "MIT",
    "libgmp10": "LGPL-3.0-or-later OR GPL-2.0-or-later",
    "libgnutls30": "LGPL-2.1-or-later",
    "libgssapi-krb5-2": "MIT (Kerberos)",
    "libhogweed6": "LGPL-3.0-or-later OR GPL-2.0-or-later",
    "libicu72": "ICU (Unicode licence)",
    "libidn2-0": "LGPL-3.0-or-later OR GPL-2.0-or-later",
    "libk5crypto3": "MIT (Kerberos)",
    "libkeyutils1": "LGPL-2.0-or-later",
    "libkrb5-3": "MIT (Kerberos)",
    "libkrb5support0": "MIT (Kerberos)",
    "libldap-2.5-0": "OLDAP-2.8",
    "libnettle8": "LGPL-3.0-or-later OR GPL-2.0-or-later",
    "libnghttp2-14": "MIT",
    "libp11-kit0": "BSD-3-Clause",
    "libphonenumber8": "Apache-2.0",
    "libprotobuf32": "BSD-3-Clause",
    "libpsl5": "MIT",
    "librtmp1": "LGPL-2.1-or-later",
    "libsasl2-2": "BSD-4-Clause (Carnegie Mellon)",
    "libssh2-1": "BSD-3-Clause",
    "libssl3": "Apache-2.0",
    "libtasn1-6": "LGPL-2.1-or-later",
    "libunistring2": "LGPL-3.0-or-later OR GPL-2.0-or-later",
    "libzstd1": "BSD-3-Clause OR GPL-2.0-only",
}


@dataclass(frozen=True)
class Bundled:
    """One library in twiliocore.libs/ and where it came from."""

    name: str  # the file in twiliocore.libs/
    package: str  # the Debian package that installed it
    version: str
    source_package: str
    license: str
    size: int


def run(*args: str | Path) -> str:
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True).stdout


def library_dirs() -> list[Path]:
    """The directories the dynamic loader searches, from its cache (`ldconfig -p`)."""
    dirs: dict[Path, None] = {}
    for line in run("ldconfig", "-p").splitlines():
        if "=>" in line:
            dirs[Path(line.split("=>")[1].strip()).parent] = None
    return list(dirs)


def owner(path: Path) -> str:
    """The Debian package that installed `path` (usr-merged paths tried both ways)."""
    real = path.resolve()
    candidates = [real]
    text = str(real)
    if text.startswith("/usr/lib/"):
        candidates.append(Path(text.removeprefix("/usr")))
    elif text.startswith("/lib/"):
        candidates.append(Path("/usr" + text))
    for candidate in candidates:
        result = subprocess.run(["dpkg", "-S", str(candidate)], capture_output=True, text=True)
        if result.returncode == 0:
            # "libcurl4:amd64: /usr/lib/x86_64-linux-gnu/libcurl.so.4.8.0"
            return result.stdout.split(": ", 1)[0].split(":")[0]
    sys.exit(f"dist: no Debian package owns {real}: cannot tell its licence")


def trace(libs: Path) -> list[Bundled]:
    dirs = library_dirs()
    bundled = []
    for lib in sorted(libs.iterdir()):
        match = GRAFTED.match(lib.name)
        if match is None:
            sys.exit(f"dist: {lib.name} is not named as auditwheel names a bundled copy")
        original = match["stem"] + match["rest"]
        found = next((d / original for d in dirs if (d / original).exists()), None)
        if found is None:
            sys.exit(f"dist: {lib.name}: {original} is in none of {[str(d) for d in dirs]}")
        package = owner(found)
        if package not in LICENSES:
            sys.exit(
                f"dist: {original} comes from {package}, whose licence has not been checked: "
                f"read /usr/share/doc/{package}/copyright and add it to LICENSES in {__file__}"
            )
        version, source = run(
            "dpkg-query", "-W", "-f=${Version}\t${source:Package}", package
        ).split("\t")
        bundled.append(
            Bundled(
                lib.name,
                package,
                version,
                source,
                LICENSES[package],
                lib.stat().st_size,
            )
        )
    return bundled


def compiled_in(dest: Path) -> list[str]:
    """Copies the licences of the header-only libraries in `_core`; their notice lines."""
    pybind11 = metadata.distribution("pybind11")
    (licence,) = [f for f in pybind11.files or () if f.name == "LICENSE"]
    shutil.copyfile(Path(str(licence.locate())), dest / "pybind11.LICENSE")
    json_version = run("dpkg-query", "-W", "-f=${Version}", "nlohmann-json3-dev")
    shutil.copyfile(
        "/usr/share/doc/nlohmann-json3-dev/copyright", dest / "nlohmann-json3-dev.copyright"
    )
    return [
        f"pybind11 {pybind11.version} (PyPI): BSD-3-Clause, pybind11.LICENSE",
        f"nlohmann/json, Debian nlohmann-json3-dev {json_version}: MIT, "
        "nlohmann-json3-dev.copyright",
    ]


def write_licenses(bundled: list[Bundled], dest: Path) -> None:
    (dest / "common-licenses").mkdir(parents=True)
    common: set[str] = set()
    for item in bundled:
        copyright_file = Path("/usr/share/doc") / item.package / "copyright"
        text = copyright_file.read_text(encoding="utf-8", errors="replace")
        (dest / f"{item.package}.copyright").write_text(text, encoding="utf-8")
        common.update(COMMON_LICENSE.findall(text))
    for name in sorted(common):
        path = Path("/usr/share/common-licenses") / name
        if path.is_file():
            shutil.copyfile(path, dest / "common-licenses" / name)

    width = max(len(item.name) for item in bundled)
    lines = [
        "twiliocore bundles the shared libraries below in twiliocore.libs/ (renamed by",
        "auditwheel). Each was copied from the Debian package named, whose copyright file",
        "is <package>.copyright here; the licence texts those files refer to are in",
        "common-licenses/. The corresponding sources are Debian's source packages of the",
        "versions given.",
        "",
        f"{'library':<{width}}  package (source package) version: licence",
    ]
    for item in bundled:
        lines.append(
            f"{item.name:<{width}}  {item.package} ({item.source_package}) "
            f"{item.version}: {item.license}"
        )
    lines += ["", "Compiled into twiliocore/_core (header-only):", *compiled_in(dest)]
    (dest / "THIRD_PARTY_NOTICES").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    wheel, outdir = Path(sys.argv[1]), Path(sys.argv[2])
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        run("auditwheel", "repair", "--plat", "auto", "-w", tmp / "repaired", wheel)
        (repaired,) = (tmp / "repaired").glob("*.whl")
        run(sys.executable, "-m", "wheel", "unpack", "-d", tmp / "unpacked", repaired)
        (root,) = (tmp / "unpacked").iterdir()
        bundled = trace(root / LIBS_DIR)
        write_licenses(bundled, root / LICENSES_DIR)
        outdir.mkdir(exist_ok=True)
        for old in outdir.glob("twiliocore-*.whl"):
            old.unlink()
        run(sys.executable, "-m", "wheel", "pack", "-d", outdir, root)
    (result,) = outdir.glob("twiliocore-*.whl")
    print(f"dist: {result} ({result.stat().st_size / 1e6:.1f} MB)")
    for item in bundled:
        print(f"  {item.name:<48} {item.size / 1e6:6.2f} MB  {item.package} {item.version}")


if __name__ == "__main__":
    main()
