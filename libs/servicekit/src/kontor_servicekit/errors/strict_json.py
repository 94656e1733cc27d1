"""Standard JSON only: a request body FastAPI would parse as JSON is checked first.

Python's ``json`` module accepts more than RFC 8259 allows: the constants ``NaN``,
``Infinity`` and ``-Infinity``, numbers too large for a float (``1e400`` becomes
``inf``), and ``\\ud800`` escapes that decode to a lone surrogate, a string no UTF-8
encoder (neither MongoDB's nor the response's) can write. Such values used to travel
into the handlers and end as a 500 with a traceback.

:class:`StrictJsonMiddleware` parses every body FastAPI would read as JSON (no
Content-Type, or ``application/json`` / ``application/*+json``), before any handler
runs, and refuses with 400 problem+json, one ``errors`` member per offending value
with its JSON pointer, and one short log line:

- a non-finite number (``NaN``, ``Infinity``, ``-Infinity``, a float that overflows);
- a string (value or member name) that is not valid Unicode (a lone surrogate);
- bytes that are not UTF-8 (RFC 8259 section 8.1).

Malformed JSON is left to FastAPI (422 ``json_invalid``, as before). The app gets the
body replayed as it was; it runs after the body size limit, so at most
``max_body_bytes`` are buffered.
"""

from __future__ import annotations

import email.message
import json
import logging
import math
from typing import Any

from kontor_servicekit.errors.body_limit import (
    ASGIApp,
    Message,
    Receive,
    Scope,
    Send,
    replaying,
)
from kontor_servicekit.errors.problems import escape_pointer_token, problem_response

log = logging.getLogger("kontor_servicekit.errors")

__all__ = ["StrictJsonMiddleware", "json_violations", "reads_as_json"]


class _NonFinite:
    """Stands in, while parsing, for a number JSON cannot carry."""

    def __init__(self, text: str) -> None:
        self.text = text


def _constant(text: str) -> _NonFinite:
    return _NonFinite(text)


def _float(text: str) -> float | _NonFinite:
    value = float(text)
    return value if math.isfinite(value) else _NonFinite(text)


def _valid_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _pointer(path: list[str | int]) -> str:
    return "/" + "/".join(escape_pointer_token(part) for part in path) if path else ""


def _walk(value: Any, path: list[str | int], found: list[dict[str, Any]]) -> None:
    if isinstance(value, _NonFinite):
        found.append(_violation(path, f"{value.text[:20]} is not a finite JSON number", "finite"))
    elif isinstance(value, str):
        if not _valid_unicode(value):
            found.append(_violation(path, "the string is not valid Unicode", "unicode"))
    elif isinstance(value, dict):
        for key, item in value.items():
            if not _valid_unicode(key):
                printable = key.encode("utf-8", "backslashreplace").decode("utf-8")
                found.append(
                    _violation(
                        [*path, printable], "the member name is not valid Unicode", "unicode"
                    )
                )
                continue
            _walk(item, [*path, key], found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, [*path, index], found)


def _violation(path: list[str | int], msg: str, kind: str) -> dict[str, Any]:
    return {
        "loc": ["body", *path],
        "pointer": _pointer(path),
        "msg": msg,
        "type": f"json_{kind}",
    }


def json_violations(body: bytes) -> list[dict[str, Any]] | None:
    """What in ``body`` is not RFC 8259 JSON of valid Unicode; None if it is no JSON at all.

    An empty list: standard JSON. ``None``: malformed (left to the framework's 422).
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [
            {
                "loc": ["body"],
                "pointer": "",
                "msg": f"the body is not UTF-8 (byte {exc.start})",
                "type": "json_utf8",
            }
        ]
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        document = json.loads(text, parse_constant=_constant, parse_float=_float)
    except ValueError:  # JSONDecodeError, or an integer literal of more than 4300 digits
        return None
    found: list[dict[str, Any]] = []
    _walk(document, [], found)
    return found


def reads_as_json(content_type: str | None) -> bool:
    """Whether FastAPI parses a body with this Content-Type as JSON (missing: yes)."""
    if not content_type:
        return True
    message = email.message.Message()
    message["content-type"] = content_type
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


def _content_type(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-type":
            return bytes(value).decode("latin-1")
    return None


class StrictJsonMiddleware:
    """Refuses a JSON body that is not standard JSON of valid Unicode with 400 problem+json."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not reads_as_json(_content_type(scope)):
            await self.app(scope, receive, send)
            return
        buffered: list[Message] = []
        chunks: list[bytes] = []
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        violations = json_violations(body) if body else []
        if violations:
            await self._refuse(scope, receive, send, violations)
            return

        await self.app(scope, replaying(buffered, receive), send)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, violations: list[dict[str, Any]]
    ) -> None:
        method, path = scope.get("method", "-"), scope.get("path", "-")
        kinds = sorted({v["type"] for v in violations})
        log.warning(
            "refused non-standard JSON: %s %s (%d value(s): %s)",
            method,
            path,
            len(violations),
            ", ".join(kinds),
        )
        count = len(violations)
        response = problem_response(
            400,
            "Bad Request",
            f"The body is not standard JSON (RFC 8259) of valid Unicode: {count} "
            f"value{'s' if count != 1 else ''} refused.",
            instance=path if isinstance(path, str) else None,
            extra={"errors": violations[:20]},
        )
        await response(scope, receive, send)
