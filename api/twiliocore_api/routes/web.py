"""The web page at ``/``: log in, send a message, see the history (plain HTML + JS)."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["Web"], include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def index() -> HTMLResponse:
    """The single-page web UI."""
    page = resources.files("twiliocore_api").joinpath("static/index.html").read_text("utf-8")
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})
