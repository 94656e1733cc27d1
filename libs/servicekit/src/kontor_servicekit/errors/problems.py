"""Problem types: exceptions that become RFC 9457 ``application/problem+json`` bodies.

The HTTP edge's own errors (401, 403, 413, a framework 422) and the body builders.
Business refusals are not raised as these: use cases raise the domain family in
:mod:`kontor_servicekit.domain_errors`, which :mod:`.handlers` maps once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi.responses import JSONResponse

PROBLEM_JSON = "application/problem+json"
_STANDARD_MEMBERS = frozenset({"type", "title", "status", "detail", "instance"})


def phrase(status: int) -> str:
    """The standard reason phrase of an HTTP status (``404`` -> ``Not Found``)."""
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
            self.title = phrase(status)
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
        result["pointer"] = "/" + "/".join(escape_pointer_token(part) for part in loc[1:])
    return result


def escape_pointer_token(token: str | int) -> str:
    """A JSON pointer reference token (RFC 6901: ``~`` and ``/`` escaped)."""
    return str(token).replace("~", "~0").replace("/", "~1")


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
    body: dict[str, Any] = {"type": type_, "title": title or phrase(status), "status": status}
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
    return ProblemJSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def serialisable(value: Any) -> Any:
    """``value`` with what JSON cannot carry made printable: a non-finite float as its
    text (``"nan"``), a string that is not valid Unicode with its lone surrogates as
    ``\\udXXX`` escapes, anything else unknown as its ``repr``."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, Mapping):
        return {str(serialisable(str(k))): serialisable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [serialisable(item) for item in value]
    return serialisable(repr(value))


class ProblemJSONResponse(JSONResponse):
    """A problem body that always serialises: what does not (a NaN, a lone surrogate, an
    object an error carried) is made printable by :func:`serialisable` instead of
    turning the error answer into a second, unexplained 500."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except (TypeError, ValueError):  # UnicodeEncodeError is a ValueError
            return super().render(serialisable(content))
