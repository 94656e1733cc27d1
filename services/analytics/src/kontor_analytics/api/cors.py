"""CORS for ``POST /collect`` only: the shop's pages post the snippet's events from their
own origin (ADR 0098).

The browser sends a preflight (``OPTIONS``) before the snippet's ``application/json``
POST; it is answered for the origins of ``collect_allowed_origins`` (``*``: any) and
refused (400) for any other. Only ``/collect`` answers CORS: every other route stays
same-origin. No credentials: Kontor sets no cookie for collection, and the snippet
sends with ``credentials: "omit"``.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

CORS_PATHS = frozenset({"/collect"})
PREFLIGHT_MAX_AGE_S = 3600


class CollectCorsMiddleware:
    """Starlette's CORS answers, on :data:`CORS_PATHS` only."""

    def __init__(self, app: ASGIApp, *, origins: Sequence[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=list(origins),
            allow_methods=["POST"],
            allow_headers=["content-type"],
            allow_credentials=False,
            max_age=PREFLIGHT_MAX_AGE_S,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in CORS_PATHS:
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
