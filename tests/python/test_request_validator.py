from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import threading
from collections.abc import Iterator, Mapping

import pytest
from multidict import MultiDict
from starlette.datastructures import FormData
from twilio.request_validator import RequestValidator as TwilioRequestValidator
from twilio.request_validator import get_signature_algorithm as twilio_get_signature_algorithm
from twiliocore import RequestValidator
from twiliocore.request_validator import HMAC_SHA1, HMAC_SHA256, get_signature_algorithm

TOKEN = "12345"
EXAMPLE_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
EXAMPLE_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+12349013030",
    "Digits": "1234",
    "From": "+12349013030",
    "To": "+18005551212",
}
EXAMPLE_SIGNATURE = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="  # Twilio's docs, "Validating requests"


def reference(token: str, url: str, pairs: list[tuple[str, str]]) -> str:
    """Twilio's algorithm written out with the standard library."""
    data = url + "".join(name + value for name, value in sorted(set(pairs)))
    digest = hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@pytest.fixture
def validator() -> RequestValidator:
    return RequestValidator(TOKEN)


def test_twilio_docs_example(validator: RequestValidator) -> None:
    assert validator.compute_signature(EXAMPLE_URL, EXAMPLE_PARAMS) == EXAMPLE_SIGNATURE
    assert validator.validate(EXAMPLE_URL, EXAMPLE_PARAMS, EXAMPLE_SIGNATURE)
    assert reference(TOKEN, EXAMPLE_URL, list(EXAMPLE_PARAMS.items())) == EXAMPLE_SIGNATURE


def test_repeated_params_every_shape(validator: RequestValidator) -> None:
    pairs = [("MediaUrl", "b"), ("MediaUrl", "a"), ("MediaUrl", "b"), ("Body", "hi")]
    url = "https://example.com/sms"
    expected = reference(TOKEN, url, pairs)
    assert expected == "legjwigEnDCjs+joNetNs8tRF9k="  # hard-coded in signature_test.cpp

    class QueryDictLike(Mapping[str, str]):
        """Django's QueryDict shape: getlist(), item access gives the last value."""

        def __init__(self, items: list[tuple[str, str]]) -> None:
            self._items = items

        def __getitem__(self, key: str) -> str:
            return [v for k, v in self._items if k == key][-1]

        def __iter__(self) -> Iterator[str]:
            return iter(dict.fromkeys(k for k, _ in self._items))

        def __len__(self) -> int:
            return len(dict.fromkeys(k for k, _ in self._items))

        def getlist(self, key: str) -> list[str]:
            return [v for k, v in self._items if k == key]

    shapes: list[object] = [
        pairs,
        {"MediaUrl": ["b", "a", "b"], "Body": "hi"},
        {"MediaUrl": ("a", "b"), "Body": ["hi"]},
        MultiDict(pairs),
        FormData(pairs),
        QueryDictLike(pairs),
    ]
    for shape in shapes:
        assert validator.compute_signature(url, shape) == expected, shape  # type: ignore[arg-type]
        assert validator.validate(url, shape, expected), shape  # type: ignore[arg-type]


def test_unicode_params(validator: RequestValidator) -> None:
    params = {"Body": "Grüße 😀 ж", "From": "+4915112345678", "É": "x", "a": "1", "Z": "2"}
    url = "https://example.com/sms?q=ü"
    expected = reference(TOKEN, url, list(params.items()))
    assert validator.compute_signature(url, params) == expected
    assert validator.validate(url, params, expected)


@pytest.mark.parametrize(
    ("signed_url", "seen_url"),
    [
        ("https://example.com:443/sms", "https://example.com/sms"),
        ("https://example.com/sms", "https://example.com:443/sms"),
        ("http://example.com:80/sms?x=1", "http://example.com/sms?x=1"),
        ("http://example.com/sms", "http://example.com:80/sms"),
        ("http://example.com/sms", "http://example.com:8080/sms"),  # as twilio-python does
        ("https://example.com/sms", "https://example.com/sms"),
    ],
)
def test_port_added_or_removed(validator: RequestValidator, signed_url: str, seen_url: str) -> None:
    params = {"Body": "hello"}
    signature = reference(TOKEN, signed_url, list(params.items()))
    assert validator.validate(seen_url, params, signature)
    assert TwilioRequestValidator(TOKEN).validate(seen_url, params, signature)


def test_wrong_default_port_rejected(validator: RequestValidator) -> None:
    params = {"Body": "hello"}
    signature = reference(TOKEN, "http://example.com:443/sms", list(params.items()))
    assert not validator.validate("http://example.com/sms", params, signature)


def test_wrong_token_rejected() -> None:
    assert not RequestValidator("54321").validate(EXAMPLE_URL, EXAMPLE_PARAMS, EXAMPLE_SIGNATURE)


def test_tampered_params_rejected(validator: RequestValidator) -> None:
    tampered = dict(EXAMPLE_PARAMS, Digits="1235")
    assert not validator.validate(EXAMPLE_URL, tampered, EXAMPLE_SIGNATURE)
    extra = dict(EXAMPLE_PARAMS, Extra="")
    assert not validator.validate(EXAMPLE_URL, extra, EXAMPLE_SIGNATURE)
    assert not validator.validate(
        EXAMPLE_URL.replace("bar=2", "bar=3"), EXAMPLE_PARAMS, EXAMPLE_SIGNATURE
    )


@pytest.mark.parametrize("signature", [None, "", "0/KCTR6DLpKmkAf8muzZqo1nDgQ", "x" * 28])
def test_missing_or_bad_signature(validator: RequestValidator, signature: str | None) -> None:
    assert not validator.validate(EXAMPLE_URL, EXAMPLE_PARAMS, signature)


def json_request(body: str) -> tuple[str, str]:
    body_hash = hashlib.sha256(body.encode()).hexdigest()
    url = f"https://example.com/json?bodySHA256={body_hash}"
    return url, reference(TOKEN, url, [])


def test_json_body(validator: RequestValidator) -> None:
    body = json.dumps({"MessageSid": "SM123", "Body": "Grüße 😀"}, ensure_ascii=False)
    url, signature = json_request(body)
    assert validator.compute_hash(body) == hashlib.sha256(body.encode()).hexdigest()
    assert validator.compute_hash(body.encode()) == validator.compute_hash(body)
    assert validator.validate(url, body, signature)
    assert validator.validate(url, body.encode(), signature)
    assert TwilioRequestValidator(TOKEN).validate(url, body, signature)
    # Twilio signed the URL with :443.
    url_443 = url.replace("example.com", "example.com:443")
    assert validator.validate(url, body, reference(TOKEN, url_443, []))


def test_tampered_body_rejected(validator: RequestValidator) -> None:
    body = '{"MessageSid": "SM123"}'
    url, signature = json_request(body)
    assert not validator.validate(url, '{"MessageSid": "SM124"}', signature)
    assert not validator.validate(url, body + " ", signature)


def test_body_without_body_sha256_is_invalid(validator: RequestValidator) -> None:
    url = "https://example.com/json"
    assert not validator.validate(url, '{"a": 1}', reference(TOKEN, url, []))


def test_empty_params_and_none(validator: RequestValidator) -> None:
    url = "https://example.com/status"
    signature = reference(TOKEN, url, [])
    assert validator.compute_signature(url, None) == signature
    assert validator.validate(url, None, signature)
    assert validator.validate(url, {}, signature)


def test_agrees_with_twilio_python(validator: RequestValidator) -> None:
    twilio = TwilioRequestValidator(TOKEN)
    cases = [
        ("https://example.com/a?x=1&y=ü", {"Body": "ü😀", "To": "+1", "From": "+2"}),
        ("http://example.com:8080/b", {"A": "", "B": " "}),
        ("https://example.com", {}),
    ]
    for url, params in cases:
        assert validator.compute_signature(url, params) == twilio.compute_signature(url, params)
        signature = twilio.compute_signature(url, params)
        assert validator.validate(url, params, signature) == twilio.validate(url, params, signature)


def test_a_dict_is_read_by_the_core_as_any_mapping_is_in_python(
    validator: RequestValidator,
) -> None:
    from collections import OrderedDict

    url = "https://e.com/hook?x=1"
    fields = {"B": ["2", "1"], "A": ("3",), "C": "", "D": []}
    pairs = [("B", "2"), ("B", "1"), ("A", "3"), ("C", "")]
    signature = validator.compute_signature(url, pairs)
    assert validator.compute_signature(url, fields) == signature
    assert validator.compute_signature(url, OrderedDict(fields)) == signature  # Python path
    assert validator.validate(url, fields, signature)
    for bad in ({"To": 5}, {"To": ["a", 5]}, {"To": None}):
        with pytest.raises(TypeError) as from_core:
            validator.validate(url, bad, signature)
        with pytest.raises(TypeError) as from_python:
            validator.validate(url, OrderedDict(bad), signature)
        assert str(from_core.value) == str(from_python.value)
        assert "'To'" in str(from_core.value)


def test_bad_values_raise(validator: RequestValidator) -> None:
    with pytest.raises(TypeError, match="'To'"):
        validator.compute_signature("https://e.com", {"To": 5})
    with pytest.raises(TypeError, match="pairs"):
        validator.compute_signature("https://e.com", ["abc"])
    with pytest.raises(ValueError, match="token"):
        RequestValidator("")


def test_repr_hides_token() -> None:
    validator = RequestValidator("super-secret-token")
    assert "super-secret-token" not in repr(validator)
    assert "super-secret-token" not in repr(validator._core)
    assert not hasattr(validator, "token")


def test_shared_between_threads(validator: RequestValidator) -> None:
    results: list[bool] = []

    def work() -> None:
        for _ in range(200):
            results.append(validator.validate(EXAMPLE_URL, EXAMPLE_PARAMS, EXAMPLE_SIGNATURE))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 1600


def test_hmac_sha256_shared_key_signatures(validator: RequestValidator) -> None:
    data = EXAMPLE_URL + "".join(k + v for k, v in sorted(EXAMPLE_PARAMS.items()))
    expected = base64.b64encode(hmac.new(b"12345", data.encode(), hashlib.sha256).digest()).decode()
    assert expected == "Rmm4Vzj+Ky7JGoWXMCsZDZuHDszLr9xvdbvitrDr4/M="  # in signature_test.cpp
    assert validator.compute_signature(EXAMPLE_URL, EXAMPLE_PARAMS, HMAC_SHA256) == expected
    assert (
        validator.compute_signature(EXAMPLE_URL, EXAMPLE_PARAMS, "hmac_sha1") == EXAMPLE_SIGNATURE
    )
    assert validator.validate(EXAMPLE_URL, EXAMPLE_PARAMS, expected, algorithm="HMAC_SHA256")
    assert not validator.validate(EXAMPLE_URL, EXAMPLE_PARAMS, expected)
    assert not validator.validate(EXAMPLE_URL, EXAMPLE_PARAMS, EXAMPLE_SIGNATURE, HMAC_SHA256)
    twilio = TwilioRequestValidator(TOKEN)
    assert twilio.compute_signature(EXAMPLE_URL, EXAMPLE_PARAMS, HMAC_SHA256) == expected
    body = '{"a": 1}'
    url = "https://example.com/json?bodySHA256=" + validator.compute_hash(body)
    signature = validator.compute_signature(url, None, HMAC_SHA256)
    assert validator.validate(url, body, signature, HMAC_SHA256)
    assert twilio.validate(url, body, signature, HMAC_SHA256)


def test_unsupported_algorithm(
    validator: RequestValidator, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(ValueError, match="algorithm"):
        validator.compute_signature(EXAMPLE_URL, EXAMPLE_PARAMS, "HMAC_MD5")
    assert not validator.validate(EXAMPLE_URL, EXAMPLE_PARAMS, EXAMPLE_SIGNATURE, "HMAC_MD5")
    assert "HMAC_MD5" in caplog.text


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, HMAC_SHA1),
        ("", HMAC_SHA1),
        ("key=webhooks_sharedkey_1", HMAC_SHA1),
        ("key=webhooks_sharedkey_1,algorithm=HMAC_SHA256", HMAC_SHA256),
        (" algorithm = HMAC_SHA256 , key=x", HMAC_SHA256),
    ],
)
def test_get_signature_algorithm(header: str | None, expected: str) -> None:
    assert get_signature_algorithm(header) == expected
    assert twilio_get_signature_algorithm(header) == expected


@pytest.mark.parametrize("seed", range(10))
def test_random_requests_agree_with_reference(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = "abcXYZ019 +-_=&?%/éü😀ж"
    validator = RequestValidator(TOKEN)
    for _ in range(30):
        names = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6))) for _ in range(5)]
        pairs = [
            (rng.choice(names), "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))))
            for _ in range(rng.randint(0, 12))
        ]
        url = rng.choice(["https://a.example", "http://b.example:8080", "https://c.example:443"])
        url += "/hook?" + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10)))
        expected = reference(TOKEN, url, pairs)
        assert validator.compute_signature(url, pairs) == expected
        assert validator.validate(url, pairs, expected)
        grouped: dict[str, list[str]] = {}
        for name, value in pairs:
            grouped.setdefault(name, []).append(value)
        assert validator.compute_signature(url, grouped) == expected
        assert validator.compute_signature(url, MultiDict(pairs)) == expected


def test_docs_examples_run() -> None:
    import doctest
    from pathlib import Path

    import twiliocore.request_validator

    root = Path(__file__).resolve().parents[2]
    result = doctest.testfile(str(root / "docs" / "signature.md"), module_relative=False)
    assert result.attempted > 0
    assert result.failed == 0
    assert doctest.testmod(twiliocore.request_validator).failed == 0


# The vectors of twilio-python's own validator tests (tests/unit/test_request_validator.py),
# with their published signatures: same token and URL as above, other parameters.
SDK_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
    "Caller": "+14158675309",
}
SDK_BODY = '{"property": "value", "boolean": true}'
SDK_BODY_HASH = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"


def test_twilio_python_published_vectors(validator: RequestValidator) -> None:
    assert validator.compute_signature(EXAMPLE_URL, SDK_PARAMS) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert validator.compute_hash(SDK_BODY) == SDK_BODY_HASH
    repeated = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234")]
    for params in (MultiDict(repeated), FormData(repeated), repeated):
        assert validator.compute_signature(EXAMPLE_URL, params) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    https_port = EXAMPLE_URL.replace(".com", ".com:1234")
    http_url = EXAMPLE_URL.replace("https", "http")
    for url, signature in [
        (EXAMPLE_URL, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        (https_port, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),  # port removed
        (https_port.replace("https", "http"), "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),  # signed with it
        (EXAMPLE_URL, "kvajT1Ptam85bY51eRf/AJRuM3w="),  # signed with :443 added
        (http_url, "0ZXoZLH/DfblKGATFgpif+LLRf4="),  # signed with :80 added
    ]:
        assert validator.validate(url, SDK_PARAMS, signature), (url, signature)
        assert not validator.validate(url, {**SDK_PARAMS, "Digits": "1235"}, signature)
    with_body = EXAMPLE_URL + "&bodySHA256=" + SDK_BODY_HASH
    assert validator.validate(with_body, SDK_BODY, "a9nBmqA0ju/hNViExpshrM61xv4=")
    assert validator.validate(with_body, SDK_BODY.encode(), "a9nBmqA0ju/hNViExpshrM61xv4=")
    assert not validator.validate(with_body, SDK_BODY + " ", "a9nBmqA0ju/hNViExpshrM61xv4=")
