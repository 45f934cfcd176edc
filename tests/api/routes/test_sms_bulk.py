"""Bulk jobs: 202 with counts, progress to completion, per-recipient results, visibility."""

from __future__ import annotations

import pytest

from tests.api.conftest import running_service


def _job(client, job_id):
    answer = client.get(f"/api/sms/bulk/{job_id}")
    assert answer.status_code == 200, answer.text
    return answer.json()


def _finished(client, job_id):
    job = _job(client, job_id)
    return job if job["status"] in ("completed", "failed") else None


def test_bulk_sms_runs_to_completion(service, wait_for):
    numbers = [
        "+14155550101",
        "(415) 555-0102",
        "415.555.0101",  # duplicate of the first
        "+15005550010",  # undelivered (30003)
        "+15005550001",  # rejected by Twilio (21211)
        "12",  # invalid
        "not a number",  # invalid
    ]
    with service.admin() as client:
        answer = client.post(
            "/api/sms/send-bulk", json={"phone_numbers": numbers, "message": "Sale!"}
        )
        assert answer.status_code == 202, answer.text
        accepted = answer.json()
        assert accepted["total"] == 7
        assert accepted["accepted"] == 4
        assert accepted["duplicates"] == 1
        assert accepted["refused"] == 0
        assert {i["number"] for i in accepted["invalid"]} == {"12", "not a number"}
        assert all(i["reason"] for i in accepted["invalid"])
        job = wait_for(lambda: _finished(client, accepted["job_id"]), what="the job to finish")
        assert job["status"] == "completed"
        assert job["pending"] == 0
        assert job["done"] == 4
        results = {r["to"]: r for r in job["results"]}
        assert set(results) == {"+14155550101", "+14155550102", "+15005550010", "+15005550001"}
        assert results["+15005550001"]["status"] == "failed"
        assert results["+15005550001"]["error_code"] == 21211
        for to in ("+14155550101", "+14155550102", "+15005550010"):
            assert results[to]["message_sid"].startswith("SM")
        # Callbacks finish the story per recipient.
        job = wait_for(
            lambda: (
                (j := _job(client, accepted["job_id"]))["counts"].get("delivered") == 2
                and j["counts"].get("undelivered") == 1
                and j
            ),
            what="delivery of every recipient",
        )
        assert {r["to"]: r["status"] for r in job["results"]}["+15005550010"] == "undelivered"
        # The 21211 was never created at Twilio; the other three were, and have arrived.
        assert job["delivery"] == {
            "accepted_by_twilio": 3,
            "queued_at_twilio": 0,
            "sent": 0,
            "delivered": 2,
            "failed": 1,
            "sender_rate": 1000.0,
            "eta_seconds": None,
        }
        # Each valid recipient was sent exactly once.
        sent_to = [m["to"] for m in service.emulator.messages() if m["body"] == "Sale!"]
        assert sorted(sent_to) == ["+14155550101", "+14155550102", "+15005550010"]
        page = client.get(f"/api/sms/bulk/{accepted['job_id']}", params={"limit": 2, "offset": 1})
        assert [r["to"] for r in page.json()["results"]] == [r["to"] for r in job["results"]][1:3]
        assert page.json()["done"] == 4
        history = client.get("/api/sms/messages", params={"limit": 500}).json()["data"]
        assert sum(1 for m in history if m["bulk_job_id"] == accepted["job_id"]) == 4


def test_bulk_sent_messages_carry_their_segment_count(service, wait_for):
    body = "Two parts: " + "x" * 160  # GSM-7, 171 septets
    with service.admin() as client:
        answer = client.post(
            "/api/sms/send-bulk", json={"phone_numbers": ["+14155550131"], "message": body}
        )
        assert answer.status_code == 202, answer.text
        job_id = answer.json()["job_id"]
        wait_for(lambda: _finished(client, job_id), what="the job to finish")
        history = client.get("/api/sms/messages", params={"limit": 500}).json()["data"]
    [sent] = [m for m in history if m["bulk_job_id"] == job_id]
    [at_twilio] = [m for m in service.emulator.messages() if m["body"] == body]
    assert sent["num_segments"] == int(at_twilio["num_segments"]) == 2


def test_bulk_whatsapp(service, wait_for):
    with service.admin() as client:
        answer = client.post(
            "/api/sms/whatsapp/send-bulk",
            json={
                "phone_numbers": ["+447400123401", "+447400123402"],
                "message": "WhatsApp bulk",
                "media_url": "https://example.com/p.png",
            },
        )
        assert answer.status_code == 202, answer.text
        job = wait_for(lambda: _finished(client, answer.json()["job_id"]), what="the job")
    assert job["type"] == "whatsapp"
    assert all(r["message_sid"] for r in job["results"])
    sent = [m for m in service.emulator.messages() if m["body"] == "WhatsApp bulk"]
    assert sorted(m["to"] for m in sent) == ["whatsapp:+447400123401", "whatsapp:+447400123402"]


def test_bulk_skips_opted_out_recipients(service, wait_for):
    import httpx

    number = "+14155550177"
    httpx.post(
        f"{service.emulator.url}/_emulator/inbound",
        data={"From": number, "To": "+15005550006", "Body": "STOP"},
        trust_env=False,
        timeout=30,
    ).raise_for_status()
    with service.admin() as client:
        wait_for(
            lambda: any(
                m["from"] == number
                for m in client.get("/api/sms/messages", params={"limit": 500}).json()["data"]
            ),
            what="the STOP",
        )
        answer = client.post(
            "/api/sms/send-bulk", json={"phone_numbers": [number, "+14155550178"], "message": "b"}
        ).json()
        assert answer["refused"] == 1
        job = wait_for(lambda: _finished(client, answer["job_id"]), what="the job")
    statuses = {r["to"]: r["status"] for r in job["results"]}
    assert statuses[number] == "refused"
    assert statuses["+14155550178"] != "refused"


def test_bulk_recipient_opted_out_at_twilio_is_refused(service, wait_for):
    # Twilio answers 21610 for +15005550004 (an opt-out the service never saw).
    with service.admin() as client:
        answer = client.post(
            "/api/sms/send-bulk",
            json={"phone_numbers": ["+15005550004", "+14155550179"], "message": "b"},
        ).json()
        job = wait_for(lambda: _finished(client, answer["job_id"]), what="the job")
    results = {r["to"]: r for r in job["results"]}
    assert results["+15005550004"]["status"] == "refused"
    assert results["+15005550004"]["error_code"] == 21610
    assert results["+14155550179"]["status"] != "refused"


def test_bulk_validation(start_service):
    svc = start_service(MAX_BULK_RECIPIENTS=3)
    with svc.admin() as client:
        too_many = client.post(
            "/api/sms/send-bulk",
            json={"phone_numbers": [f"+1415555010{i}" for i in range(4)], "message": "x"},
        )
        assert too_many.status_code == 422
        detail = too_many.json()["detail"][0]
        assert detail["field"] == "phone_numbers"
        assert "maximum of 3" in detail["msg"]
        empty = client.post("/api/sms/send-bulk", json={"phone_numbers": [], "message": "x"})
        assert empty.status_code == 422
        assert empty.json()["detail"][0]["field"] == "phone_numbers"
        no_text = client.post(
            "/api/sms/send-bulk", json={"phone_numbers": ["+14155550101"], "message": ""}
        )
        assert no_text.json()["detail"][0]["field"] == "message"
        not_list = client.post(
            "/api/sms/send-bulk", json={"phone_numbers": "+14155550101", "message": "x"}
        )
        assert not_list.status_code == 422


@pytest.mark.parametrize(
    ("media_url", "words"),
    [
        ("http://[::1/a.png", "host cannot be parsed"),
        ("http://:8080/a.png", "no host"),
        ("https://example.com:99999999/a.png", "port"),
    ],
)
def test_bulk_whatsapp_media_url_that_is_not_a_url_is_a_422(service, media_url, words):
    # Accepted, such a job ended with recipients "unknown": no job is started for it.
    to = "+14155550271"
    with service.admin() as client:
        answer = client.post(
            "/api/sms/whatsapp/send-bulk",
            json={"phone_numbers": [to], "message": "media", "media_url": media_url},
        )
        assert answer.status_code == 422, answer.text
        (detail,) = answer.json()["detail"]
        assert detail["field"] == "media_url"
        assert words in detail["msg"]
        assert client.get("/api/sms/messages", params={"to": to}).json()["count"] == 0


def test_bulk_of_many_bad_items_names_the_first_one(service):
    # Each of 300,000 nulls was an error of its own: seconds of the event loop and a
    # 40 MB answer. The first bad recipient is the error.
    with service.admin() as client:
        answer = client.post(
            "/api/sms/send-bulk",
            json={"phone_numbers": ["+14155550272", *[None] * 300_000], "message": "x"},
        )
    assert answer.status_code == 422, answer.text[:200]
    (detail,) = answer.json()["detail"]
    assert (detail["field"], detail["msg"]) == ("phone_numbers.1", "Input should be a valid string")


def test_users_see_only_their_own_jobs(service, wait_for):
    alice = service.new_user("alice-bulk@example.com")
    bob = service.new_user("bob-bulk@example.com")
    with service.client(alice) as client:
        job_id = client.post(
            "/api/sms/send-bulk", json={"phone_numbers": ["+14155550131"], "message": "mine"}
        ).json()["job_id"]
        assert client.get(f"/api/sms/bulk/{job_id}").status_code == 200
    with service.client(bob) as client:
        assert client.get(f"/api/sms/bulk/{job_id}").status_code == 404
    with service.admin() as client:
        assert client.get(f"/api/sms/bulk/{job_id}").status_code == 200
        assert client.get("/api/sms/bulk/no-such-job").status_code == 404


def test_bulk_job_with_faults_records_every_recipient_once(start_service, make_emulator, wait_for):
    # Twilio answering 429s and 5xx now and then: the job still settles every recipient,
    # and nobody gets the message twice.
    twilio = make_emulator(faults={"429": 0.1, "500": 0.05, "503": 0.05}, seed=7)
    svc = start_service(
        TWILIO_ACCOUNT_SID=twilio.account_sid,
        TWILIO_AUTH_TOKEN=twilio.auth_token,
        TWILIO_PHONE_NUMBER="+15005550006",
        TWILIO_API_BASE_URL=twilio.url,
    )
    numbers = [f"+1415555{i:04d}" for i in range(1000, 1050)]
    with svc.admin() as client:
        answer = client.post("/api/sms/send-bulk", json={"phone_numbers": numbers, "message": "f"})
        assert answer.status_code == 202
        job_id = answer.json()["job_id"]
        seen_progress = set()

        def finished():
            job = _job(client, job_id)
            seen_progress.add(job["done"])
            return job if job["status"] == "completed" else None

        job = wait_for(finished, timeout=120, what="the job")
    assert job["pending"] == 0
    assert job["done"] == 50
    assert max(seen_progress) == 50
    created = [m for m in twilio.messages() if m["body"] == "f"]
    per_number: dict[str, int] = {}
    for m in created:
        per_number[m["to"]] = per_number.get(m["to"], 0) + 1
    assert max(per_number.values()) == 1
    recorded = {r["to"]: r for r in job["results"]}
    for message in created:
        assert recorded[message["to"]]["message_sid"] == message["sid"]
    for result in job["results"]:
        if result["message_sid"] is None:
            assert result["status"] in ("failed", "unknown")
            assert result["error"]


def test_a_result_adopting_a_sid_another_send_recorded_loses_only_that_recipient(
    start_service, wait_for
):
    # After an ambiguous answer the fan-out looks the message up at Twilio by To, From and
    # body; the message it finds may be one that another send (a minute earlier, same text)
    # has already recorded. That recipient's outcome is unknown; the other recipients of the
    # batch are recorded as usual.
    svc = start_service()
    with svc.admin() as client:
        single = client.post(
            "/api/sms/send", json={"to_number": "+14155550141", "message": "Same text"}
        )
        assert single.status_code == 201, single.text
        earlier_sid = single.json()["message_sid"]
        bulk = svc.app.state.bulk
        real_bulk_send = bulk._bulk_send

        def adopting(work, recipients, on_result, stop):
            def report(result):
                if result.get("to") == "+14155550141":
                    result = dict(result, status="sent", message_sid=earlier_sid)
                on_result(result)

            return real_bulk_send(work, recipients, report, stop)

        bulk._bulk_send = adopting
        numbers = ["+14155550141", "+14155550142", "+14155550143"]
        answer = client.post(
            "/api/sms/send-bulk", json={"phone_numbers": numbers, "message": "Same text"}
        )
        assert answer.status_code == 202, answer.text
        job = wait_for(lambda: _finished(client, answer.json()["job_id"]), what="the job")
    results = {r["to"]: r for r in job["results"]}
    assert results["+14155550141"]["status"] == "unknown"
    assert results["+14155550141"]["message_sid"] is None
    assert earlier_sid in results["+14155550141"]["error"]
    for to in ("+14155550142", "+14155550143"):
        assert results[to]["message_sid"].startswith("SM")
        assert results[to]["status"] != "unknown"


def test_bulk_job_reports_the_queue_at_twilio_and_when_it_drains(tmp_path, wait_for):
    # The job ends once Twilio has taken every message; the sender's queue there drains at
    # its rate (here 0.5 segments/s): the job says how many still wait and for how long.
    with running_service(tmp_path, MOCK_EMULATOR_MPS=0.5, SEND_RATE_LIMIT=10_000) as svc:
        with svc.admin() as client:
            numbers = [f"+1415555{i:04d}" for i in range(200, 210)]
            answer = client.post(
                "/api/sms/send-bulk", json={"phone_numbers": numbers, "message": "Queued"}
            )
            assert answer.status_code == 202, answer.text
            job = wait_for(lambda: _finished(client, answer.json()["job_id"]), what="the job")
    assert job["status"] == "completed"
    on_its_way = job["delivery"]
    assert on_its_way["accepted_by_twilio"] == 10
    assert on_its_way["sender_rate"] == 0.5
    assert 5 <= on_its_way["queued_at_twilio"] <= 10  # at 0.5/s nearly all still wait
    assert on_its_way["eta_seconds"] == on_its_way["queued_at_twilio"] / 0.5
    assert on_its_way["delivered"] + on_its_way["sent"] + on_its_way["queued_at_twilio"] == 10
