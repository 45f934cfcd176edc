"""The service on PostgreSQL: migrations, sends, callbacks, webhooks, bulk, history."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from twiliocore import RequestValidator
from twiliocore_api.core.db import make_engine, run_migrations
from twiliocore_api.models import Base


def test_migrations_match_models_on_postgres(postgres_url):
    engine = make_engine(postgres_url)
    run_migrations(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_service_runs_on_postgres(postgres_url, start_service, wait_for):
    svc = start_service(DATABASE_URL=postgres_url)
    with svc.admin() as client:
        health = client.get("/api/health").json()
        assert health["database_reachable"] is True
        sent = client.post(
            "/api/sms/send", json={"to_number": "+14155552671", "message": "on postgres"}
        )
        assert sent.status_code == 201, sent.text
        sid = sent.json()["message_sid"]
        wait_for(
            lambda: client.get(f"/api/sms/message-status/{sid}").json()["status"] == "delivered",
            what="delivery",
        )
        # Idempotency: the same token twice, the second with another status.
        params = {"MessageSid": sid, "MessageStatus": "read"}
        url = svc.url + "/webhook/twilio/status"
        signature = RequestValidator(svc.emulator.auth_token).compute_signature(url, params)
        headers = {"X-Twilio-Signature": signature, "I-Twilio-Idempotency-Token": "pg-1"}
        assert (
            client.post("/webhook/twilio/status", data=params, headers=headers).status_code == 204
        )
        assert (
            client.post("/webhook/twilio/status", data=params, headers=headers).status_code == 204
        )
        assert client.get(f"/api/sms/message-status/{sid}").json()["status"] == "read"
        # Inbound STOP, then a refused send.
        httpx.post(
            f"{svc.emulator.url}/_emulator/inbound",
            data={"From": "+14155550401", "To": "+15005550006", "Body": "STOP"},
            trust_env=False,
            timeout=30,
        ).raise_for_status()
        refused = client.post("/api/sms/send", json={"to_number": "+14155550401", "message": "x"})
        assert refused.status_code == 409
        job = client.post(
            "/api/sms/send-bulk",
            json={
                "phone_numbers": ["+14155550402", "+14155550403", "+14155550402"],
                "message": "b",
            },
        ).json()
        assert (job["accepted"], job["duplicates"]) == (2, 1)
        done = wait_for(
            lambda: (
                (j := client.get(f"/api/sms/bulk/{job['job_id']}").json())["status"] == "completed"
                and j
            ),
            what="the bulk job",
        )
        assert all(r["message_sid"] for r in done["results"])
        since = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
        history = client.get("/api/sms/messages", params={"date_from": since, "type": "sms"}).json()
        assert history["count"] >= 4
        settings = client.post(
            "/api/sms/settings",
            json={
                "account_sid": svc.emulator.account_sid,
                "auth_token": svc.emulator.auth_token,
                # Stored without asking Twilio: a check would go to api.twilio.com.
                "verify": False,
            },
        )
        assert settings.status_code == 200
        assert (
            client.post("/api/notifications", json={"user_id": 1, "message": "n"}).status_code
            == 201
        )


def test_nul_characters_are_a_422_or_not_found_on_postgres(postgres_url, start_service):
    # PostgreSQL refuses U+0000 in text where SQLite stores it: bad input, never a 500.
    svc = start_service(DATABASE_URL=postgres_url)
    with svc.admin() as client:
        for path, body, field in [
            ("/api/sms/send", {"to_number": "+14155552671", "message": "a\x00b"}, "message"),
            (
                "/api/sms/whatsapp/send",
                {"to_number": "+14155552671", "message": "a", "media_url": "https://x/\x00"},
                "media_url",
            ),
            ("/api/notifications", {"user_id": 1, "message": "a\x00"}, "message"),
            ("/api/auth/login", {"email": "admin\x00@example.com", "password": "x"}, "email"),
        ]:
            answer = client.post(path, json=body)
            assert answer.status_code == 422, (path, answer.text)
            assert answer.json()["detail"][0]["field"] == field
        status = client.get("/api/sms/messages", params={"status": "sent\x00"})
        assert status.status_code == 422, status.text
        assert status.json()["detail"][0]["field"] == "status"
        assert client.get("/api/sms/message-status/SM%00").status_code == 404
        assert client.get("/api/sms/message-status/SM" + "0" * 40).status_code == 404
        assert client.get("/api/sms/bulk/job%00").status_code == 404
        assert client.get("/api/health").json()["database_reachable"] is True


def test_signed_webhooks_with_odd_fields_are_never_a_500_on_postgres(postgres_url, start_service):
    svc = start_service(DATABASE_URL=postgres_url)

    def post(path, params, **headers):
        url = svc.url + path
        signature = RequestValidator(svc.emulator.auth_token).compute_signature(url, params)
        with svc.client() as client:
            return client.post(
                path, data=params, headers={"X-Twilio-Signature": signature, **headers}
            )

    inbound = {"From": "+14155550501", "To": "+15005550006", "MessageSid": "SM" + "6" * 32}
    assert post("/webhook/twilio/incoming", {**inbound, "Body": "hi\x00"}).status_code == 200
    for odd in (
        {"From": "+1" * 40, "MessageSid": "SM" + "7" * 32},
        {"MessageSid": "SM" + "7" * 40},
    ):
        assert post("/webhook/twilio/incoming", {**inbound, **odd}).status_code == 400
    status = {"MessageSid": "SM" + "8" * 32, "MessageStatus": "sent"}
    assert post("/webhook/twilio/status", {**status, "MessageSid": "SM\x00"}).status_code == 204
    assert post("/webhook/twilio/status", {**status, "MessageStatus": "s" * 40}).status_code == 400
    token = {"I-Twilio-Idempotency-Token": "t" * 300}
    assert post("/webhook/twilio/status", status, **token).status_code == 204
    assert post("/webhook/twilio/status", status, **token).status_code == 204
    with svc.admin() as client:
        stored = client.get("/api/sms/messages", params={"to": "+15005550006"}).json()
    assert [m["body"] for m in stored["data"]] == ["hi"]


def test_user_routes_on_postgres(postgres_url, start_service):
    # The last-admin rule locks the admins' rows (FOR UPDATE), and deletion relies on the
    # foreign keys: messages lose their owner, notifications go.
    svc = start_service(DATABASE_URL=postgres_url)
    token = svc.new_user("pg-user@example.com", phone_number="+14155552671")
    with svc.client(token) as client:
        user = client.get("/api/users/me").json()
        sent = client.post("/api/sms/send", json={"to_number": "+14155550123", "message": "x"})
        assert sent.status_code == 201, sent.text
        changed = client.post(
            "/api/users/me/password",
            json={"current_password": "user-password-123", "new_password": "user-password-456"},
        )
        assert changed.status_code == 200, changed.text
        assert client.get("/api/users/me").status_code == 401
    with svc.admin() as admin:
        assert admin.patch("/api/users/1", json={"role": "user"}).status_code == 409
        assert admin.get("/api/users", params={"search": "PG-"}).json()["count"] == 1
        note = admin.post("/api/notifications", json={"user_id": user["id"], "message": "n"})
        assert note.status_code == 201, note.text
        assert admin.delete(f"/api/users/{user['id']}").status_code == 204
        history = admin.get("/api/sms/messages").json()["data"]
    kept = [m for m in history if m["message_sid"] == sent.json()["message_sid"]]
    assert len(kept) == 1
    engine = make_engine(postgres_url)
    with engine.connect() as connection:
        owner = connection.exec_driver_sql(
            "SELECT user_id FROM messages WHERE message_sid = %s", (kept[0]["message_sid"],)
        ).all()
        notes = connection.exec_driver_sql(
            "SELECT count(*) FROM notifications WHERE user_id = %s", (user["id"],)
        ).scalar()
    engine.dispose()
    assert owner == [(None,)]
    assert notes == 0
