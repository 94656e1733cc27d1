"""RFC 9457 problem details (``application/problem+json``) for every error response.

A service raises :class:`ProblemError` (or one of its subclasses) from a route or a
use case adapter; :func:`install_error_handlers` turns it, FastAPI's validation
errors, Starlette's HTTP errors (unknown route, wrong method) and any unexpected
exception into a problem+json body whose ``instance`` is the request path.

:class:`BodySizeLimitMiddleware` rejects oversized request bodies with 413 before
the application sees a single byte of them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = [
    "PROBLEM_JSON",
    "BodySizeLimitMiddleware",
    "Conflict",
    "FieldError",
    "Forbidden",
    "NotFound",
    "PayloadTooLarge",
    "ProblemDetail",
    "ProblemError",
    "Unauthorized",
    "UnhandledErrorMiddleware",
    "UnprocessableEntity",
    "install_error_handlers",
    "problem_body",
    "problem_response",
    "problem_responses",
]

PROBLEM_JSON = "application/problem+json"
DEFAULT_MAX_BODY_BYTES = 1_048_576
_MAX_ECHOED_INPUT_CHARS = 64
_STANDARD_MEMBERS = frozenset({"type", "title", "status", "detail", "instance"})
_PARAMETER_LOCATIONS = frozenset({"query", "path", "header", "cookie"})

logger = logging.getLogger(__name__)

# ASGI types, kept local so this module needs nothing beyond Starlette's public API.
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class ProblemError(Exception):
    """An error that becomes a problem+json response.

    ``extra`` holds RFC 9457 extension members (e.g. ``current_state``), merged into
    the top level of the body; ``headers`` are added to the response.
    """

    status: int = 500
    title: str = "Internal Server Error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        status: int | None = None,
        title: str | None = None,
        type_: str = "about:blank",
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title or type(self).title)
        self.status = status if status is not None else type(self).status
        if title is not None:
            self.title = title
        elif status is not None and type(self) is ProblemError:
            self.title = _phrase(status)
        else:
            self.title = type(self).title
        self.detail = detail
        self.type_ = type_
        self.extra: dict[str, Any] = dict(extra or {})
        self.headers: dict[str, str] = dict(headers or {})

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}(status={self.status}, title={self.title!r}, detail={self.detail!r})"


class NotFound(ProblemError):
    status = 404
    title = "Not Found"


class Conflict(ProblemError):
    """409: the request conflicts with the current state (``extra={"current_state": ...}``)."""

    status = 409
    title = "Conflict"


class Unauthorized(ProblemError):
    status = 401
    title = "Unauthorized"


class Forbidden(ProblemError):
    status = 403
    title = "Forbidden"


class PayloadTooLarge(ProblemError):
    status = 413
    title = "Content Too Large"


class UnprocessableEntity(ProblemError):
    """422 with ``errors``: a list of ``{"loc": [...], "msg": ..., "type": ...}``."""

    status = 422
    title = "Unprocessable Content"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Sequence[Mapping[str, Any]] = (),
        type_: str = "about:blank",
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        merged = dict(extra or {})
        merged["errors"] = [_with_pointer(error) for error in errors]
        super().__init__(detail, type_=type_, extra=merged, headers=headers)

    @property
    def errors(self) -> list[dict[str, Any]]:
        errors: list[dict[str, Any]] = self.extra["errors"]
        return errors


def _with_pointer(error: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``error`` with a JSON ``pointer`` derived from a ``["body", ...]`` loc."""
    result = dict(error)
    loc = result.get("loc")
    if "pointer" not in result and isinstance(loc, list | tuple) and loc and loc[0] == "body":
        result["pointer"] = "/" + "/".join(_escape_pointer_token(part) for part in loc[1:])
    return result


# --------------------------------------------------------------------------- OpenAPI


class FieldError(BaseModel):
    """One invalid field of a request."""

    model_config = ConfigDict(extra="allow")

    loc: list[str | int] = Field(description='Where the error is, e.g. ["body", "lines", 0]')
    pointer: str | None = Field(
        default=None, description="JSON pointer into the request body, e.g. /lines/0/quantity"
    )
    parameter: str | None = Field(
        default=None, description="Name of the query/path/header/cookie parameter"
    )
    msg: str
    type: str


class ProblemDetail(BaseModel):
    """RFC 9457 problem details, served as ``application/problem+json``."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None


_PROBLEM_REF = "#/components/schemas/ProblemDetail"


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries documenting problem+json bodies for ``statuses``.

    The schema is referenced, not embedded; :func:`install_error_handlers` makes sure
    the ``ProblemDetail`` component exists in the app's OpenAPI document.
    """
    return {
        status: {
            "description": _phrase(status),
            "content": {PROBLEM_JSON: {"schema": {"$ref": _PROBLEM_REF}}},
        }
        for status in statuses
    }


def _patch_openapi(app: FastAPI) -> None:
    """Add the ProblemDetail schema and document FastAPI's default 422 as problem+json."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        problem_schema = ProblemDetail.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        for name, sub_schema in problem_schema.pop("$defs", {}).items():
            components.setdefault(name, sub_schema)
        components.setdefault("ProblemDetail", problem_schema)
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                if not isinstance(operation, dict):
                    continue
                if "requestBody" in operation:
                    # A body that is not decodable at all (bad UTF-8, broken multipart)
                    # is a 400 from the framework before validation runs.
                    operation.setdefault("responses", {}).setdefault(
                        "400",
                        {
                            "description": "Bad Request (the body could not be parsed)",
                            "content": {PROBLEM_JSON: {"schema": {"$ref": _PROBLEM_REF}}},
                        },
                    )
                response = operation.get("responses", {}).get("422")
                if response is None:
                    continue
                content = response.get("content", {})
                json_content = content.get("application/json", {})
                if json_content.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"):
                    response["content"] = {PROBLEM_JSON: {"schema": {"$ref": _PROBLEM_REF}}}
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


# --------------------------------------------------------------------------- responses


def problem_body(
    status: int,
    title: str | None = None,
    detail: str | None = None,
    *,
    instance: str | None = None,
    type_: str = "about:blank",
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON body of a problem; extension members never override standard ones."""
    body: dict[str, Any] = {"type": type_, "title": title or _phrase(status), "status": status}
    if detail is not None:
        body["detail"] = detail
    if instance is not None:
        body["instance"] = instance
    for key, value in (extra or {}).items():
        if key not in _STANDARD_MEMBERS:
            body[key] = value
    return body


def problem_response(
    status: int,
    title: str | None = None,
    detail: str | None = None,
    *,
    instance: str | None = None,
    type_: str = "about:blank",
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = problem_body(status, title, detail, instance=instance, type_=type_, extra=extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _instance(scope: Scope) -> str | None:
    path = scope.get("path")
    return path if isinstance(path, str) else None


async def _problem_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(
        exc.status,
        exc.title,
        exc.detail,
        instance=request.url.path,
        type_=exc.type_,
        extra=exc.extra,
        headers=exc.headers,
    )


def _echoable(value: Any) -> bool:
    return (
        value is None
        or isinstance(value, bool | int | float)
        or (isinstance(value, str) and len(value) <= _MAX_ECHOED_INPUT_CHARS)
    )


def _escape_pointer_token(token: str | int) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def _field_error(raw: Mapping[str, Any]) -> dict[str, Any]:
    loc = [part if isinstance(part, int) else str(part) for part in raw.get("loc", ())]
    error: dict[str, Any] = {"loc": loc}
    if loc and loc[0] == "body":
        error["pointer"] = "/" + "/".join(_escape_pointer_token(part) for part in loc[1:])
    elif loc and loc[0] in _PARAMETER_LOCATIONS and len(loc) > 1:
        error["parameter"] = str(loc[1])
    error["msg"] = str(raw.get("msg", ""))
    error["type"] = str(raw.get("type", ""))
    # Echo only short scalars: never a whole (possibly huge or secret-bearing) document.
    if "input" in raw and _echoable(raw["input"]) and error["type"] != "missing":
        error["input"] = raw["input"]
    return error


async def _validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_field_error(raw) for raw in exc.errors()]
    count = len(errors)
    detail = f"The request has {count} invalid field{'s' if count != 1 else ''}."
    return problem_response(
        422,
        "Unprocessable Content",
        detail,
        instance=request.url.path,
        extra={"errors": errors},
    )


async def _http_exception_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    title = _phrase(exc.status_code)
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
    return problem_response(
        exc.status_code,
        title,
        detail,
        instance=request.url.path,
        headers=exc.headers,
    )


_GENERIC_500_DETAIL = "An unexpected error occurred. It has been logged."


def _log_unhandled(scope: Scope, exc: BaseException) -> None:
    logger.error(
        "unhandled exception in %s %s",
        scope.get("method", "-"),
        scope.get("path", "-"),
        exc_info=(type(exc), exc, exc.__traceback__),
    )


async def _unhandled_exception_handler(request: Request, exc: Exception) -> JSONResponse:
    # Fallback for errors raised outside UnhandledErrorMiddleware (i.e. in outer
    # middleware). Starlette re-raises after sending this response.
    _log_unhandled(request.scope, exc)
    return problem_response(
        500, "Internal Server Error", _GENERIC_500_DETAIL, instance=request.url.path
    )


class UnhandledErrorMiddleware:
    """Turns an unexpected exception into a 500 problem+json and logs it with traceback.

    Unlike an ``Exception`` handler (which runs in Starlette's outermost middleware,
    after every other middleware has unwound), this runs inside the middleware added
    later, so the log line still carries the correlation id and the response still
    gets its headers. The exception is not re-raised: it has been logged once here.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            _log_unhandled(scope, exc)
            response = problem_response(
                500, "Internal Server Error", _GENERIC_500_DETAIL, instance=_instance(scope)
            )
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Serve every error as problem+json and document it so in OpenAPI.

    Call this before adding other middleware (those added later wrap this one and so
    still see the request when an unexpected error is logged).
    """
    app.add_exception_handler(ProblemError, _problem_error_handler)
    app.add_exception_handler(RequestValidationError, _validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, _http_exception_handler)
    app.add_exception_handler(Exception, _unhandled_exception_handler)
    app.add_middleware(UnhandledErrorMiddleware)
    _patch_openapi(app)


# --------------------------------------------------------------------------- body size


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

        async def replay() -> Message:
            if buffered:
                return buffered.pop(0)
            return await receive()

        await self.app(scope, replay, send)
