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


# ---------------------------------------------------------------------------- listing


def _ids(page: dict) -> list[int]:
    return [user["id"] for user in page["data"]]


def test_admin_lists_users_in_pages_with_filters(start_service):
    svc = start_service()
    svc.new_user("ann@example.com")
    svc.new_user("bob_1@example.com")
    svc.new_user("boba@example.com")
    with svc.admin() as client:
        second = client.post(
            "/api/users",
            json={"email": "root2@example.com", "password": "long-enough-1", "role": "admin"},
        ).json()
        assert client.patch("/api/users/2", json={"is_active": False}).status_code == 200

        everyone = client.get("/api/users").json()
        assert everyone["count"] == 5
        assert (everyone["skip"], everyone["limit"]) == (0, 100)
        assert _ids(everyone) == [1, 2, 3, 4, second["id"]]
        assert all("hashed_password" not in user for user in everyone["data"])

        page = client.get("/api/users", params={"skip": 1, "limit": 2}).json()
        assert (page["count"], _ids(page)) == (5, [2, 3])
        past_the_end = client.get("/api/users", params={"skip": 10}).json()
        assert (past_the_end["count"], past_the_end["data"]) == (5, [])

        admins = client.get("/api/users", params={"role": "admin"}).json()
        assert (admins["count"], _ids(admins)) == (2, [1, second["id"]])
        inactive = client.get("/api/users", params={"is_active": "false"}).json()
        assert _ids(inactive) == [2]
        active_users = client.get("/api/users", params={"is_active": "true", "role": "user"})
        assert _ids(active_users.json()) == [3, 4]

        # Case-insensitive, part of the e-mail; "_" and "%" match only themselves.
        assert _ids(client.get("/api/users", params={"search": "BOB"}).json()) == [3, 4]
        assert _ids(client.get("/api/users", params={"search": "bob_"}).json()) == [3]
        assert client.get("/api/users", params={"search": "%"}).json()["count"] == 0


def test_user_list_parameters_are_validated(service):
    with service.admin() as client:
        for params, field in [
            ({"skip": -1}, "skip"),
            ({"limit": 0}, "limit"),
            ({"limit": 501}, "limit"),
            ({"role": "root"}, "role"),
            ({"is_active": "maybe"}, "is_active"),
            ({"search": ""}, "search"),
            ({"search": "x" * 321}, "search"),
        ]:
            answer = client.get("/api/users", params=params)
            assert answer.status_code == 422, params
            assert [d["field"] for d in answer.json()["detail"]] == [field]


# ---------------------------------------------------------------------------- one user


def test_a_user_reads_themself_and_an_admin_reads_anyone(service):
    token = service.new_user("frank@example.com")
    with service.client(token) as client:
        me = client.get("/api/users/me").json()
        assert client.get(f"/api/users/{me['id']}").json() == me
        other = client.get("/api/users/1")
        assert other.status_code == 403
        assert "admin" in other.json()["detail"]
        # A plain user cannot tell a missing user from another user.
        assert client.get(f"/api/users/{2**31 - 1}").status_code == 403
    with service.admin() as admin:
        assert admin.get(f"/api/users/{me['id']}").json() == me
        missing = admin.get(f"/api/users/{2**31 - 1}")
        assert missing.status_code == 404
        assert "no user has id" in missing.json()["detail"]
        for bad in ("0", "-3", str(2**31), "abc"):
            answer = admin.get(f"/api/users/{bad}")
            assert answer.status_code == 422, bad
            assert answer.json()["detail"][0]["field"] == "user_id"


# ---------------------------------------------------------------------------- changes


def test_admin_changes_role_state_phone_and_channels(service):
    token = service.new_user("gina@example.com", phone_number="+14155552671")
    with service.client(token) as client:
        gina = client.get("/api/users/me").json()
    with service.admin() as admin:
        changed = admin.patch(
            f"/api/users/{gina['id']}",
            json={"phone_number": "(415) 555-0199", "sms_enabled": False, "whatsapp_enabled": True},
        )
        assert changed.status_code == 200, changed.text
        assert changed.json() == {
            **gina,
            "phone_number": "+14155550199",
            "sms_enabled": False,
            "whatsapp_enabled": True,
        }
        # Omitted fields keep their value; null removes the phone number.
        cleared = admin.patch(f"/api/users/{gina['id']}", json={"phone_number": None}).json()
        assert (cleared["phone_number"], cleared["whatsapp_enabled"]) == (None, True)
        promoted = admin.patch(f"/api/users/{gina['id']}", json={"role": "admin"}).json()
        assert promoted["role"] == "admin"
        demoted = admin.patch(f"/api/users/{gina['id']}", json={"role": "user"}).json()
        assert demoted["role"] == "user"
        assert admin.patch(f"/api/users/{2**31 - 1}", json={}).status_code == 404


def test_a_deactivated_user_is_locked_out_at_once(service):
    token = service.new_user("hank@example.com", password="hank-password-1")
    with service.client(token) as client:
        hank = client.get("/api/users/me").json()
    with service.admin() as admin:
        off = admin.patch(f"/api/users/{hank['id']}", json={"is_active": False}).json()
        assert off["is_active"] is False
    with service.client(token) as client:
        assert client.get("/api/users/me").status_code == 401
        login = client.post(
            "/api/auth/login", json={"email": "hank@example.com", "password": "hank-password-1"}
        )
        assert login.status_code == 401
    with service.admin() as admin:
        assert admin.patch(f"/api/users/{hank['id']}", json={"is_active": True}).status_code == 200
    with service.client(token) as client:
        assert client.get("/api/users/me").status_code == 200


def test_user_changes_are_validated_all_at_once(service):
    with service.admin() as admin:
        answer = admin.patch(
            "/api/users/1",
            json={
                "role": "root",
                "is_active": "yes",
                "sms_enabled": None,
                "whatsapp_enabled": 1,
                "email": "new@example.com",
            },
        )
        assert answer.status_code == 422
        fields = {d["field"] for d in answer.json()["detail"]}
        assert fields == {"role", "is_active", "sms_enabled", "whatsapp_enabled", "email"}
        phone = admin.patch("/api/users/1", json={"phone_number": "12"})
        assert phone.status_code == 422
        assert [d["field"] for d in phone.json()["detail"]] == ["phone_number"]
        assert admin.get("/api/users/me").json()["role"] == "admin"


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(start_service):
    svc = start_service()
    with svc.admin() as admin:
        for change in ({"role": "user"}, {"is_active": False}):
            answer = admin.patch("/api/users/1", json=change)
            assert answer.status_code == 409, change
            assert "at least one active admin" in answer.json()["detail"]
        assert admin.delete("/api/users/1").status_code == 409
        me = admin.get("/api/users/me").json()
        assert (me["role"], me["is_active"]) == ("admin", True)

        # An inactive admin does not count: it cannot log in to undo anything.
        other = admin.post(
            "/api/users",
            json={"email": "second@example.com", "password": "second-pass-1", "role": "admin"},
        ).json()
        assert (
            admin.patch(f"/api/users/{other['id']}", json={"is_active": False}).status_code == 200
        )
        assert admin.patch("/api/users/1", json={"role": "user"}).status_code == 409
        assert admin.patch(f"/api/users/{other['id']}", json={"is_active": True}).status_code == 200
        # With a second active admin, the first may step down.
        stepped_down = admin.patch("/api/users/1", json={"role": "user"})
        assert stepped_down.status_code == 200, stepped_down.text
    second = svc.login("second@example.com", "second-pass-1")
    with svc.client(second) as client:
        assert client.patch(f"/api/users/{other['id']}", json={"role": "user"}).status_code == 409
        assert client.patch("/api/users/1", json={"role": "admin"}).status_code == 200


# ---------------------------------------------------------------------------- deletion


def _db_path(svc) -> str:
    return svc.settings.DATABASE_URL.removeprefix("sqlite:///")


def test_deleting_a_user_keeps_their_messages_and_drops_their_notifications(start_service):
    import sqlite3

    svc = start_service()
    token = svc.new_user("ivy@example.com", phone_number="+14155552671")
    with svc.client(token) as client:
        ivy = client.get("/api/users/me").json()
        sent = client.post("/api/sms/send", json={"to_number": "+14155550123", "message": "hi"})
        assert sent.status_code == 201, sent.text
    with svc.admin() as admin:
        note = admin.post("/api/notifications", json={"user_id": ivy["id"], "message": "n"})
        assert note.status_code == 201, note.text
        yourself = admin.delete("/api/users/1")
        assert yourself.status_code == 409
        assert "yourself" in yourself.json()["detail"]

        gone = admin.delete(f"/api/users/{ivy['id']}")
        assert gone.status_code == 204
        assert gone.content == b""
        assert admin.get(f"/api/users/{ivy['id']}").status_code == 404
        assert admin.delete(f"/api/users/{ivy['id']}").status_code == 404
        history = admin.get("/api/sms/messages").json()
        assert sent.json()["message_sid"] in [m["message_sid"] for m in history["data"]]
    with svc.client(token) as client:
        assert client.get("/api/users/me").status_code == 401
    with sqlite3.connect(_db_path(svc)) as db:
        owners = db.execute(
            "SELECT user_id FROM messages WHERE message_sid = ?", (sent.json()["message_sid"],)
        ).fetchall()
        notes = db.execute(
            "SELECT count(*) FROM notifications WHERE user_id = ?", (ivy["id"],)
        ).fetchone()
    assert owners == [(None,)]
    assert notes == (0,)


# ---------------------------------------------------------------------------- password


def test_changing_my_password_ends_older_logins(start_service, caplog):
    import logging

    svc = start_service()
    old, new = "jack-password-1", "jack-password-2"
    token = svc.new_user("jack@example.com", password=old)
    other_session = svc.login("jack@example.com", old)
    with caplog.at_level(logging.DEBUG), svc.client(token) as client:
        answer = client.post(
            "/api/users/me/password", json={"current_password": old, "new_password": new}
        )
        assert answer.status_code == 200, answer.text
        fresh = answer.json()["access_token"]
        assert answer.json()["token_type"] == "bearer"
        assert client.get("/api/users/me").status_code == 401
    with svc.client(other_session) as client:
        assert client.get("/api/users/me").status_code == 401
    with svc.client(fresh) as client:
        assert client.get("/api/users/me").json()["email"] == "jack@example.com"
    with svc.client() as client:
        login_old = client.post(
            "/api/auth/login", json={"email": "jack@example.com", "password": old}
        )
        assert login_old.status_code == 401
        login_new = client.post(
            "/api/auth/login", json={"email": "jack@example.com", "password": new}
        )
        assert login_new.status_code == 200
    with svc.client(login_new.json()["access_token"]) as client:
        assert client.get("/api/users/me").status_code == 200
    assert "changed their password" in caplog.text
    for secret in (old, new):
        assert all(secret not in response for response in svc.responses)
        assert secret not in caplog.text


def test_a_wrong_current_password_changes_nothing(start_service):
    svc = start_service()
    token = svc.new_user("kim@example.com", password="kim-password-1")
    with svc.client(token) as client:
        answer = client.post(
            "/api/users/me/password",
            json={"current_password": "not-my-password", "new_password": "kim-password-2"},
        )
        assert answer.status_code == 400
        (detail,) = answer.json()["detail"]
        assert detail["field"] == "current_password"
        assert "not your current password" in detail["msg"]
        assert "not-my-password" not in answer.text
        assert client.get("/api/users/me").status_code == 200
    assert svc.login("kim@example.com", "kim-password-1")


def test_password_change_body_is_validated(service):
    token = service.new_user("leo@example.com", password="leo-password-1")
    with service.client(token) as client:
        for body, fields in [
            ({"current_password": "leo-password-1", "new_password": "short"}, ["new_password"]),
            (
                {"current_password": "leo-password-1", "new_password": "leo-password-1"},
                ["new_password"],
            ),
            ({"new_password": "x" * 1025}, ["current_password", "new_password"]),
            ({"current_password": "", "new_password": "long-enough-1", "x": 1}, None),
        ]:
            answer = client.post("/api/users/me/password", json=body)
            assert answer.status_code == 422, body
            found = [d["field"] for d in answer.json()["detail"]]
            assert found == (fields or ["current_password", "x"]), body
            assert "leo-password-1" not in answer.text
        assert client.get("/api/users/me").status_code == 200
