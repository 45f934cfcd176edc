"""``import twiliocore`` loads only what sending needs.

A program that sends (a worker, a cron job) pays for every module the package imports,
in memory and start-up time: modules that only some calls need are imported by those calls.
"""

from __future__ import annotations

import subprocess
import sys

# Modules the package imports only where they are used: asyncio (the *_async calls), email
# (date parsing), logging (warnings), json (dict parameters), datetime (date parameters),
# typing and re (the result types: twiliocore._types), hashlib (never: the body hash is
# computed by the core), threading, functools and collections (a lock comes from _thread; the
# collections.abc names are annotations, and runtime checks test for the method), enum (the
# signature algorithm is passed by name).
DEFERRED = (
    "asyncio",
    "email",
    "logging",
    "json",
    "datetime",
    "typing",
    "re",
    "hashlib",
    "threading",
    "functools",
    "collections",
    "enum",
)


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return set(out.split())


def test_import_loads_no_deferred_module() -> None:
    loaded = _modules_after("import twiliocore")
    assert "twiliocore._core" in loaded
    assert sorted(m for m in DEFERRED if m in loaded) == []


def test_result_types_load_on_first_access() -> None:
    loaded = _modules_after(
        "import twiliocore.bulk, twiliocore.phone, sys\n"
        "assert 'typing' not in sys.modules\n"
        "from twiliocore.bulk import BulkResult, BulkSummary, Recipients\n"
        "assert 'str' in repr(Recipients)\n"
        "from twiliocore.phone import NumberInfo, PhoneResult\n"
        "assert PhoneResult('a', None, 'not a number').reason == 'not a number'\n"
        "assert BulkResult.__annotations__ and BulkSummary.__total__ is False\n"
        "assert twiliocore.phone.to_e164_many(['+14155552671'])[0] == "
        "PhoneResult('+14155552671', '+14155552671', None)\n"
        "try:\n"
        "    twiliocore.bulk.Missing\n"
        "except AttributeError as e:\n"
        "    assert 'Missing' in str(e)\n"
        "else:\n"
        "    raise AssertionError('no AttributeError')\n"
    )
    assert "typing" in loaded


def test_deferred_modules_load_where_used() -> None:
    loaded = _modules_after(
        "import datetime\n"
        "from twiliocore.client import serialize\n"
        "assert serialize(datetime.date(2026, 1, 2)) == ['2026-01-02']\n"
        "assert serialize({'a': 1}) == ['{\"a\": 1}']\n"
        "from twiliocore import RequestValidator\n"
        "assert RequestValidator('t').compute_hash('{}') == "
        "'44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a'\n"
        "assert not RequestValidator('t').validate('https://x/', {}, 'sig', 'MD5')\n"
    )
    assert {"json", "logging"} <= loaded
    assert "hashlib" not in loaded


def test_libphonenumber_loads_only_for_numbers_that_need_it() -> None:
    """`+1` E.164 numbers valid for the US and region checks never load libphonenumber."""
    code = (
        "import twiliocore\n"
        "from twiliocore.phone import to_e164_many\n"
        "def loaded():\n"
        "    return any('phonenumber' in line for line in open('/proc/self/maps'))\n"
        "assert to_e164_many(['+14155552671', '+12125551234'], region='gb')[0].e164 "
        "== '+14155552671'\n"
        "print(loaded())\n"
        "assert twiliocore.to_e164('020 7946 0958', region='GB') == '+442079460958'\n"
        "print(loaded())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert out.split() == ["False", "True"]
