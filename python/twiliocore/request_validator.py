"""Validation of Twilio's ``X-Twilio-Signature`` webhook header.

A drop-in for twilio-python's ``twilio.request_validator.RequestValidator`` (same
method names and arguments), computed by the C++ core with OpenSSL.

Example::

    >>> from twiliocore import RequestValidator
    >>> validator = RequestValidator("12345")
    >>> url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    >>> params = {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030",
    ...           "Digits": "1234", "From": "+12349013030", "To": "+18005551212"}
    >>> validator.compute_signature(url, params)
    '0/KCTR6DLpKmkAf8muzZqo1nDgQ='
    >>> validator.validate(url, params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    True
"""

from __future__ import annotations

from twiliocore import _core, _log

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _types)
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any, TypeAlias

__all__ = [
    "HMAC_SHA1",
    "HMAC_SHA256",
    "SIGNATURE_HEADER",
    "SIGNATURE_SETTINGS_HEADER",
    "RequestValidator",
    "get_signature_algorithm",
]

#: The header carrying the signature.
SIGNATURE_HEADER = "X-Twilio-Signature"
#: Header Twilio adds to webhooks signed with a SharedKey: ``key=<id>,algorithm=<name>``.
SIGNATURE_SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
HMAC_SHA1 = "HMAC_SHA1"
HMAC_SHA256 = "HMAC_SHA256"

_ALGORITHMS = frozenset((HMAC_SHA1, HMAC_SHA256))

#: What ``params`` may be: form fields in any common shape, or a raw JSON body.
Params: TypeAlias = "Mapping[str, Any] | Iterable[tuple[str, str]] | str | bytes | None"


def get_signature_algorithm(signature_settings_header: str | None) -> str:
    """Return the algorithm named in an ``X-Twilio-Webhooks-Signature-Settings`` header.

    A missing or empty header, or one without ``algorithm=``, means the auth-token
    signature, ``HMAC_SHA1``.

    Args:
        signature_settings_header: the header value, e.g.
            ``"key=webhooks_sharedkey_...,algorithm=HMAC_SHA256"``, or None.
    """
    for part in (signature_settings_header or "").split(","):
        name, separator, value = part.partition("=")
        if separator and name.strip() == "algorithm" and value.strip():
            return value.strip()
    return HMAC_SHA1


def _algorithm(algorithm: str | None) -> str | None:
    name = (algorithm or HMAC_SHA1).upper()
    return name if name in _ALGORITHMS else None


def _values(name: str, value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        for item in value:
            if not isinstance(item, str):
                raise TypeError(f"params[{name!r}]: expected str values, got {type(item).__name__}")
        return list(value)
    raise TypeError(f"params[{name!r}]: expected str or list of str, got {type(value).__name__}")


def _pairs(params: Mapping[str, Any] | Iterable[tuple[str, str]] | None) -> list[tuple[str, str]]:
    """Flatten every supported form-parameter shape into (name, value) pairs."""
    if not params:
        return []
    from collections.abc import Mapping  # not at import: plain dicts never come here

    getall = getattr(params, "getall", None)  # multidict (aiohttp), werkzeug MultiDict
    if not callable(getall):
        getall = getattr(params, "getlist", None)  # Starlette FormData, Django QueryDict
    pairs: list[tuple[str, str]] = []
    if callable(getall) and isinstance(params, Mapping):
        for name in dict.fromkeys(params):  # multidicts may repeat keys
            pairs.extend((name, v) for v in _values(name, list(getall(name))))
        return pairs
    if isinstance(params, Mapping):
        for name, value in params.items():
            pairs.extend((name, v) for v in _values(name, value))
        return pairs
    for item in params:
        if not (isinstance(item, tuple) and len(item) == 2):
            raise TypeError("params: expected a mapping or an iterable of (name, value) pairs")
        name, value = item
        pairs.extend((name, v) for v in _values(name, value))
    return pairs


def _form(
    params: Mapping[str, Any] | Iterable[Any] | None,
) -> dict[str, Any] | list[tuple[str, str]]:
    """``params`` as the core takes it: a plain dict as it is, anything else as pairs.

    The core reads a dict by the rules of :func:`_pairs`, without a Python loop per field.
    """
    return params if type(params) is dict else _pairs(params)


class RequestValidator:
    """Checks that a webhook request really comes from Twilio.

    Usage::

        validator = RequestValidator(auth_token)
        ok = validator.validate(url, form_params, request.headers.get("X-Twilio-Signature"))

    Can be shared between threads and tasks; each call runs in C++ without the GIL.
    The token is kept only inside the C++ core (wiped on release); ``repr`` hides it.

    ``params`` may be a dict of str, a dict of lists (repeated names), a multi-dict with
    ``getall``/``getlist`` (Starlette ``FormData``, Flask/werkzeug ``MultiDict``, Django
    ``QueryDict``, aiohttp ``MultiDict``), an iterable of (name, value) pairs, or the raw
    body (``str`` or ``bytes``) of a JSON webhook, whose URL carries ``bodySHA256``.

    Args:
        token: the account's auth token.
    """

    __slots__ = ("_core",)

    def __init__(self, token: str) -> None:
        if not isinstance(token, str) or not token:
            raise ValueError("token: the auth token must be a non-empty str")
        self._core = _core.SignatureValidator(token)

    def __repr__(self) -> str:
        return "RequestValidator(token=***)"

    def compute_signature(
        self,
        uri: str,
        params: Mapping[str, Any] | Iterable[Any] | None,
        algorithm: str | None = None,
    ) -> str:
        """Compute the signature Twilio sends for ``uri`` with form ``params``.

        Args:
            uri: the full URL Twilio requested, exactly (scheme, host, port, path, query).
            params: the form parameters (see the class docstring); ``None`` for none.
            algorithm: ``"HMAC_SHA1"`` (default, auth-token signatures) or
                ``"HMAC_SHA256"`` (SharedKey signatures, see :func:`get_signature_algorithm`).

        Returns:
            The base64 HMAC signature.

        Raises:
            TypeError: if a parameter value is not a str (or list of str).
            ValueError: if the algorithm is not supported.
        """
        selected = _algorithm(algorithm)
        if selected is None:
            raise ValueError(f"algorithm: unsupported webhook signature algorithm {algorithm!r}")
        return self._core.compute(uri, _form(params), selected)

    def compute_hash(self, body: str | bytes) -> str:
        """Return the lowercase hex SHA-256 of a raw body, as Twilio puts in ``bodySHA256``.

        Args:
            body: the raw request body (``str`` is UTF-8 encoded).
        """
        data = body.encode("utf-8") if isinstance(body, str) else body
        return _core.sha256_hex(data)

    def validate(
        self, uri: str, params: Params, signature: str | None, algorithm: str | None = None
    ) -> bool:
        """Return True if ``signature`` is Twilio's signature of this request.

        The URL is tried as given, with its port removed, and with the scheme's default
        port (443/80) added, as Twilio's SDKs do. When ``params`` is the raw body (``str``
        or ``bytes``), the URL must carry ``bodySHA256``: its value must equal the body's
        SHA-256 and the signature covers the URL alone; a raw body without ``bodySHA256``
        in the URL is not valid (False, where twilio-python raises).

        Args:
            uri: the full URL Twilio requested.
            params: the form parameters, or the raw JSON body.
            signature: the ``X-Twilio-Signature`` header value; ``None`` or empty is invalid.
            algorithm: ``"HMAC_SHA1"`` (default) or ``"HMAC_SHA256"``; an unsupported
                algorithm is not valid (False, with a warning logged).

        Returns:
            True if valid. The comparison is constant-time.

        Raises:
            TypeError: if a form parameter value is not a str (or list of str).
        """
        selected = _algorithm(algorithm)
        if selected is None:
            _log.warning(
                __name__,
                "Unsupported webhook signature algorithm %r; supported: %s, %s",
                algorithm,
                HMAC_SHA1,
                HMAC_SHA256,
            )
            return False
        if not signature:
            return False
        if isinstance(params, (str, bytes)):
            return self._core.validate_body(uri, params, signature, selected)
        return self._core.validate(uri, _form(params), signature, selected)
