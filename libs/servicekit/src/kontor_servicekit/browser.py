"""The browser's defences on every response, and HTML pages that keep working under them.

:class:`SecurityHeadersMiddleware` (installed by the kit on every service) adds
:data:`SECURITY_HEADERS` to every HTTP response that does not set the header itself:

- ``Content-Security-Policy``: for the APIs ``default-src 'none'`` (a JSON or
  problem body opened in a browser runs nothing, loads nothing) and
  ``frame-ancestors 'none'`` (nothing is framed: clickjacking);
- ``X-Frame-Options: DENY`` (the same for browsers without CSP level 2);
- ``X-Content-Type-Options: nosniff`` (a body is never run as another type);
- ``Referrer-Policy: no-referrer`` (no URL with an id leaves in a Referer).

An HTML page has inline script or style a strict policy refuses. :func:`html_page`
answers with a policy of its own that allows exactly the page's inline ``<script>``
and ``<style>`` blocks by their SHA-256 hashes (CSP level 2), plus scripts, styles,
images and ``fetch`` calls of the same origin; no ``'unsafe-inline'`` script ever.
The orders' withdrawal form and the kit's ``/docs`` use it.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping, Sequence

from fastapi.responses import HTMLResponse

from kontor_servicekit.errors.body_limit import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "API_CSP",
    "SECURITY_HEADERS",
    "SecurityHeadersMiddleware",
    "html_page",
    "inline_hashes",
    "page_csp",
]

#: The policy of every non-HTML response: nothing may run, load or frame it.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

#: Set on every response that does not set the header itself.
SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": API_CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

_ENCODED = [(name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS.items()]

_INLINE = {
    "script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE),
    "style": re.compile(r"<style[^>]*>(.*?)</style>", re.DOTALL | re.IGNORECASE),
}


def inline_hashes(html: str, tag: str) -> list[str]:
    """The CSP source expressions (``'sha256-...'``) of the inline ``tag`` blocks of ``html``."""
    hashes = []
    for match in _INLINE[tag].finditer(html):
        digest = hashlib.sha256(match.group(1).encode("utf-8")).digest()
        hashes.append(f"'sha256-{base64.b64encode(digest).decode('ascii')}'")
    return hashes


def page_csp(html: str, *, inline_style_attributes: bool = False) -> str:
    """The policy for ``html``: same-origin sources, its own inline blocks by hash.

    ``inline_style_attributes``: also ``style-src 'unsafe-inline'``, for pages whose
    script library sets ``style`` attributes in markup (Swagger UI, ReDoc); scripts
    stay restricted to the origin and the page's hashed blocks.
    """
    scripts = " ".join(["'self'", *inline_hashes(html, "script")])
    styles = ["'self'"]
    styles += ["'unsafe-inline'"] if inline_style_attributes else inline_hashes(html, "style")
    directives: Sequence[str] = (
        "default-src 'none'",
        f"script-src {scripts}",
        f"style-src {' '.join(styles)}",
        "img-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
    return "; ".join(directives)


def html_page(
    html: str, *, status_code: int = 200, inline_style_attributes: bool = False
) -> HTMLResponse:
    """``html`` as a response with the policy :func:`page_csp` computes for it."""
    policy = page_csp(html, inline_style_attributes=inline_style_attributes)
    return HTMLResponse(html, status_code=status_code, headers={"Content-Security-Policy": policy})


class SecurityHeadersMiddleware:
    """Adds :data:`SECURITY_HEADERS` to every HTTP response that lacks them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, _adding_headers(send) if scope["type"] == "http" else send)


def _adding_headers(send: Send) -> Send:
    async def with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            present = {bytes(name).lower() for name, _ in headers}
            headers += [(n, v) for n, v in _ENCODED if n not in present]
            message["headers"] = headers
        await send(message)

    return with_headers
