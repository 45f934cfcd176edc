"""Twilio's domains and their base URLs, and the check that keeps credentials on them.

Each Twilio product lives on its own host (``api.twilio.com`` for the 2010-04-01 API,
``conversations.twilio.com``, ``messaging.twilio.com``, ``lookups.twilio.com``). A client
has one base URL per domain, each overridable. One root given as ``base_url=`` or
``TWILIO_API_BASE_URL`` (the emulator's address) serves every domain under a path prefix:

==============  ===================================  ===============================
domain          Twilio                               under a root ``R``
==============  ===================================  ===============================
api             ``https://api.twilio.com``           ``R`` (``R/2010-04-01/...``)
conversations   ``https://conversations.twilio.com``  ``R/conversations`` (``.../v1/...``)
messaging       ``https://messaging.twilio.com``     ``R/messaging``
lookups         ``https://lookups.twilio.com``       ``R/lookups`` (``.../v2/...``)
==============  ===================================  ===============================

The api domain stays at the root so that every URL the emulator serves today keeps working.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _types)
if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["DOMAINS", "domain_urls", "page_url"]

#: Every domain the client knows, with Twilio's base URL.
DOMAINS: dict[str, str] = {
    "api": "https://api.twilio.com",
    "conversations": "https://conversations.twilio.com",
    "messaging": "https://messaging.twilio.com",
    "lookups": "https://lookups.twilio.com",
}


def _url(value: str, name: str) -> str:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise ValueError(f"{name}: must be an http:// or https:// URL, got {value!r}")
    return value.rstrip("/")


def domain_urls(root: str | None, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The base URL of every domain: Twilio's, or under ``root``, then ``overrides``.

    Args:
        root: one server for every domain (the api domain at ``root``, the others at
            ``root/<domain>``); None: Twilio's hosts.
        overrides: base URLs of single domains, applied last.

    Raises:
        ValueError: an unknown domain, or a URL that is not http(s) (the message names it).
    """
    if root is None:
        urls = dict(DOMAINS)
    else:
        base = _url(root, "base_url")
        urls = {name: base if name == "api" else f"{base}/{name}" for name in DOMAINS}
    for name, url in (overrides or {}).items():
        if name not in DOMAINS:
            raise ValueError(f"base_urls: unknown domain {name!r} (one of {', '.join(DOMAINS)})")
        urls[name] = _url(url, f"base_urls[{name!r}]")
    return urls


def page_url(urls: Mapping[str, str], target_url: object) -> str:
    """``target_url`` checked to be on one of the client's domains (credentials go nowhere else).

    Raises:
        ValueError: ``target_url`` is not a str on one of ``urls`` (the message lists them).
    """
    if isinstance(target_url, str) and any(
        target_url.startswith(base + "/") for base in urls.values()
    ):
        return target_url
    listed = ", ".join(f"{name} {base}" for name, base in urls.items())
    raise ValueError(
        f"target_url: must be a page URL on one of the client's domains ({listed}),"
        f" got {target_url!r}"
    )
