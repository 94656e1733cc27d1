"""The one mapping from errors to problem+json responses, installed on every service.

:class:`~kontor_servicekit.problems.ProblemError` and its subclasses keep their
status; the domain family (:mod:`kontor_servicekit.domain_errors`) maps by kind:
not found 404, conflict and illegal transition 409 (with ``current_state``),
invalid 422 (with field paths), unavailable 503 and rate limited 429 (with
``Retry-After``). FastAPI's validation errors, Starlette's HTTP errors and any
unexpected exception become problems too.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from kontor_servicekit import domain_errors
from kontor_servicekit.errors.openapi import patch_openapi
from kontor_servicekit.errors.problems import (
    ProblemError,
    UnprocessableEntity,
    escape_pointer_token,
    phrase,
    problem_response,
    serialisable,
)

_MAX_ECHOED_INPUT_CHARS = 64
_PARAMETER_LOCATIONS = frozenset({"query", "path", "header", "cookie"})

logger = logging.getLogger("kontor_servicekit.errors")

# ASGI types, kept local so this module needs nothing beyond Starlette's public API.
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


#: Path parameters that name a person: a problem's ``instance`` and the log line of an
#: unhandled error show the route's placeholder instead (``/customers/{email}``), so an
#: answer or a log never repeats the address looked up (issue 13, ADR 0139).
PERSONAL_PATH_PARAMETERS = frozenset({"email"})


def problem_instance(scope: Scope) -> str | None:
    """The request's path as a problem's ``instance``, a personal path parameter's value
    replaced by its placeholder."""
    path = scope.get("path")
    if not isinstance(path, str):
        return None
    params = scope.get("path_params") or {}
    for name in sorted(PERSONAL_PATH_PARAMETERS & params.keys()):
        value = params[name]
        if isinstance(value, str) and value:
            path = path.replace(value, "{" + name + "}")
    return path


async def _problem_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(
        exc.status,
        exc.title,
        exc.detail,
        instance=problem_instance(request.scope),
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


def _field_error(raw: Mapping[str, Any]) -> dict[str, Any]:
    loc = [part if isinstance(part, int) else str(part) for part in raw.get("loc", ())]
    error: dict[str, Any] = {"loc": loc}
    if loc and loc[0] == "body":
        error["pointer"] = "/" + "/".join(escape_pointer_token(part) for part in loc[1:])
    elif loc and loc[0] in _PARAMETER_LOCATIONS and len(loc) > 1:
        error["parameter"] = str(loc[1])
    error["msg"] = str(raw.get("msg", ""))
    error["type"] = str(raw.get("type", ""))
    # Echo only short scalars: never a whole (possibly huge or secret-bearing) document.
    if "input" in raw and _echoable(raw["input"]) and error["type"] != "missing":
        error["input"] = serialisable(raw["input"])  # a NaN, a lone surrogate: printable
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
        instance=problem_instance(request.scope),
        extra={"errors": errors},
    )


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app serves at the request's path (RFC 9110 ``Allow``).

    Starlette answers 405 with the methods of the first route whose path matched,
    though another route may serve the same path with other methods
    (``GET /withdrawals`` and ``POST /withdrawals`` are two routes).
    """
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):  # included routers too
        route_methods = route.methods
        if route_methods and route.matches(request.scope)[0] is not Match.NONE:
            methods |= set(route_methods)
    return sorted(methods)


async def _http_exception_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    title = phrase(exc.status_code)
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request)) or headers.get("Allow", "")
    return problem_response(
        exc.status_code,
        title,
        detail,
        instance=problem_instance(request.scope),
        headers=headers,
    )


_GENERIC_500_DETAIL = "An unexpected error occurred. It has been logged."


def _log_unhandled(scope: Scope, exc: BaseException) -> None:
    logger.error(
        "unhandled exception in %s %s",
        scope.get("method", "-"),
        problem_instance(scope) or "-",
        exc_info=(type(exc), exc, exc.__traceback__),
    )


async def _unhandled_exception_handler(request: Request, exc: Exception) -> JSONResponse:
    # Fallback for errors raised outside UnhandledErrorMiddleware (i.e. in outer
    # middleware). Starlette re-raises after sending this response.
    _log_unhandled(request.scope, exc)
    return problem_response(
        500, "Internal Server Error", _GENERIC_500_DETAIL, instance=problem_instance(request.scope)
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
                500, "Internal Server Error", _GENERIC_500_DETAIL, instance=problem_instance(scope)
            )
            await response(scope, receive, send)


def domain_problem(exc: domain_errors.DomainError) -> ProblemError:
    """The problem a domain error is answered with (the one mapping, see the module)."""
    extra: dict[str, Any] = dict(exc.details)
    headers: dict[str, str] = {}
    if isinstance(exc, domain_errors.NotFound):
        status = 404
    elif isinstance(exc, domain_errors.Conflict):
        status = 409
    elif isinstance(exc, domain_errors.Invalid):
        status = 422
        extra["errors"] = [field_problem(p) for p in exc.problems]
    elif isinstance(exc, domain_errors.RateLimited):
        status = 429
        headers["Retry-After"] = str(exc.retry_after_s)
    elif isinstance(exc, domain_errors.Unavailable):
        status = 503
        headers["Retry-After"] = str(exc.retry_after_s)
    else:
        status = 422
    title = exc.title or _TITLES.get(status) or phrase(status)
    return ProblemError(exc.message, status=status, title=title, extra=extra, headers=headers)


# The 422 title of the edge (framework validation, UnprocessableEntity) is RFC 9110's
# name; Python 3.11's HTTPStatus still says "Unprocessable Entity".
_TITLES = {422: UnprocessableEntity.title}


def field_problem(problem: domain_errors.FieldProblem) -> dict[str, Any]:
    """A domain field problem as a problem+json ``errors`` member, with its pointer."""
    return _field_error(
        {"loc": [problem.location, *problem.loc], "msg": problem.msg, "type": problem.type}
    )


async def _domain_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, domain_errors.DomainError)
    return await _problem_error_handler(request, domain_problem(exc))


def install_error_handlers(app: FastAPI) -> None:
    """Serve every error as problem+json and document it so in OpenAPI.

    Call this before adding other middleware (those added later wrap this one and so
    still see the request when an unexpected error is logged).
    """
    app.add_exception_handler(ProblemError, _problem_error_handler)
    app.add_exception_handler(domain_errors.DomainError, _domain_error_handler)
    app.add_exception_handler(RequestValidationError, _validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, _http_exception_handler)
    app.add_exception_handler(Exception, _unhandled_exception_handler)
    app.add_middleware(UnhandledErrorMiddleware)
    patch_openapi(app)
