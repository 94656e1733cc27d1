"""``/docs`` (Swagger UI) and ``/redoc`` from files of an installed package, not a CDN.

FastAPI's own pages load Swagger UI and ReDoc from jsDelivr: they do not render
offline and run third-party script. Following FastAPI's "Self-hosting JavaScript and
CSS for docs", the kit serves the assets the ``fastapi-offline`` package ships (Swagger
UI 5, ReDoc 2) under ``/docs/static/`` and builds both pages on them, with a policy
(:func:`kontor_servicekit.browser.html_page`) that allows the page's one inline
script by its hash and nothing from another origin. Swagger UI's validator badge
(a call to validator.swagger.io) is switched off. ReDoc's bundle draws the Redocly
logo from cdn.redoc.ly in its menu, which the policy refuses (a CSP violation on every
visit, seen in the browser tier): the kit serves the bundle with that address replaced
by an empty ``data:`` image, which ReDoc's own error handler then hides.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from kontor_servicekit.browser import html_page

__all__ = ["DOCS_ASSETS", "DOCS_STATIC_URL", "install_docs"]

#: The directory of the shipped Swagger UI and ReDoc files.
DOCS_ASSETS = Path(fastapi_offline.__file__).parent / "static"
DOCS_STATIC_URL = "/docs/static"
REDOC_BUNDLE = "redoc.standalone.js"
#: What ReDoc's bundle would fetch from another origin, and what it gets instead.
REDOC_CDN_LOGO = (b"https://cdn.redoc.ly/redoc/logo-mini.svg", b"data:,")


def redoc_bundle() -> bytes:
    """ReDoc's standalone bundle without its one request to another origin."""
    bundle = (DOCS_ASSETS / REDOC_BUNDLE).read_bytes()
    return bundle.replace(*REDOC_CDN_LOGO)


def install_docs(app: FastAPI, *, docs_url: str = "/docs", redoc_url: str = "/redoc") -> None:
    """Serve Swagger UI at ``docs_url`` and ReDoc at ``redoc_url`` from :data:`DOCS_ASSETS`.

    The app must be built with ``docs_url=None, redoc_url=None`` (FastAPI's CDN pages off).
    """
    bundle = redoc_bundle()

    # Before the mount, so that this one file of it is answered here.
    @app.get(f"{DOCS_STATIC_URL}/{REDOC_BUNDLE}", include_in_schema=False)
    async def redoc_script() -> Response:
        return Response(bundle, media_type="text/javascript")

    app.mount(DOCS_STATIC_URL, StaticFiles(directory=DOCS_ASSETS), name="docs-static")

    def page(request: Request, build: Callable[[str, str], HTMLResponse]) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        built = build(f"{root}{app.openapi_url}", f"{root}{DOCS_STATIC_URL}")
        return html_page(bytes(built.body).decode("utf-8"), inline_style_attributes=True)

    def swagger_ui_html(openapi: str, static: str) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{static}/swagger-ui-bundle.js",
            swagger_css_url=f"{static}/swagger-ui.css",
            swagger_favicon_url=f"{static}/favicon.png",
            oauth2_redirect_url=None,
            swagger_ui_parameters={"validatorUrl": None, **(app.swagger_ui_parameters or {})},
        )

    def redoc_html(openapi: str, static: str) -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{static}/{REDOC_BUNDLE}",
            redoc_favicon_url=f"{static}/favicon.png",
            with_google_fonts=False,
        )

    @app.get(docs_url, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        return page(request, swagger_ui_html)

    @app.get(redoc_url, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        return page(request, redoc_html)
