"""Users: /api/users/me and creation by an admin."""

from __future__ import annotations


def test_me_shows_the_admin(service):
    with service.admin() as client:
        me = client.get("/api/users/me").json()
    assert me["email"] == "admin@example.com"
    assert me["role"] == "admin"
    assert "hashed_password" not in me
    assert me["created_at"].endswith(("Z", "+00:00"))


def test_admin_creates_a_user_who_can_log_in(service):
    token = service.new_user("carol@example.com", phone_number="(415) 555-2671")
    with service.client(token) as client:
        me = client.get("/api/users/me").json()
    assert me == {
        **me,
        "email": "carol@example.com",
        "role": "user",
        "phone_number": "+14155552671",
    }


def test_duplicate_email_is_a_conflict(service):
    service.new_user("dave@example.com")
    with service.admin() as client:
        answer = client.post(
            "/api/users", json={"email": "DAVE@example.com", "password": "another-pass-1"}
        )
    assert answer.status_code == 409


def test_user_body_is_validated(service):
    with service.admin() as client:
        cases = {
            "email": {"email": "not-an-email", "password": "long-enough-1"},
            "password": {"email": "eve@example.com", "password": "short"},
            "role": {"email": "eve@example.com", "password": "long-enough-1", "role": "root"},
            "phone_number": {
                "email": "eve@example.com",
                "password": "long-enough-1",
                "phone_number": "12",
            },
        }
        for field, body in cases.items():
            answer = client.post("/api/users", json=body)
            assert answer.status_code == 422, field
            assert answer.json()["detail"][0]["field"] == field
