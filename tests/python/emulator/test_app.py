"""The gate and bad input: Basic auth, other accounts, unknown paths, methods, bodies."""

from __future__ import annotations

import base64
import logging
import re
import socket
import time

import httpx
import pytest

from .spec import ACCOUNT, assert_twilio_error, component, validate


def test_missing_credentials_are_401_20003(api):
    response = httpx.get(api.emulator.url + api.account + ".json")
    assert_twilio_error(response, 401, 20003)
    assert response.headers["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize(
    "header",
    [
        "Basic " + base64.b64encode(b"ACxxxxxxxx:token").decode(),
        "Basic !!!notbase64",
        "Bearer abc",
        "Basic " + base64.b64encode(b"no-colon").decode(),
    ],
)
def test_bad_credentials_are_401_20003(api, header):
    response = httpx.post(api.emulator.url + api.messages, headers={"Authorization": header})
    assert_twilio_error(response, 401, 20003)
    assert api.emulator.messages() == []


@pytest.mark.parametrize(
    "header",
    [
        b"Basic \xe9\xe9",  # latin-1 bytes: not base64, and not ASCII either
        b"Basic " + base64.b64encode("\u00f1:\u00e9".encode("latin-1")),  # not UTF-8
        b"Basic " + base64.b64encode("\u00f1:\u00fc".encode()),  # UTF-8, unknown user
    ],
)
def test_non_ascii_credentials_are_401_20003_json(api, header):
    response = httpx.get(api.emulator.url + api.messages, headers={"Authorization": header})
    assert_twilio_error(response, 401, 20003)


def test_a_client_leaving_mid_body_is_no_server_error(api, caplog):
    host, port = api.emulator.url.removeprefix("http://").split(":")
    token = base64.b64encode(f"{api.emulator.account_sid}:{api.emulator.auth_token}".encode())
    for path in (api.messages, "/_emulator/inbound"):
        with socket.create_connection((host, int(port))) as sock:
            sock.sendall(
                f"POST {path} HTTP/1.1\r\nHost: x\r\n".encode()
                + b"Authorization: Basic "
                + token
                + b"\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: 100\r\n\r\nTo=%2B1"
            )
            time.sleep(0.2)
    # The emulator noticed the disconnects, answered the next request, and logged no error.
    assert api.send().status_code == 201
    assert api.emulator.messages()[0]["body"] == "Hello from the emulator"
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_wrong_token_is_401(api):
    response = httpx.get(
        api.emulator.url + api.account + ".json", auth=(api.emulator.account_sid, "wrong")
    )
    assert_twilio_error(response, 401, 20003)


def test_another_accounts_resources_are_404_20404(api):
    other = "AC" + "f" * 32
    assert_twilio_error(api.http.get(f"/2010-04-01/Accounts/{other}.json"), 404, 20404)
    response = api.http.post(
        f"/2010-04-01/Accounts/{other}/Messages.json",
        data={"To": "+14155552671", "From": "+15005550006", "Body": "x"},
    )
    assert_twilio_error(response, 404, 20404)
    assert api.emulator.messages() == []


def test_api_key_credentials(make_emulator):
    key, secret = "SK" + "1" * 32, "key-secret"
    emulator = make_emulator(api_keys={key: secret})
    url = f"{emulator.url}/2010-04-01/Accounts/{emulator.account_sid}.json"
    assert httpx.get(url, auth=(key, secret)).status_code == 200
    assert_twilio_error(httpx.get(url, auth=(key, "nope")), 401, 20003)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/nope",
        "/2010-04-01/Accounts/{sid}/Calls/CA1.json",
        "/2010-04-01/Foo.json",
        "/2010-04-01/Accounts/{sid}/Messages.json/",  # no redirect to the slashless path
    ],
)
def test_unknown_paths_are_404_20404(api, path):
    assert_twilio_error(api.http.get(path.format(sid=api.emulator.account_sid)), 404, 20404)


def test_wrong_method_is_405(api):
    assert_twilio_error(api.http.delete(api.account + ".json"), 405, 20004)
    assert_twilio_error(api.http.put(api.messages, content=b""), 405, 20004)


@pytest.mark.parametrize(
    "body",
    [
        b"To=%FF%FE&Body=x",  # percent-encoded bytes that are not UTF-8
        b"To=\xff\xfe&Body=\xc3",  # raw bytes that are not UTF-8
    ],
)
def test_non_utf8_bodies_are_400(api, body):
    response = api.http.post(
        api.messages, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert_twilio_error(response, 400, 20001)


@pytest.mark.parametrize("body", [b"&&&===&", b"%", b"To", b"=" * 100, b"To=%2B14155552671&&Body"])
def test_malformed_form_bodies_get_twilio_errors(api, body):
    response = api.http.post(
        api.messages, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert 400 <= response.status_code < 500
    assert set(response.json()) == {"code", "message", "more_info", "status"}


def test_huge_bodies_are_413(api):
    body = b"Body=" + b"a" * (2 * 1024 * 1024)
    response = api.http.post(
        api.messages, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert_twilio_error(response, 413, 20413)


def test_huge_chunked_bodies_are_413(api):
    def chunks():
        for _ in range(64):
            yield b"a" * 65536

    response = api.http.post(
        api.messages,
        content=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_twilio_error(response, 413, 20413)


def test_account_fetch_matches_the_spec(api):
    response = api.http.get(api.account + ".json")
    assert response.status_code == 200
    data = response.json()
    validate(data, component(ACCOUNT))
    assert set(data) == set(component(ACCOUNT)["properties"])
    assert data["sid"] == data["owner_account_sid"] == api.emulator.account_sid
    assert data["status"] == "active"
    assert data["auth_token"] is None  # never a secret in a response
    assert api.emulator.auth_token not in response.text
    assert data["subresource_uris"]["messages"] == api.messages


def test_account_list(api):
    data = api.http.get("/2010-04-01/Accounts.json").json()
    assert [a["sid"] for a in data["accounts"]] == [api.emulator.account_sid]
    validate(data["accounts"][0], component(ACCOUNT))


def test_the_token_never_appears_in_responses_or_repr(api, caplog):
    api.send()
    for path in ("/_emulator/messages", "/_emulator/webhooks", "/_emulator/health"):
        assert api.emulator.auth_token not in httpx.get(api.emulator.url + path).text
    assert api.emulator.auth_token not in repr(api.emulator)
    assert api.emulator.auth_token not in repr(api.emulator.config)
    assert api.emulator.auth_token not in caplog.text


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"account_sid": "AC123"}, "account_sid"),
        ({"mps": 0}, "mps"),
        ({"max_concurrent": 0}, "max_concurrent"),
        ({"queue_cap_seconds": 0}, "queue_cap_seconds"),
        ({"status_delay": -1}, "status_delay"),
        ({"api_keys": {"XX": "y"}}, "api_keys"),
        ({"faults": "drop=3"}, "faults"),
    ],
)
def test_bad_settings_name_the_field(settings, field):
    from twiliocore.emulator import Emulator

    with pytest.raises(ValueError, match=field):
        Emulator(**settings)


def test_start_stop_and_context_manager():
    from twiliocore.emulator import Emulator

    emulator = Emulator(account_sid="AC" + "a" * 32, auth_token="tok")
    with emulator:
        assert emulator.port != 0
        assert emulator.url == f"http://127.0.0.1:{emulator.port}"
        assert httpx.get(emulator.url + "/_emulator/health").json()["account_sid"] == (
            "AC" + "a" * 32
        )
        with pytest.raises(RuntimeError, match="already started"):
            emulator.start()
    with pytest.raises(httpx.ConnectError):
        httpx.get(emulator.url + "/_emulator/health")
    emulator.stop()  # idempotent


def test_answers_carry_a_twilio_request_id(api):
    ids = {
        api.send().headers["Twilio-Request-Id"],
        api.http.get(api.messages).headers["Twilio-Request-Id"],
    }
    assert len(ids) == 2 and all(re.fullmatch(r"RQ[0-9a-f]{32}", i) for i in ids)
    assert "Twilio-Request-Id" in httpx.get(api.emulator.url + api.messages).headers  # 401 too
