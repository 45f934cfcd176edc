"""Start-up: migrations, the first admin, the generated SECRET_KEY, restarts."""

from __future__ import annotations

import re
import stat
from datetime import datetime, timedelta, timezone


def test_first_start_generates_admin_password_and_secret_key(tmp_path, run_service, caplog):
    caplog.set_level("INFO", logger="twiliocore_api")
    with run_service(
        tmp_path, SECRET_KEY=None, ADMIN_PASSWORD=None, ADMIN_EMAIL="boss@example.com"
    ) as svc:
        found = re.search(r"generated password (\S+)", caplog.text)
        assert found, caplog.text
        password = found.group(1)
        token = svc.login("boss@example.com", password)
        assert "SECRET_KEY not set: generated a new one" in caplog.text
        assert "MOCK MODE" in caplog.text
    key_file = tmp_path / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().strip() not in caplog.text
    caplog.clear()
    with run_service(
        tmp_path, SECRET_KEY=None, ADMIN_PASSWORD=None, ADMIN_EMAIL="boss@example.com"
    ) as svc:
        assert "generated password" not in caplog.text  # printed once only
        assert "using the generated key" in caplog.text
        # Tokens from before the restart still work: the key was kept.
        with svc.client(token) as client:
            assert client.get("/api/users/me").json()["email"] == "boss@example.com"


def test_admin_from_environment(tmp_path, run_service, caplog):
    caplog.set_level("INFO", logger="twiliocore_api")
    with run_service(
        tmp_path, ADMIN_EMAIL="ops@example.com", ADMIN_PASSWORD="ops-password-1"
    ) as svc:
        assert svc.login("ops@example.com", "ops-password-1")
    assert "ops-password-1" not in caplog.text


def test_interrupted_work_is_settled_at_start(tmp_path, run_service, wait_for):
    # A bulk job left running with no queue job (recorded before the job queue existed)
    # is resumed by itself, no longer marked interrupted with its recipients unknown.
    from twiliocore_api.models import BulkJob, Message

    with run_service(tmp_path) as svc:
        with svc.messenger.session_factory() as db:
            db.add(
                BulkJob(
                    id="job-1",
                    user_id=None,
                    type="sms",
                    body="x",
                    status="running",
                    started_at=datetime.now(timezone.utc) - timedelta(minutes=1),
                    total=1,
                    accepted=1,
                    duplicates=0,
                    invalid=[],
                )
            )
            db.add(
                Message(
                    bulk_job_id="job-1",
                    type="sms",
                    direction="outbound-api",
                    to_number="+14155552671",
                    body="x",
                    status="pending",
                )
            )
            old = datetime.now(timezone.utc) - timedelta(hours=1)
            for body, created in (("lost", old), ("in flight elsewhere", None)):
                db.add(
                    Message(
                        type="sms",
                        direction="outbound-api",
                        to_number="+14155552672",
                        body=body,
                        status="pending",
                        **({"created_at": created} if created else {}),
                    )
                )
            db.commit()
    with run_service(tmp_path) as svc, svc.admin() as client:
        job = wait_for(
            lambda: (j := client.get("/api/sms/bulk/job-1").json())["status"] == "completed" and j,
            what="the job to resume and complete",
        )
        sent = [m for m in svc.emulator.messages() if m["body"] == "x"]
        singles = {
            m["body"]: m["status"]
            for m in client.get("/api/sms/messages").json()["data"]
            if m["bulk_job_id"] is None
        }
    assert [m["to"] for m in sent] == ["+14155552671"]
    assert job["results"][0]["message_sid"] == sent[0]["sid"]
    assert singles == {"lost": "unknown", "in flight elsewhere": "pending"}
