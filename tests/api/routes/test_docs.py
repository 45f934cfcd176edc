"""API documentation: Swagger UI and ReDoc work offline; error answers are documented."""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

import httpx
import jsonschema
import pytest

CHROMIUM = "/usr/bin/chromium"


def _get(service, path: str) -> httpx.Response:
    return httpx.get(f"{service.url}{path}", trust_env=False, timeout=30)


@pytest.mark.parametrize("page", ["/api/docs", "/api/redoc"])
def test_doc_pages_load_nothing_from_other_hosts(service, page):
    html = _get(service, page).text
    urls = re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", html)
    assert urls, html
    assert all(url.startswith("/api/") for url in urls), urls
    for url in urls:
        asset = _get(service, url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 1000, url


def test_doc_assets_are_a_fixed_set(service):
    assert (
        _get(service, "/api/docs-static/swagger-ui.css")
        .headers["content-type"]
        .startswith("text/css")
    )
    for name in ("../__init__.py", "core.py", "%2e%2e%2fcore.py", "nothing.js"):
        assert _get(service, f"/api/docs-static/{name}").status_code == 404, name


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (scripts/setup.sh installs it)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        yield chromium
        chromium.close()


@pytest.fixture
def offline_page(browser):
    """A page whose requests to any host but loopback are aborted (and recorded)."""
    context = browser.new_context()
    blocked: list[str] = []

    def only_loopback(route):
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page, blocked
    context.close()


def test_swagger_ui_renders_offline(service, offline_page):
    from playwright.sync_api import expect

    page, blocked = offline_page
    page.goto(f"{service.url}/api/docs")
    expect(page.get_by_role("heading", name=re.compile("twiliocore service"))).to_be_visible()
    send = page.get_by_text("/api/sms/send", exact=True)
    expect(send).to_be_visible()
    send.click()  # the operation opens, with its documented answers
    expect(
        page.get_by_text("Send one SMS; the message is recorded before it is sent.")
    ).to_be_visible()
    assert blocked == []


def test_redoc_renders_offline(service, offline_page):
    from playwright.sync_api import expect

    page, blocked = offline_page
    page.goto(f"{service.url}/api/redoc")
    expect(page.get_by_role("heading", name=re.compile("twiliocore service"))).to_be_visible()
    expect(page.get_by_role("heading", name="Send Sms")).to_be_visible()
    assert blocked == []


def _operation(spec, path, method):
    return spec["paths"][path][method]


def _error_schema(spec, operation, code):
    answer = operation["responses"][str(code)]
    ref = answer["content"]["application/json"]["schema"]["$ref"]
    return spec["components"]["schemas"][ref.rsplit("/", 1)[1]]


@pytest.mark.parametrize(
    ("path", "method", "codes"),
    [
        ("/api/sms/send", "post", {401, 429}),
        ("/api/sms/send-bulk", "post", {401, 429}),
        ("/api/sms/settings", "get", {401, 403}),
        ("/api/sms/message-status/{message_sid}", "get", {401, 404}),
        ("/api/sms/bulk/{job_id}", "get", {401, 404}),
        ("/api/users", "post", {401, 403, 409}),
        ("/api/auth/login", "post", {401, 429}),
        ("/webhook/twilio/incoming", "post", {403}),
    ],
)
def test_openapi_documents_error_answers(service, path, method, codes):
    spec = _get(service, "/api/openapi.json").json()
    operation = _operation(spec, path, method)
    for code in codes:
        schema = _error_schema(spec, operation, code)
        assert schema["properties"]["detail"]["type"] == "string", (path, code)
        assert operation["responses"][str(code)]["description"], (path, code)


def test_health_documents_no_auth_errors(service):
    spec = _get(service, "/api/openapi.json").json()
    responses = _operation(spec, "/api/health", "get")["responses"]
    assert not {"401", "403", "404", "429"} & set(responses)


def test_real_error_answers_match_the_documented_model(start_service):
    svc = start_service(SEND_RATE_LIMIT=1)
    spec = _get(svc, "/api/openapi.json").json()
    schema = {**spec["components"]["schemas"]["ErrorMessage"], "additionalProperties": False}
    user = svc.new_user("docs-errors@example.com")
    answers = {}
    with svc.client() as anonymous:
        answers[401] = anonymous.get("/api/users/me")
    with svc.client(user) as client:
        answers[403] = client.get("/api/sms/settings")
        answers[404] = client.get("/api/sms/message-status/SM" + "0" * 32)
        client.post("/api/sms/send", json={"to_number": "+14155552671", "message": "1"})
        answers[429] = client.post(
            "/api/sms/send", json={"to_number": "+14155552671", "message": "2"}
        )
    with svc.admin() as admin:
        answers[409] = admin.post(
            "/api/users", json={"email": "docs-errors@example.com", "password": "x" * 12}
        )
    for code, answer in answers.items():
        assert answer.status_code == code, answer.text
        jsonschema.validate(answer.json(), schema)
