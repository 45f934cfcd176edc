"""History, message status and preferences."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import pytest


def test_history_filters_and_paging(start_service):
    svc = start_service()
    with svc.admin() as client:
        for i in range(3):
            assert (
                client.post(
                    "/api/sms/send", json={"to_number": f"+1415555020{i}", "message": f"sms {i}"}
                ).status_code
                == 201
            )
        assert (
            client.post(
                "/api/sms/whatsapp/send", json={"to_number": "+14155550209", "message": "wa"}
            ).status_code
            == 201
        )
        everything = client.get("/api/sms/messages").json()
        assert everything["count"] == 4
        record = everything["data"][0]
        assert set(record) >= {
            "message_sid",
            "to",
            "from",
            "type",
            "direction",
            "body",
            "status",
            "sent_at",
            "delivered_at",
            "error_code",
            "error",
        }
        assert record["body"] == "wa"  # newest first
        assert client.get("/api/sms/messages", params={"type": "whatsapp"}).json()["count"] == 1
        assert client.get("/api/sms/messages", params={"type": "sms"}).json()["count"] == 3
        one = client.get("/api/sms/messages", params={"to": "(415) 555-0201"}).json()
        assert [m["body"] for m in one["data"]] == ["sms 1"]
        page = client.get("/api/sms/messages", params={"limit": 2, "offset": 1}).json()
        assert (page["count"], page["limit"], page["offset"]) == (4, 2, 1)
        assert [m["body"] for m in page["data"]] == ["sms 2", "sms 1"]
        future = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
        past = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
        assert client.get("/api/sms/messages", params={"date_from": future}).json()["count"] == 0
        assert (
            client.get("/api/sms/messages", params={"date_from": past, "date_to": future}).json()[
                "count"
            ]
            == 4
        )
        # A date alone as the end of the range takes in all of that day (UTC).
        today = datetime.now(timezone.utc).date().isoformat()
        until_today = client.get("/api/sms/messages", params={"date_to": today})
        assert until_today.status_code == 200, until_today.text
        assert until_today.json()["count"] == 4
        assert (
            client.get("/api/sms/messages", params={"date_from": today, "date_to": today}).json()[
                "count"
            ]
            == 4
        )
        # An unknown status is a 422 naming the filter (it used to match nothing, silently).
        unknown = client.get("/api/sms/messages", params={"status": "no-such"})
        assert unknown.status_code == 422
        assert unknown.json()["detail"][0]["field"] == "status"
        for params, field in [
            ({"type": "fax"}, "type"),
            ({"limit": 0}, "limit"),
            ({"offset": -1}, "offset"),
            ({"date_from": "yesterday"}, "date_from"),
            ({"to": "12"}, "to"),
        ]:
            bad = client.get("/api/sms/messages", params=params)
            assert bad.status_code == 422, params
            assert bad.json()["detail"][0]["field"] == field


def test_status_filter_names_the_allowed_values(service):
    with service.admin() as client:
        bad = client.get("/api/sms/messages", params={"status": "bogus"})
        assert bad.status_code == 422
        (detail,) = bad.json()["detail"]
        assert detail["field"] == "status"
        for allowed in ("queued", "sent", "delivered", "undelivered", "failed", "received"):
            assert allowed in detail["msg"]
        assert "bogus" not in detail["msg"]  # the input is never echoed
        assert client.get("/api/sms/messages", params={"status": "delivered"}).status_code == 200
    spec = httpx.get(f"{service.url}/api/openapi.json", trust_env=False).json()
    parameters = spec["paths"]["/api/sms/messages"]["get"]["parameters"]
    (status_param,) = [p for p in parameters if p["name"] == "status"]
    assert "delivered" in str(status_param["schema"])


def test_direction_filter(start_service, wait_for):
    svc = start_service()
    sender = "+14155550271"
    with svc.admin() as client:
        sent = client.post("/api/sms/send", json={"to_number": sender, "message": "out"})
        assert sent.status_code == 201, sent.text
        answer = httpx.post(
            f"{svc.emulator.url}/_emulator/inbound",
            data={"From": sender, "To": "+15005550006", "Body": "in"},
            timeout=30,
            trust_env=False,
        )
        assert answer.status_code in (200, 201), answer.text
        wait_for(
            lambda: client.get("/api/sms/messages").json()["count"] == 2, what="the inbound row"
        )
        inbound = client.get("/api/sms/messages", params={"direction": "inbound"}).json()
        outbound = client.get("/api/sms/messages", params={"direction": "outbound"}).json()
        assert [(m["body"], m["direction"]) for m in inbound["data"]] == [("in", "inbound")]
        assert [(m["body"], m["direction"]) for m in outbound["data"]] == [("out", "outbound-api")]
        bad = client.get("/api/sms/messages", params={"direction": "sideways"})
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["field"] == "direction"
        assert "inbound" in bad.json()["detail"][0]["msg"]


def test_whatsapp_media_url_is_in_the_history(service):
    media = "https://example.com/history-photo.jpg"
    with service.admin() as client:
        sent = client.post(
            "/api/sms/whatsapp/send",
            json={"to_number": "+447400123457", "message": "photo", "media_url": media},
        )
        assert sent.status_code == 201, sent.text
        sid = sent.json()["message_sid"]
        record = client.get(f"/api/sms/message-status/{sid}").json()
        rows = client.get("/api/sms/messages", params={"type": "whatsapp", "limit": 500}).json()
    assert record["media_url"] == media
    assert [m["media_url"] for m in rows["data"] if m["message_sid"] == sid] == [media]


def test_users_see_only_their_own_messages(service):
    alice = service.new_user("alice-history@example.com")
    bob = service.new_user("bob-history@example.com")
    with service.client(alice) as client:
        sid = client.post(
            "/api/sms/send", json={"to_number": "+14155550231", "message": "alice's"}
        ).json()["message_sid"]
        assert [m["body"] for m in client.get("/api/sms/messages").json()["data"]] == ["alice's"]
        assert client.get(f"/api/sms/message-status/{sid}").status_code == 200
    with service.client(bob) as client:
        assert client.get("/api/sms/messages").json()["count"] == 0
        assert client.get(f"/api/sms/message-status/{sid}").status_code == 404
    with service.admin() as client:
        assert client.get(f"/api/sms/message-status/{sid}").status_code == 200
        assert client.get("/api/sms/message-status/SM" + "9" * 32).status_code == 404


def test_message_status_refreshes_from_twilio_when_not_final(start_service, make_emulator):
    # Callbacks cannot reach this service (WEBHOOK_BASE_URL points nowhere): only the
    # refresh from Twilio can move the record.
    twilio = make_emulator()
    svc = start_service(
        TWILIO_ACCOUNT_SID=twilio.account_sid,
        TWILIO_AUTH_TOKEN=twilio.auth_token,
        TWILIO_PHONE_NUMBER="+15005550006",
        TWILIO_API_BASE_URL=twilio.url,
        WEBHOOK_BASE_URL="http://127.0.0.1:9",
    )
    with svc.admin() as client:
        sid = client.post(
            "/api/sms/send", json={"to_number": "+14155552671", "message": "poll me"}
        ).json()["message_sid"]
        import time

        deadline = time.monotonic() + 20
        while twilio.message(sid).status != "delivered":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        record = client.get(f"/api/sms/message-status/{sid}").json()
    assert record["status"] == "delivered"
    assert record["delivered_at"] is not None


def test_sent_at_is_when_twilio_reports_sent_not_acceptance(start_service, make_emulator):
    # Callbacks cannot reach this service: only refreshes from Twilio move the record.
    twilio = make_emulator(status_delay=3.0)
    svc = start_service(
        TWILIO_ACCOUNT_SID=twilio.account_sid,
        TWILIO_AUTH_TOKEN=twilio.auth_token,
        TWILIO_PHONE_NUMBER="+15005550006",
        TWILIO_API_BASE_URL=twilio.url,
        WEBHOOK_BASE_URL="http://127.0.0.1:9",
    )
    import time

    with svc.admin() as client:
        sent = client.post("/api/sms/send", json={"to_number": "+14155552671", "message": "x"})
        assert sent.status_code == 201, sent.text
        sid = sent.json()["message_sid"]
        accepted = client.get(f"/api/sms/message-status/{sid}").json()
        assert twilio.message(sid).status in ("queued", "sending"), "the emulator was too slow"
        assert accepted["status"] in ("queued", "sending")
        assert accepted["sent_at"] is None
        deadline = time.monotonic() + 30
        while twilio.message(sid).status not in ("sent", "delivered"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        record = client.get(f"/api/sms/message-status/{sid}").json()
    assert record["status"] in ("sent", "delivered")
    assert record["sent_at"] is not None
    sent_at = datetime.fromisoformat(record["sent_at"])
    assert sent_at > datetime.fromisoformat(accepted["created_at"])


def test_preferences(service):
    token = service.new_user("prefs@example.com")
    with service.client(token) as client:
        assert client.get("/api/sms/preferences").json() == {
            "sms_enabled": True,
            "whatsapp_enabled": False,
            "phone_number": None,
        }
        answer = client.put(
            "/api/sms/preferences",
            json={"whatsapp_enabled": True, "phone_number": "(415) 555-2671"},
        )
        assert answer.status_code == 200
        assert answer.json() == {
            "sms_enabled": True,
            "whatsapp_enabled": True,
            "phone_number": "+14155552671",
        }
        assert (
            client.put("/api/sms/preferences", json={"sms_enabled": False}).json()["phone_number"]
            == "+14155552671"
        )
        bad = client.put("/api/sms/preferences", json={"phone_number": "123"})
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["field"] == "phone_number"
        bad = client.put("/api/sms/preferences", json={"sms_enabled": "perhaps"})
        assert bad.json()["detail"][0]["field"] == "sms_enabled"
        cleared = client.put("/api/sms/preferences", json={"phone_number": None}).json()
        assert cleared["phone_number"] is None
        assert client.get("/api/sms/preferences").json()["sms_enabled"] is False


def test_out_of_range_numbers_and_dates_are_a_422_not_a_500(service):
    huge = str(10**30)
    with service.admin() as client:
        job_id = client.post(
            "/api/sms/send-bulk", json={"phone_numbers": ["+14155550250"], "message": "range"}
        ).json()["job_id"]
        for path, params, field in [
            ("/api/sms/messages", {"offset": huge}, "offset"),
            ("/api/sms/messages", {"date_from": "0001-01-01T00:00:00+14:00"}, "date_from"),
            ("/api/sms/messages", {"date_to": "9999-12-31T23:59:59-12:00"}, "date_to"),
            (f"/api/sms/bulk/{job_id}", {"offset": huge}, "offset"),
            ("/api/notifications", {"offset": huge}, "offset"),
        ]:
            bad = client.get(path, params=params)
            assert bad.status_code == 422, (path, params, bad.text)
            assert bad.json()["detail"][0]["field"] == field
        bad = client.post("/api/notifications", json={"user_id": 10**30, "message": "x"})
        assert bad.status_code == 422, bad.text
        assert bad.json()["detail"][0]["field"] == "user_id"
        # A time without an offset is UTC, as stored.
        naive_past = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(tzinfo=None)
        recent = client.get("/api/sms/messages", params={"date_from": naive_past.isoformat()})
        assert recent.status_code == 200
        assert recent.json()["count"] >= 1


def test_preferences_null_switch_is_a_422_not_ignored(service):
    token = service.new_user("prefs-null@example.com")
    with service.client(token) as client:
        for field in ("sms_enabled", "whatsapp_enabled"):
            bad = client.put("/api/sms/preferences", json={field: None})
            assert bad.status_code == 422, bad.text
            assert bad.json()["detail"][0]["field"] == field
            assert "true or false" in bad.json()["detail"][0]["msg"]


def test_preferences_switches_take_only_json_booleans(service):
    token = service.new_user("prefs-strict@example.com")
    with service.client(token) as client:
        before = client.get("/api/sms/preferences").json()
        for field, value in [
            ("sms_enabled", "no"),
            ("sms_enabled", 0),
            ("whatsapp_enabled", "yes"),
            ("whatsapp_enabled", 1),
            ("whatsapp_enabled", "true"),
        ]:
            bad = client.put("/api/sms/preferences", json={field: value})
            assert bad.status_code == 422, (field, value, bad.text)
            assert bad.json()["detail"][0]["field"] == field
            assert "boolean" in bad.json()["detail"][0]["msg"]
        assert client.get("/api/sms/preferences").json() == before


def test_date_range_that_ends_before_it_starts_is_a_422(service):
    with service.admin() as client:
        bad = client.get(
            "/api/sms/messages", params={"date_from": "2026-03-02", "date_to": "2026-03-01"}
        )
        assert bad.status_code == 422, bad.text
        (detail,) = bad.json()["detail"]
        assert (detail["loc"], detail["field"]) == (["query", "date_to"], "date_to")
        assert "before date_from" in detail["msg"]
        one_day = {"date_from": "2026-03-01", "date_to": "2026-03-01"}
        assert client.get("/api/sms/messages", params=one_day).status_code == 200


@pytest.mark.parametrize("value", ["20261205", "1700000000", "-1", "1.5e9", "9999999999999"])
@pytest.mark.parametrize("field", ["date_from", "date_to"])
def test_a_number_as_a_date_is_a_422_not_a_unix_time(service, field, value):
    # Read as seconds since 1970, "20261205" would silently filter on 1970-08-23.
    with service.admin() as client:
        bad = client.get("/api/sms/messages", params={field: value})
    assert bad.status_code == 422, bad.text
    (detail,) = bad.json()["detail"]
    assert (detail["loc"], detail["field"]) == (["query", field], field)
    assert "ISO 8601" in detail["msg"]
