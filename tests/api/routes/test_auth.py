"""Login and the 401/403 rules, over HTTP."""

from __future__ import annotations

import pytest

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-password-123"


def test_login_returns_bearer_token(service):
    with service.client() as client:
        answer = client.post(
            "/api/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "bearer"
    assert body["access_token"].count(".") == 2


def test_login_is_case_insensitive_on_email(service):
    with service.client() as client:
        answer = client.post(
            "/api/auth/login", json={"email": ADMIN_EMAIL.upper(), "password": ADMIN_PASSWORD}
        )
    assert answer.status_code == 200


@pytest.mark.parametrize(
    ("email", "password"),
    [(ADMIN_EMAIL, "wrong-password"), ("nobody@example.com", ADMIN_PASSWORD)],
)
def test_login_rejects_bad_credentials(service, email, password):
    with service.client() as client:
        answer = client.post("/api/auth/login", json={"email": email, "password": password})
    assert answer.status_code == 401
    assert "password" not in answer.text.lower().replace("e-mail or password", "")


def test_login_body_is_validated(service):
    with service.client() as client:
        answer = client.post("/api/auth/login", json={"email": ADMIN_EMAIL})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["field"] == "password"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/users/me"),
        ("POST", "/api/users"),
        ("GET", "/api/users"),
        ("GET", "/api/users/1"),
        ("PATCH", "/api/users/1"),
        ("DELETE", "/api/users/1"),
        ("POST", "/api/users/me/password"),
        ("GET", "/api/sms/settings"),
        ("POST", "/api/sms/settings"),
        ("DELETE", "/api/sms/settings"),
        ("POST", "/api/sms/test-connection"),
        ("POST", "/api/sms/send"),
        ("POST", "/api/sms/whatsapp/send"),
        ("POST", "/api/sms/send-bulk"),
        ("POST", "/api/sms/whatsapp/send-bulk"),
        ("GET", "/api/sms/bulk/00000000-0000-0000-0000-000000000000"),
        ("GET", "/api/sms/message-status/SM00000000000000000000000000000000"),
        ("GET", "/api/sms/messages"),
        ("GET", "/api/sms/preferences"),
        ("PUT", "/api/sms/preferences"),
        ("GET", "/api/notifications"),
        ("POST", "/api/notifications"),
    ],
)
@pytest.mark.parametrize("token", [None, "not-a-jwt", "a.b.c"])
def test_protected_routes_need_a_valid_token(service, method, path, token):
    with service.client(token) as client:
        answer = client.request(method, path, json={})
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"


def test_token_signed_with_another_key_is_rejected(service):
    from datetime import timedelta

    from twiliocore_api.core.security import KeyRing

    forged = KeyRing("another-secret-key-0123456789").create_access_token("1", timedelta(hours=1))
    with service.client(forged) as client:
        assert client.get("/api/users/me").status_code == 401


def test_expired_token_is_rejected(service):
    from datetime import timedelta

    expired = service.app.state.keyring.create_access_token("1", timedelta(seconds=-10))
    with service.client(expired) as client:
        assert client.get("/api/users/me").status_code == 401


@pytest.mark.parametrize("subject", ["9" * 30, str(2**31), "0", "-1"])
def test_token_for_an_id_no_database_holds_is_a_401_not_a_500(service, subject):
    from datetime import timedelta

    token = service.app.state.keyring.create_access_token(subject, timedelta(hours=1))
    with service.client(token) as client:
        answer = client.get("/api/users/me")
    assert answer.status_code == 401, answer.text
    assert answer.json()["detail"] == "invalid or expired access token"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/sms/settings"),
        ("POST", "/api/sms/settings"),
        ("DELETE", "/api/sms/settings"),
        ("POST", "/api/sms/test-connection"),
        ("POST", "/api/users"),
        ("GET", "/api/users"),
        ("PATCH", "/api/users/1"),
        ("DELETE", "/api/users/1"),
        ("POST", "/api/notifications"),
    ],
)
def test_admin_routes_refuse_plain_users(service, method, path):
    token = service.new_user(f"plain-{method.lower()}-{path.replace('/', '-')}@example.com")
    with service.client(token) as client:
        answer = client.request(method, path, json={})
    assert answer.status_code == 403


def test_login_attempts_are_limited_per_email(start_service):
    svc = start_service(LOGIN_RATE_LIMIT=3)
    with svc.client() as client:
        for _ in range(3):
            bad = client.post("/api/auth/login", json={"email": ADMIN_EMAIL, "password": "nope"})
            assert bad.status_code == 401
        blocked = client.post(
            "/api/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) >= 1
        other = client.post("/api/auth/login", json={"email": "x@example.com", "password": "y"})
        assert other.status_code == 401


def test_a_body_of_many_unknown_fields_lists_only_the_first_ones(service):
    # Listing all 200,000 took seconds of the event loop (every request waited) and
    # answered tens of megabytes; anyone can post to the login route.
    import json

    from twiliocore_api.schemas import MAX_UNKNOWN_FIELDS

    body = {f"k{i}": 0 for i in range(200_000)} | {"email": "a@b.co", "password": "x"}
    with service.client() as client:
        answer = client.post(
            "/api/auth/login",
            content=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
    assert answer.status_code == 422, answer.text[:200]
    detail = answer.json()["detail"]
    assert [d["field"] for d in detail] == [f"k{i}" for i in range(MAX_UNKNOWN_FIELDS)]
    assert all(d["msg"] == "Extra inputs are not permitted" for d in detail)


def test_failed_logins_are_limited_per_client_address_behind_a_trusted_proxy(start_service):
    svc = start_service(LOGIN_FAILURES_PER_CLIENT=2, TRUST_PROXY_HEADERS=True)

    def login(address: str, email: str, password: str = "wrong-password") -> int:
        with svc.client() as client:
            return client.post(
                "/api/auth/login",
                json={"email": email, "password": password},
                # The proxy appends the address it saw; what the client wrote before is not
                # to be trusted.
                headers={"X-Forwarded-For": f"198.51.100.7, {address}"},
            ).status_code

    assert login("203.0.113.1", "a@example.com") == 401
    assert login("203.0.113.1", "b@example.com") == 401
    # Another e-mail, even the right password: this address is held back.
    blocked = login("203.0.113.1", ADMIN_EMAIL, ADMIN_PASSWORD)
    assert blocked == 429
    assert login("203.0.113.2", ADMIN_EMAIL, ADMIN_PASSWORD) == 200
