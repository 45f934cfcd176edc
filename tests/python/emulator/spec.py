"""Twilio's OpenAPI spec as JSON Schemas, for checking the emulator's responses."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import jsonschema

SPEC_DIR = Path(__file__).resolve().parents[2] / "data" / "twilio-openapi"
API_V2010 = SPEC_DIR / "twilio_api_v2010.json"


@functools.cache
def _spec() -> dict[str, Any]:
    return json.loads(API_V2010.read_text(encoding="utf-8"))


def _convert(node: Any, spec: dict[str, Any]) -> Any:
    """Inline $refs and turn OpenAPI's ``nullable: true`` into JSON Schema's null type."""
    if isinstance(node, list):
        return [_convert(item, spec) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return _convert(copy.deepcopy(target), spec)
    out = {key: _convert(value, spec) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


def component(name: str) -> dict[str, Any]:
    """Return ``components.schemas[name]`` as a self-contained JSON Schema."""
    spec = _spec()
    return _convert(spec["components"]["schemas"][name], spec)


def response_schema(path: str, method: str, status: str) -> dict[str, Any]:
    """Return the JSON Schema of an operation's response."""
    spec = _spec()
    node = spec["paths"][path][method]["responses"][status]["content"]["application/json"]
    return _convert(node["schema"], spec)


def validate(instance: Any, schema: dict[str, Any]) -> None:
    """Validate ``instance`` (raises ``jsonschema.ValidationError``), formats included."""
    jsonschema.validate(instance, schema, format_checker=jsonschema.FormatChecker())


MESSAGE = "api.v2010.account.message"
ACCOUNT = "api.v2010.account"
MESSAGES_PATH = "/2010-04-01/Accounts/{AccountSid}/Messages.json"
ERROR_KEYS = {"code", "message", "more_info", "status"}


def assert_twilio_error(response: Any, status: int, code: int) -> dict[str, Any]:
    """Assert ``response`` is Twilio's error JSON with this status and code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["code"] == code, body
    assert body["status"] == status
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}"
    assert isinstance(body["message"], str) and body["message"]
    return body
