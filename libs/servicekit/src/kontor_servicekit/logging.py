"""Structured logs: one JSON object per line on stdout.

Every line carries ``ts`` (RFC 3339, UTC), ``level``, ``logger``, ``msg`` and
``service``; inside an OpenTelemetry span also ``trace_id``/``span_id``; and the
fields of the current log context (``correlation_id``, ``event_id``,
``event_type``, ...) set with :func:`log_context` or :func:`bind_log_context`.
Fields passed with ``extra=`` are added as they are; ``exc`` holds a traceback.

``service`` is the service the current task works for: the kit sets it with
:func:`service_log_context` around each app's lifespan (so the relay's, the
consumers' and the hooks' tasks inherit it) and in :class:`CorrelationIdMiddleware`
for each request. Several services in one process (tests, the benchmark) share the
one root handler and still log under their own names; a line logged outside any
service's work carries the name last given to :func:`configure_logging`.

Run uvicorn with ``log_config=None`` after :func:`configure_logging` so that its
own configuration does not replace ours (its loggers are pointed at the root).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableMapping
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from opentelemetry import trace

__all__ = [
    "CORRELATION_ID_HEADER",
    "CorrelationIdMiddleware",
    "JsonLogFormatter",
    "bind_log_context",
    "configure_logging",
    "current_correlation_id",
    "current_log_context",
    "log_context",
    "reset_log_context",
    "service_log_context",
]

CORRELATION_ID_HEADER = "X-Correlation-ID"
_CORRELATION_ID_PATTERN = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
_UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "taskName", "color_message"}  # uvicorn's ANSI-coloured copy
)
_RESERVED_KEYS = frozenset({"ts", "level", "logger", "msg", "service"})

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_log_context: ContextVar[Mapping[str, Any]] = ContextVar("kontor_log_context", default=_EMPTY)
_service: ContextVar[str | None] = ContextVar("kontor_log_service", default=None)


# --------------------------------------------------------------------------- context


def current_log_context() -> Mapping[str, Any]:
    """The fields merged into every log line of the current task (read-only)."""
    return _log_context.get()


def _merged(fields: Mapping[str, Any]) -> Mapping[str, Any]:
    merged = dict(_log_context.get())
    for key, value in fields.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return MappingProxyType(merged)


def bind_log_context(**fields: Any) -> Token[Mapping[str, Any]]:
    """Add fields to the log context of the current task (``None`` removes a field).

    Returns a token for :func:`reset_log_context`; without a reset the fields stay
    until the task (or the ``contextvars`` context) ends.
    """
    return _log_context.set(_merged(fields))


def reset_log_context(token: Token[Mapping[str, Any]]) -> None:
    _log_context.reset(token)


@contextlib.contextmanager
def log_context(**fields: Any) -> Iterator[Mapping[str, Any]]:
    """Add fields to the log context for the duration of the ``with`` block."""
    token = bind_log_context(**fields)
    try:
        yield _log_context.get()
    finally:
        _log_context.reset(token)


@contextlib.contextmanager
def service_log_context(service: str) -> Iterator[None]:
    """Log as ``service`` in this task and in every task started inside the block."""
    token = _service.set(service)
    try:
        yield
    finally:
        _service.reset(token)


def current_correlation_id() -> str | None:
    value = _log_context.get().get("correlation_id")
    return value if isinstance(value, str) else None


# --------------------------------------------------------------------------- formatter


def _rfc3339(created: float) -> str:
    return (
        datetime.fromtimestamp(created, tz=UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


class JsonLogFormatter(logging.Formatter):
    """Formats a record as one line of JSON (see the module docstring for the fields)."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def to_dict(self, record: logging.LogRecord) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "ts": _rfc3339(record.created),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "service": _service.get() or self.service,
        }
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            entry["trace_id"] = trace.format_trace_id(span_context.trace_id)
            entry["span_id"] = trace.format_span_id(span_context.span_id)
        for key, value in _log_context.get().items():
            if key not in _RESERVED_KEYS:
                entry[key] = value
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES and key not in _RESERVED_KEYS:
                entry[key] = value
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            entry.update(_access_fields(record.args))
        if record.exc_info and record.exc_info[0] is not None:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return entry

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(self.to_dict(record), default=str, ensure_ascii=False)


def _access_fields(args: tuple[Any, ...]) -> dict[str, Any]:
    # uvicorn.access logs: '%s - "%s %s HTTP/%s" %d' % (client, method, path, version, status)
    if len(args) != 5:
        return {}
    client, method, path, _version, status = args
    return {"client": client, "http_method": method, "http_path": path, "http_status": status}


class _StdoutHandler(logging.Handler):
    """Writes to whatever ``sys.stdout`` is at the time of the call."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            stream = sys.stdout
            stream.write(line + "\n")
            stream.flush()
        except Exception:
            self.handleError(record)


_HANDLER_MARK = "_kontor_json_handler"


def configure_logging(service: str, level: str = "INFO") -> None:
    """Send all logs (uvicorn's too) as JSON lines to stdout. Safe to call again."""
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, _HANDLER_MARK, False):
            root.removeHandler(existing)
    handler = _StdoutHandler()
    setattr(handler, _HANDLER_MARK, True)
    handler.setFormatter(JsonLogFormatter(service))
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in _UVICORN_LOGGERS:
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True


# --------------------------------------------------------------------------- middleware

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _valid_correlation_id(raw: bytes | None) -> str | None:
    if raw is None:
        return None
    try:
        value = raw.decode("ascii")
    except UnicodeDecodeError:
        return None
    return value if _CORRELATION_ID_PATTERN.fullmatch(value) else None


class CorrelationIdMiddleware:
    """Takes (or makes) the request's correlation id and puts it where it is needed.

    A valid ``X-Correlation-ID`` (at most 128 characters of ``A-Z a-z 0-9 . _ : -``)
    is kept; otherwise a UUID4 is generated. The id goes into the log context, into
    ``request.state.correlation_id`` and back out on the response header. With
    ``service``, the request's log lines carry that service's name.
    """

    def __init__(
        self, app: ASGIApp, header: str = CORRELATION_ID_HEADER, service: str | None = None
    ) -> None:
        self.app = app
        self.header = header.lower().encode("latin-1")
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        raw = next((value for name, value in scope.get("headers", ()) if name == self.header), None)
        correlation_id = _valid_correlation_id(raw) or str(uuid.uuid4())
        # A copy: the server may share one lifespan state dict between requests.
        scope["state"] = {**scope.get("state", {}), "correlation_id": correlation_id}
        encoded = correlation_id.encode("ascii")

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", ())
                    if name.lower() != self.header
                ]
                headers.append((self.header, encoded))
                message["headers"] = headers
            await send(message)

        with contextlib.ExitStack() as stack:
            if self.service is not None:
                stack.enter_context(service_log_context(self.service))
            stack.enter_context(log_context(correlation_id=correlation_id))
            await self.app(scope, receive, send_with_header)
