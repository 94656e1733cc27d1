"""The domain error family is mapped once, by the kit, to problem+json."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from kontor_servicekit.domain_errors import (
    Conflict,
    FieldProblem,
    IllegalTransition,
    Invalid,
    NotFound,
    RateLimited,
    Unavailable,
)
from kontor_servicekit.errors import PROBLEM_JSON, install_error_handlers

pytestmark = pytest.mark.unit


def make_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/orders/{order_id}")
    async def read(order_id: str) -> None:
        raise NotFound("order", order_id)

    @app.post("/orders/{order_id}/withdrawal")
    async def withdraw(order_id: str) -> None:
        raise IllegalTransition(f"order {order_id}", "withdraw from", "cancelled")

    @app.post("/products")
    async def create() -> None:
        raise Conflict("a product with SKU 'TEE' exists", details={"sku": "TEE"})

    @app.post("/orders")
    async def place() -> None:
        raise Invalid(
            "a VAT id needs a company",
            field=("billing_address", "company"),
            problems=[FieldProblem(("lines", 0, "sku"), "unknown SKU", "unknown_sku")],
        )

    @app.get("/search")
    async def search() -> None:
        raise Invalid("unknown sort", field=("sort",), location="query")

    @app.post("/numbers")
    async def numbers() -> None:
        raise Unavailable("no free number right now", retry_after_s=2)

    @app.post("/withdrawals")
    async def limited() -> None:
        raise RateLimited("too many requests", retry_after_s=30)

    @app.post("/late")
    async def late() -> None:
        raise PeriodEnded("order o-1", "withdraw from", "delivered")

    return app


class PeriodEnded(IllegalTransition):
    title = "Withdrawal period ended"


async def call(method: str, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.request(method, path)


async def test_not_found_is_404_naming_the_thing() -> None:
    response = await call("GET", "/orders/o-1")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["title"] == "Not Found"
    assert body["detail"] == "no order 'o-1'"
    assert body["instance"] == "/orders/o-1"


async def test_illegal_transition_is_409_with_the_current_state_and_its_subject() -> None:
    response = await call("POST", "/orders/o-1/withdrawal")
    assert response.status_code == 409
    body = response.json()
    assert body["current_state"] == "cancelled"
    assert body["detail"] == "cannot withdraw from order o-1: it is cancelled"


async def test_conflict_is_409_with_its_details_as_extension_members() -> None:
    response = await call("POST", "/products")
    assert response.status_code == 409
    assert response.json()["sku"] == "TEE"


async def test_invalid_is_422_with_every_field_path_and_pointer() -> None:
    response = await call("POST", "/orders")
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors == [
        {
            "loc": ["body", "billing_address", "company"],
            "pointer": "/billing_address/company",
            "msg": "a VAT id needs a company",
            "type": "value_error",
        },
        {
            "loc": ["body", "lines", 0, "sku"],
            "pointer": "/lines/0/sku",
            "msg": "unknown SKU",
            "type": "unknown_sku",
        },
    ]


async def test_invalid_has_the_422_title_of_the_edge() -> None:
    response = await call("POST", "/orders")
    assert response.json()["title"] == "Unprocessable Content"


async def test_a_domain_error_may_name_its_title() -> None:
    response = await call("POST", "/late")
    assert response.status_code == 409
    assert response.json()["title"] == "Withdrawal period ended"
    assert response.json()["current_state"] == "delivered"


async def test_invalid_query_parameter_names_the_parameter() -> None:
    response = await call("GET", "/search")
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "sort"]
    assert response.json()["errors"][0]["parameter"] == "sort"


async def test_unavailable_and_rate_limited_say_when_to_retry() -> None:
    busy = await call("POST", "/numbers")
    assert busy.status_code == 503
    assert busy.headers["retry-after"] == "2"
    limited = await call("POST", "/withdrawals")
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "30"
    assert limited.json()["title"] == "Too Many Requests"


def test_invalid_without_field_has_no_field_path() -> None:
    error = Invalid("the file is empty")
    assert error.field is None
    assert error.problems == ()
