"""problem+json for every kind of failure, and the request body size limit."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request
from kontor_servicekit.errors import (
    PROBLEM_JSON,
    BodySizeLimitMiddleware,
    Conflict,
    NotFound,
    UnprocessableEntity,
    install_error_handlers,
    problem_responses,
)
from pydantic import BaseModel, Field

pytestmark = pytest.mark.unit


class Line(BaseModel):
    sku: str
    quantity: int = Field(gt=0)


class Order(BaseModel):
    customer: str
    lines: list[Line]


SECRET = "db-password-is-hunter2"


def make_app(max_bytes: int | None = None) -> tuple[FastAPI, list[str]]:
    app = FastAPI()
    install_error_handlers(app)
    if max_bytes is not None:
        app.add_middleware(BodySizeLimitMiddleware, max_bytes=max_bytes)
    calls: list[str] = []

    @app.post("/orders", responses=problem_responses(409, 422))
    async def place(order: Order) -> dict[str, int]:
        calls.append("place")
        return {"lines": len(order.lines)}

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        calls.append("raw")
        return {"size": len(await request.body())}

    @app.get("/orders/{order_id}", responses=problem_responses(404))
    async def get(order_id: str) -> dict[str, str]:
        raise NotFound(f"no order {order_id}")

    @app.post("/orders/{order_id}/cancel")
    async def cancel(order_id: str) -> dict[str, str]:
        raise Conflict("the order has shipped", extra={"current_state": "shipped"})

    @app.post("/domain-check")
    async def domain_check() -> dict[str, str]:
        raise UnprocessableEntity(
            "bad sku", errors=[{"loc": ["body", "sku"], "msg": "unknown", "type": "unknown_sku"}]
        )

    @app.get("/boom")
    async def boom() -> dict[str, str]:
        raise RuntimeError(SECRET)

    @app.get("/people/{email}/boom")
    async def person_boom(email: str) -> dict[str, str]:
        raise RuntimeError(SECRET)

    return app, calls


def client(app: FastAPI) -> httpx.AsyncClient:
    # raise_app_exceptions stays on: an unexpected error must be answered, not re-raised.
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://test",
    )


async def test_validation_error_lists_nested_field_paths() -> None:
    app, calls = make_app()
    body = {"customer": "c1", "lines": [{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": 0}]}
    async with client(app) as http:
        response = await http.post("/orders", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["status"] == 422
    assert problem["instance"] == "/orders"
    [error] = problem["errors"]
    assert error["loc"] == ["body", "lines", 1, "quantity"]
    assert error["pointer"] == "/lines/1/quantity"
    assert error["type"] == "greater_than"
    assert error["msg"]
    assert calls == []


async def test_validation_error_does_not_echo_large_input() -> None:
    app, _ = make_app()
    huge = "x" * 10_000
    async with client(app) as http:
        response = await http.post("/orders", json={"customer": "c", "lines": huge})
    assert response.status_code == 422
    assert huge not in response.text
    assert len(response.content) < 2_000


async def test_missing_field_is_reported_with_its_path() -> None:
    app, _ = make_app()
    async with client(app) as http:
        response = await http.post("/orders", json={"lines": []})
    [error] = response.json()["errors"]
    assert error["loc"] == ["body", "customer"]
    assert error["type"] == "missing"


async def test_unknown_route_is_problem_json_404() -> None:
    app, _ = make_app()
    async with client(app) as http:
        response = await http.get("/nope")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "instance": "/nope",
    }


async def test_wrong_method_is_problem_json_405_with_allow() -> None:
    app, _ = make_app()
    async with client(app) as http:
        response = await http.delete("/orders")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM_JSON
    assert "POST" in response.headers["allow"]


async def test_problem_errors_carry_detail_and_extensions() -> None:
    app, _ = make_app()
    async with client(app) as http:
        not_found = await http.get("/orders/42")
        conflict = await http.post("/orders/42/cancel")
        domain = await http.post("/domain-check")
    assert not_found.status_code == 404
    assert not_found.json()["detail"] == "no order 42"
    assert conflict.status_code == 409
    assert conflict.headers["content-type"] == PROBLEM_JSON
    assert conflict.json()["current_state"] == "shipped"
    assert domain.status_code == 422
    assert domain.json()["errors"][0]["type"] == "unknown_sku"
    assert domain.json()["errors"][0]["pointer"] == "/sku"


async def test_unexpected_exception_is_500_without_leaking(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app, _ = make_app()
    with caplog.at_level(logging.ERROR):
        async with client(app) as http:
            response = await http.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM_JSON
    assert SECRET not in response.text
    assert "RuntimeError" not in response.text
    assert response.json()["instance"] == "/boom"
    [record] = [r for r in caplog.records if r.exc_info]
    assert record.exc_info is not None and record.exc_info[1] is not None
    assert SECRET in str(record.exc_info[1])


async def test_a_personal_path_parameter_is_neither_answered_nor_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """ADR 0139: an ``email`` in the path shows as its placeholder in the problem's
    ``instance`` and in the log line of an unhandled error."""
    app, _ = make_app()
    with caplog.at_level(logging.ERROR):
        async with client(app) as http:
            response = await http.get("/people/anna@example.de/boom")
    assert response.status_code == 500
    assert response.json()["instance"] == "/people/{email}/boom"
    assert "anna@example.de" not in response.text
    [record] = [r for r in caplog.records if r.exc_info]
    assert record.getMessage() == "unhandled exception in GET /people/{email}/boom"


async def test_oversized_body_by_content_length_is_413_and_handler_never_runs() -> None:
    app, calls = make_app(max_bytes=100)
    async with client(app) as http:
        response = await http.post("/raw", content=b"x" * 101)
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["status"] == 413
    assert calls == []


async def test_oversized_chunked_body_is_413_and_handler_never_runs() -> None:
    app, calls = make_app(max_bytes=100)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"y" * 30

    async with client(app) as http:
        response = await http.post("/raw", content=chunks())
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert calls == []


async def test_body_within_limit_reaches_handler_intact() -> None:
    app, calls = make_app(max_bytes=100)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield b"z" * 30

    async with client(app) as http:
        exact = await http.post("/raw", content=b"x" * 100)
        chunked = await http.post("/raw", content=chunks())
    assert exact.json() == {"size": 100}
    assert chunked.json() == {"size": 90}
    assert calls == ["raw", "raw"]


def test_openapi_documents_problem_json() -> None:
    app, _ = make_app()
    schema = app.openapi()
    responses = schema["paths"]["/orders"]["post"]["responses"]
    assert set(responses["409"]["content"]) == {PROBLEM_JSON}
    assert set(responses["422"]["content"]) == {PROBLEM_JSON}
    ref = responses["409"]["content"][PROBLEM_JSON]["schema"]["$ref"]
    assert ref == "#/components/schemas/ProblemDetail"
    assert "ProblemDetail" in schema["components"]["schemas"]
    assert "FieldError" in schema["components"]["schemas"]
    # FastAPI's default 422 (application/json HTTPValidationError) is rewritten too.
    raw_422 = schema["paths"]["/orders/{order_id}/cancel"]["post"]["responses"]["422"]
    assert set(raw_422["content"]) == {PROBLEM_JSON}
