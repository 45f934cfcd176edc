from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from twiliocore import _core
from twiliocore.segments import SegmentInfo, count_segments, smart_encode

GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = "\f^{}\\[~]|€"


def test_empty_body_is_one_segment() -> None:
    assert count_segments("") == SegmentInfo("GSM-7", 1, 0, 0)


def test_full_gsm_alphabet() -> None:
    assert len(GSM_BASIC) == 127
    assert count_segments(GSM_BASIC) == SegmentInfo("GSM-7", 1, 127, 127)
    assert count_segments(GSM_EXTENSION) == SegmentInfo("GSM-7", 1, 20, 10)


def _digits(start: int, stop: int) -> str:
    return "".join(str(i % 10) for i in range(start, stop))


# Twilio's own Message Segment Calculator (github.com/TwilioDevEd/message-segment-calculator,
# tests/index.test.js and tests/segments.test.js): its published bodies and their counts.
@pytest.mark.parametrize(
    ("body", "encoding", "segments"),
    [
        ("{" + _digits(2, 160), "GSM-7", 1),  # an escape character at 160 septets
        ("{" + _digits(2, 161), "GSM-7", 2),
        ("😜" + _digits(2, 70), "UCS-2", 1),  # a surrogate pair at 70 code units
        ("😜" + _digits(2, 71), "UCS-2", 2),
        (_digits(1, 308), "GSM-7", 3),  # 307 septets: the third part holds one
        ("😜" + _digits(2, 135), "UCS-2", 3),  # 135 code units: the third part holds one
    ],
)
def test_twilio_segment_calculator_vectors(body: str, encoding: str, segments: int) -> None:
    info = count_segments(body)
    assert (info.encoding, info.num_segments) == (encoding, segments)


@pytest.mark.parametrize(
    ("length", "segments"),
    [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4), (1600, 11)],
)
def test_gsm7_boundaries(length: int, segments: int) -> None:
    info = count_segments("a" * length)
    assert info == SegmentInfo("GSM-7", segments, length, length)


@pytest.mark.parametrize(
    ("length", "segments"), [(70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)]
)
def test_ucs2_boundaries(length: int, segments: int) -> None:
    info = count_segments("ж" * length)
    assert info == SegmentInfo("UCS-2", segments, length, length)


def test_extension_char_at_single_limit() -> None:
    assert count_segments("{" * 80).num_segments == 1  # 160 septets
    assert count_segments("a" * 159 + "€") == SegmentInfo("GSM-7", 2, 161, 160)


def test_extension_char_not_split_across_segments() -> None:
    # 152 septets + '€' would straddle parts one and two: it moves whole to part two.
    assert count_segments("a" * 152 + "€" + "a" * 152) == SegmentInfo("GSM-7", 3, 306, 305)
    assert count_segments("a" * 151 + "€" + "a" * 153).num_segments == 2


def test_emoji_is_two_units_and_not_split() -> None:
    assert count_segments("😀") == SegmentInfo("UCS-2", 1, 2, 1)
    assert count_segments("😀" * 35).num_segments == 1
    assert count_segments("😀" * 36) == SegmentInfo("UCS-2", 2, 72, 36)
    assert count_segments("ж" * 66 + "😀" + "ж" * 66) == SegmentInfo("UCS-2", 3, 134, 133)


def test_single_non_gsm_char_switches_whole_body() -> None:
    info = count_segments("a" * 100 + "ç")  # only the capital Ç is GSM-7
    assert info == SegmentInfo("UCS-2", 2, 101, 101)
    assert count_segments("`").encoding == "UCS-2"


@pytest.mark.parametrize(
    ("public", "core"),
    [(count_segments, _core.count_segments), (smart_encode, _core.smart_encode)],
)
def test_rejects_bad_input(
    public: Callable[[str], object], core: Callable[[bytes], object]
) -> None:
    with pytest.raises(ValueError, match="body"):
        public("\ud800")
    with pytest.raises(TypeError, match="body"):
        public(b"abc")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="UTF-8"):
        core(b"\xff")
    with pytest.raises(ValueError, match="UTF-8"):
        core(b"\xe2\x80")  # truncated


def test_core_tuple_shape() -> None:
    assert _core.count_segments("hi") == ("GSM-7", 1, 2, 2)


def test_smart_encode_replaces_look_alikes() -> None:
    assert smart_encode("\u201cHi\u201d \u2014 it\u2019s 5\u00bd\u2026") == '"Hi" - it\'s 51/2...'
    assert smart_encode("a\u00a0b\u200bc\u3000d") == "a  bc  d"  # Unicode spaces, zero width
    # Fullwidth small letters are not in the table: the body stays UCS-2, unchanged.
    assert smart_encode("\uff28\uff49") == "\uff28\uff49"
    assert smart_encode("\uff28\uff29") == "HI"  # fullwidth capitals
    assert smart_encode("plain GSM-7 text") == "plain GSM-7 text"
    assert smart_encode("") == ""


def test_smart_encode_leaves_a_body_that_stays_ucs2() -> None:
    body = "\u201cHi\u201d \U0001f600"
    assert smart_encode(body) == body
    assert count_segments(body, smart_encoded=True) == count_segments(body)


def test_count_segments_smart_encoded() -> None:
    body = "\u201c" + "a" * 70 + "\u201d \u2014 " + "b" * 75  # 150 characters
    assert count_segments(body) == SegmentInfo("UCS-2", 3, 150, 150)
    assert count_segments(body, smart_encoded=True) == SegmentInfo("GSM-7", 1, 150, 150)
    assert count_segments(body, smart_encoded=False) == count_segments(body)
    # The ellipsis becomes three characters: 158 + 3 septets is two parts.
    assert count_segments("a" * 158 + "\u2026", smart_encoded=True) == SegmentInfo(
        "GSM-7", 2, 161, 161
    )


def reference_count(body: str) -> SegmentInfo:
    """Twilio's rules written out plainly, independent of the C++ implementation."""
    if all(c in GSM_BASIC or c in GSM_EXTENSION for c in body):
        costs = [2 if c in GSM_EXTENSION else 1 for c in body]
        encoding, single, part = "GSM-7", 160, 153
    else:
        costs = [2 if ord(c) > 0xFFFF else 1 for c in body]
        encoding, single, part = "UCS-2", 70, 67
    units = sum(costs)
    if units <= single:
        return SegmentInfo(encoding, 1, units, len(body))
    segments, used = 1, 0
    for cost in costs:
        if used + cost > part:
            segments, used = segments + 1, 0
        used += cost
    return SegmentInfo(encoding, segments, units, len(body))


@pytest.mark.parametrize("seed", range(20))
def test_agrees_with_reference_on_random_bodies(seed: int) -> None:
    rng = random.Random(seed)
    # The dense alphabets put extension characters and emoji on part boundaries often.
    alphabets = [GSM_BASIC, GSM_BASIC + GSM_EXTENSION, "ab€{", GSM_BASIC + "жç✓", "😀🎉ж"]
    for _ in range(50):
        alphabet = rng.choice(alphabets)
        body = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 700)))
        assert count_segments(body) == reference_count(body), body


def test_docs_examples_run() -> None:
    import doctest
    from pathlib import Path

    import twiliocore.segments

    root = Path(__file__).resolve().parents[2]
    result = doctest.testfile(str(root / "docs" / "segments.md"), module_relative=False)
    assert result.attempted > 0
    assert result.failed == 0
    assert doctest.testmod(twiliocore.segments).failed == 0
