"""The API's documentation pages, Swagger UI (``/api/docs``) and ReDoc (``/api/redoc``).

Their scripts, style sheet and icon are served by the service itself from
``/api/docs-static/`` (the files that the ``fastapi-offline`` package ships), never from a
CDN, so the pages work on a machine without internet access. The app is built with
``docs_url=None, redoc_url=None`` and includes this router instead.
"""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

__all__ = ["ASSETS_URL", "router"]

router = APIRouter(include_in_schema=False)

#: Where the pages' assets are served.
ASSETS_URL = "/api/docs-static"

# The files the pages load, as the package ships them: name -> media type.
_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}


# The pages may load nothing from another host: ReDoc's footer would fetch Redocly's logo
# from a CDN (it hides itself when refused), and no page needs anything but this service.
_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'"
)


def _page(response: HTMLResponse) -> HTMLResponse:
    response.headers["Content-Security-Policy"] = _CSP
    return response


def _openapi_url(request: Request) -> str:
    return str(request.app.openapi_url or "/api/openapi.json")


@router.get("/api/docs", response_class=HTMLResponse)
def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI over the service's OpenAPI document."""
    return _page(
        get_swagger_ui_html(
            openapi_url=_openapi_url(request),
            title=f"{request.app.title} - Swagger UI",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
        )
    )


@router.get("/api/redoc", response_class=HTMLResponse)
def redoc(request: Request) -> HTMLResponse:
    """ReDoc over the service's OpenAPI document (without Google Fonts)."""
    return _page(
        get_redoc_html(
            openapi_url=_openapi_url(request),
            title=f"{request.app.title} - ReDoc",
            redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
    )


@router.get(ASSETS_URL + "/{name}")
def asset(name: str) -> FileResponse:
    """One of the pages' assets (404 for any other name)."""
    media_type = _ASSETS.get(name)
    if media_type is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such documentation asset")
    # fastapi-offline is an installed directory package: its files have filesystem paths.
    path = resources.files("fastapi_offline").joinpath("static", name)
    return FileResponse(str(path), media_type=media_type)
