"""Request body size limit: oversized bodies are refused with 413 before the app runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from kontor_servicekit.errors.problems import problem_response

DEFAULT_MAX_BODY_BYTES = 1_048_576

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _instance(scope: Scope) -> str | None:
    path = scope.get("path")
    return path if isinstance(path, str) else None


def replaying(buffered: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that hands out the ``buffered`` messages first, then ``receive``'s."""

    async def replay() -> Message:
        if buffered:
            return buffered.pop(0)
        return await receive()

    return replay


class BodySizeLimitMiddleware:
    """Rejects request bodies larger than ``max_bytes`` with 413 problem+json.

    A declared ``Content-Length`` over the limit is refused without reading the body.
    Otherwise (also for chunked uploads) the body is read up to the limit before the
    application is called, so the application never sees a truncated body and never
    runs for an oversized one; it then gets the buffered body replayed.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must not be negative")
        self.app = app
        self.max_bytes = max_bytes

    async def _reject(self, scope: Scope, receive: Receive, send: Send, size: str) -> None:
        response = problem_response(
            413,
            "Content Too Large",
            f"The request body is {size}; this service accepts at most {self.max_bytes} bytes.",
            instance=_instance(scope),
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        for name, value in scope.get("headers", ()):
            if name.lower() == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    break
                if declared > self.max_bytes:
                    await self._reject(scope, receive, send, f"{declared} bytes")
                    return
                break

        buffered: list[Message] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                # Client went away (http.disconnect) before the body was complete.
                return
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                await self._reject(scope, receive, send, f"more than {self.max_bytes} bytes")
                return
            buffered.append(message)
            if not message.get("more_body", False):
                break

        await self.app(scope, replaying(buffered, receive), send)
