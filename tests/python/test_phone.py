from __future__ import annotations

import random
import threading

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from twiliocore import InvalidPhoneNumber, to_e164
from twiliocore.phone import (
    NumberInfo,
    PhoneResult,
    metadata_version,
    normalize_address,
    number_info,
    to_e164_many,
)

# "+1 415 555 2671" in full-width characters (U+FF0B, U+FF10..U+FF19).
FULL_WIDTH = "".join(chr(ord(c) + 0xFEE0) if c != " " else c for c in "+1 415 555 2671")


@pytest.mark.parametrize(
    ("number", "region", "expected"),
    [
        ("(415) 555-2671", "US", "+14155552671"),
        ("415.555.2671", "US", "+14155552671"),
        ("415 555 2671", "us", "+14155552671"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("00 44 20 7946 0958", "DE", "+442079460958"),
        ("00 44 20 7946 0958", "FR", "+442079460958"),
        ("011 44 20 7946 0958", "US", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("tel:+1-415-555-2671", "US", "+14155552671"),
        ("tel:415-555-2671;phone-context=+1", "US", "+14155552671"),
        (FULL_WIDTH, "US", "+14155552671"),
        ("+٩٧١٥٠١٢٣٤٥٦٧", "US", "+971501234567"),
        ("1-800-FLOWERS", "US", "+18003569377"),
        ("+44 20 7946 0958", "", "+442079460958"),
    ],
)
def test_notations(number: str, region: str, expected: str) -> None:
    assert to_e164(number, region) == expected


@pytest.mark.parametrize(
    ("number", "region", "reason"),
    [
        ("hello", "US", "not a number"),
        ("", "US", "not a number"),
        ("+999 1234 5678", "US", "invalid country code"),
        ("12345", "ZZ", "invalid country code"),
        ("+1 415 55", "US", "too short"),
        ("555-2671", "US", "too short"),
        ("+1 415 555 2671 1234 5678 9", "US", "too long"),
        ("+1 123 555 2671", "US", "not valid for its region"),
    ],
)
def test_rejections_carry_reason(number: str, region: str, reason: str) -> None:
    with pytest.raises(InvalidPhoneNumber) as info:
        to_e164(number, region)
    assert info.value.reason == reason
    assert info.value.number == number
    assert isinstance(info.value, ValueError)


def test_lenient_policy() -> None:
    assert to_e164("+1 123 555 2671", strict=False) == "+11235552671"
    with pytest.raises(InvalidPhoneNumber, match="too short"):
        to_e164("555-2671", strict=False)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="region"):
        to_e164("4155552671", "XX")
    with pytest.raises(TypeError, match="number"):
        to_e164(4155552671)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"numbers\[1\]"):
        to_e164_many(["4155552671", None])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="region"):
        to_e164_many(["4155552671"], "USA")


def test_many_keeps_order_and_accepts_any_iterable() -> None:
    inputs = ("(415) 555-2671", "bogus", "+442079460958", "+1 415 55")
    results = to_e164_many(iter(inputs))
    assert results == [
        PhoneResult("(415) 555-2671", "+14155552671", None),
        PhoneResult("bogus", None, "not a number"),
        PhoneResult("+442079460958", "+442079460958", None),
        PhoneResult("+1 415 55", None, "too short"),
    ]
    assert to_e164_many([]) == []
    assert to_e164_many(n for n in ["+1 123 555 2671"])[0].reason == "not valid for its region"
    assert to_e164_many(["+1 123 555 2671"], strict=False)[0].e164 == "+11235552671"


def test_normalize_address() -> None:
    assert normalize_address("whatsapp:(415) 555-2671") == "whatsapp:+14155552671"
    assert normalize_address("WhatsApp:+44 20 7946 0958") == "whatsapp:+442079460958"
    assert normalize_address("415-555-2671") == "+14155552671"
    with pytest.raises(InvalidPhoneNumber) as info:
        normalize_address("whatsapp:+1 415 55")
    assert info.value.number == "whatsapp:+1 415 55"
    assert info.value.reason == "too short"


def test_number_info() -> None:
    assert number_info("+44 7400 123456") == NumberInfo("+447400123456", "mobile", "GB", 44)
    assert number_info("020 7946 0958", "GB").type == "fixed_line"
    assert number_info("(415) 555-2671") == NumberInfo(
        "+14155552671", "fixed_line_or_mobile", "US", 1
    )
    assert number_info("1-800-555-0199").type == "toll_free"
    assert number_info("+1 123 555 2671", strict=False).type == "unknown"
    with pytest.raises(InvalidPhoneNumber):
        number_info("+1 123 555 2671")


def test_metadata_version_matches_phonenumbers_package() -> None:
    assert metadata_version() == phonenumbers.__version__ == "8.12.57"


# --- agreement with the phonenumbers package (same 8.12.57 metadata) ------------------

TYPES = [
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.MOBILE,
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.SHARED_COST,
    PhoneNumberType.VOIP,
    PhoneNumberType.PERSONAL_NUMBER,
    PhoneNumberType.PAGER,
    PhoneNumberType.UAN,
    PhoneNumberType.VOICEMAIL,
]


def generated_cases() -> list[tuple[str, str]]:
    """(input, region) pairs from phonenumbers' example numbers, in several notations,
    plus one digit removed / added to produce invalid ones."""
    cases: list[tuple[str, str]] = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in TYPES:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            national = phonenumbers.format_number(example, PhoneNumberFormat.NATIONAL)
            international = phonenumbers.format_number(example, PhoneNumberFormat.INTERNATIONAL)
            e164 = phonenumbers.format_number(example, PhoneNumberFormat.E164)
            cases += [
                (national, region),
                (international, "US"),
                (e164, "ZZ"),
                (e164[:-1], region),
                (e164 + "7", region),
            ]
    return cases


CASES = generated_cases()


def reference(number: str, region: str, *, strict: bool) -> str | None:
    try:
        parsed = phonenumbers.parse(number, None if region == "ZZ" else region)
    except phonenumbers.NumberParseException:
        return None
    if strict:
        accepted = phonenumbers.is_valid_number(parsed)
    else:
        accepted = (
            phonenumbers.is_possible_number_with_reason(parsed)
            == phonenumbers.ValidationResult.IS_POSSIBLE
        )
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164) if accepted else None


@pytest.mark.parametrize("strict", [True, False])
def test_agrees_with_phonenumbers_package(strict: bool) -> None:
    assert len(CASES) > 1000
    mismatches = []
    for number, region in CASES:
        ours = to_e164_many([number], region, strict=strict)[0].e164
        theirs = reference(number, region, strict=strict)
        if ours != theirs:
            mismatches.append((number, region, ours, theirs))
    assert mismatches == []
    accepted = sum(1 for n, r in CASES if reference(n, r, strict=strict) is not None)
    assert 0 < accepted < len(CASES)  # the set holds both valid and invalid numbers


def north_american_e164_cases() -> list[str]:
    """Inputs of the shape the core builds without a generic parse ("+1" and ten digits,
    first 2-9), their near misses (first digit 0 or 1, nine or eleven digits), and every
    example number's national significant number put under +1."""
    rng = random.Random(20261123)
    cases = ["+1" + "".join(rng.choices("0123456789", k=10)) for _ in range(6000)]
    cases += ["+1" + "".join(rng.choices("0123456789", k=k)) for k in (9, 11) for _ in range(300)]
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in TYPES:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                cases.append("+1" + phonenumbers.national_significant_number(example))
    return cases


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize("region", ["US", "CA", "ZZ"])
def test_north_american_e164_agrees_with_phonenumbers_package(strict: bool, region: str) -> None:
    cases = north_american_e164_cases()
    ours = [r.e164 for r in to_e164_many(cases, region, strict=strict)]
    theirs = [reference(number, region, strict=strict) for number in cases]
    mismatches = [(n, a, b) for n, a, b in zip(cases, ours, theirs, strict=True) if a != b]
    assert mismatches == []
    accepted = sum(1 for t in theirs if t is not None)
    assert 0 < accepted < len(cases)  # both valid and invalid numbers


def test_many_agrees_with_single() -> None:
    by_region: dict[str, list[str]] = {}
    for number, region in CASES[:600]:
        by_region.setdefault(region, []).append(number)
    for region, numbers in by_region.items():
        batch = to_e164_many(numbers, region)
        for number, result in zip(numbers, batch, strict=True):
            try:
                single: str | None = to_e164(number, region)
            except InvalidPhoneNumber:
                single = None
            assert result.e164 == single


def test_shared_between_threads() -> None:
    numbers = ["(415) 555-2671", "+44 20 7946 0958", "bogus"] * 300
    expected = to_e164_many(numbers)
    results: list[bool] = []

    def work() -> None:
        results.append(to_e164_many(numbers) == expected)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 8


def test_docs_examples_run() -> None:
    import doctest
    from pathlib import Path

    import twiliocore.phone

    root = Path(__file__).resolve().parents[2]
    result = doctest.testfile(str(root / "docs" / "phone.md"), module_relative=False)
    assert result.attempted > 0
    assert result.failed == 0
    assert doctest.testmod(twiliocore.phone).failed == 0
