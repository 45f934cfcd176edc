"""The web page at /."""

from __future__ import annotations


def test_index_page_is_served(service):
    with service.client() as client:
        answer = client.get("/")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    page = answer.text
    for needle in (
        "/api/auth/login",
        "/api/sms/send",
        "/api/sms/whatsapp/send",
        "/api/sms/messages",
        "/api/health",
        'id="login-form"',
        'id="send-form"',
    ):
        assert needle in page
    # Values from the API are inserted as text, never as markup.
    assert "innerHTML" not in page
