"""JSON log lines with trace, correlation and event ids; the correlation id middleware."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from kontor_servicekit.errors import install_error_handlers
from kontor_servicekit.logging import (
    CorrelationIdMiddleware,
    bind_log_context,
    configure_logging,
    current_correlation_id,
    current_log_context,
    log_context,
    reset_log_context,
)
from opentelemetry.sdk.trace import TracerProvider

pytestmark = pytest.mark.unit

UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    out = capsys.readouterr().out
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_log_line_is_json_with_trace_and_context(
    capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    configure_logging("orders", "DEBUG")
    tracer = TracerProvider().get_tracer("test")
    with (
        tracer.start_as_current_span("handle") as span,
        log_context(correlation_id="corr-1", event_id="evt-1", event_type="OrderPlaced"),
    ):
        logging.getLogger("kontor.test").info("placed %s", "o-1", extra={"order_id": "o-1"})
        context = span.get_span_context()
    [entry] = lines(capsys)
    assert entry["msg"] == "placed o-1"
    assert entry["level"] == "INFO"
    assert entry["logger"] == "kontor.test"
    assert entry["service"] == "orders"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["ts"])
    assert entry["trace_id"] == f"{context.trace_id:032x}"
    assert entry["span_id"] == f"{context.span_id:016x}"
    assert entry["correlation_id"] == "corr-1"
    assert entry["event_id"] == "evt-1"
    assert entry["event_type"] == "OrderPlaced"
    assert entry["order_id"] == "o-1"


def test_no_trace_ids_outside_a_span_and_context_is_scoped(
    capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    configure_logging("orders")
    with log_context(correlation_id="inside"):
        pass
    logging.getLogger("kontor.test").warning("outside")
    [entry] = lines(capsys)
    assert "trace_id" not in entry
    assert "span_id" not in entry
    assert "correlation_id" not in entry


def test_configure_twice_does_not_duplicate_and_exceptions_are_logged(
    capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    configure_logging("billing")
    configure_logging("billing")
    try:
        raise ValueError("bad invoice")
    except ValueError:
        logging.getLogger("kontor.test").exception("failed")
    [entry] = lines(capsys)
    assert entry["msg"] == "failed"
    assert "ValueError: bad invoice" in entry["exc"]
    assert "Traceback" in entry["exc"]


def test_level_filters_and_uvicorn_goes_through_the_formatter(
    capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    uvicorn_logger = logging.getLogger("uvicorn.error")
    # a server an earlier test ran in this process set its level (uvicorn's log_level)
    level = uvicorn_logger.level
    uvicorn_logger.setLevel(logging.NOTSET)
    uvicorn_logger.addHandler(logging.StreamHandler())  # as uvicorn's own config would
    uvicorn_logger.propagate = False
    configure_logging("catalog", "WARNING")
    logging.getLogger("kontor.test").info("hidden")
    uvicorn_logger.warning("from uvicorn")
    uvicorn_logger.setLevel(level)
    [entry] = lines(capsys)
    assert entry["logger"] == "uvicorn.error"
    assert entry["service"] == "catalog"


def test_bind_log_context_and_none_removes() -> None:
    token = bind_log_context(correlation_id="c-9", tenant="t")
    try:
        assert current_correlation_id() == "c-9"
        with log_context(tenant=None):
            assert "tenant" not in current_log_context()
        assert current_log_context()["tenant"] == "t"
    finally:
        reset_log_context(token)
    assert current_correlation_id() is None


def make_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(CorrelationIdMiddleware)

    @app.get("/where")
    async def where(request: Request) -> dict[str, str | None]:
        logging.getLogger("kontor.test").info("handling")
        return {"state": request.state.correlation_id, "context": current_correlation_id()}

    return app


async def test_middleware_keeps_valid_correlation_id_and_logs_it(
    capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    configure_logging("support")
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get("/where", headers={"X-Correlation-ID": "req-123.abc"})
    assert response.headers["x-correlation-id"] == "req-123.abc"
    assert response.json() == {"state": "req-123.abc", "context": "req-123.abc"}
    handled = [entry for entry in lines(capsys) if entry["msg"] == "handling"]
    assert handled and handled[0]["correlation_id"] == "req-123.abc"
    assert current_correlation_id() is None


@pytest.mark.parametrize(
    "incoming",
    [None, "x" * 129, "evil\nline", "<script>", ""],
    ids=["missing", "too-long", "newline", "unsafe-chars", "empty"],
)
async def test_middleware_replaces_missing_or_unsafe_ids(incoming: str | None) -> None:
    headers = {} if incoming is None else {"X-Correlation-ID": incoming}
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get("/where", headers=headers)
    echoed = response.headers["x-correlation-id"]
    assert UUID4.fullmatch(echoed)
    assert response.json()["state"] == echoed


async def test_unexpected_error_is_logged_with_correlation_id_and_echoes_it(
    capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    configure_logging("marketing")
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(CorrelationIdMiddleware)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaputt")

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get("/boom", headers={"X-Correlation-ID": "c-500"})
    assert response.status_code == 500
    assert response.headers["x-correlation-id"] == "c-500"
    [entry] = [entry for entry in lines(capsys) if "exc" in entry]
    assert entry["level"] == "ERROR"
    assert entry["correlation_id"] == "c-500"
    assert "RuntimeError: kaputt" in entry["exc"]
