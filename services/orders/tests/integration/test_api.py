"""The order service's HTTP behaviour: auth, validation with field paths, limits, operations.

Runs the real app via ``start_service``. The catalog read model is seeded directly
(it is this service's own collection; how events fill it is tested in tests/service).
Every rejected request is followed by a look into the database: no order, no outbox
row, no order number used up.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from kontor_contracts.samples import ORDER
from kontor_servicekit.store import OUTBOX, SEQUENCES

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


def _bearer(auth_keys: Any, *scopes: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {auth_keys.token(*scopes)}"}


def _order(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(ORDER)
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        target: Any = body
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[leaf] = value
    return body


async def _seed_products(orders: Any) -> None:
    await orders.kit.store.db["catalog_products"].insert_many(
        [
            {
                "_id": "TEE-RED-M",
                "name": "T-Shirt rot, M",
                "price_net": Decimal("19.99"),
                "vat_rate": Decimal("0.19"),
                "vat_class": "standard",
                "currency": "EUR",
                "discontinued": False,
                "as_of": datetime.now(UTC),
            },
            {
                "_id": "OLD-1",
                "name": "Ausgelistet",
                "price_net": Decimal("5.00"),
                "vat_rate": Decimal("0.19"),
                "vat_class": "standard",
                "currency": "EUR",
                "discontinued": True,
                "as_of": datetime.now(UTC),
            },
        ]
    )


async def _nothing_stored(orders: Any) -> None:
    db = orders.kit.store.db
    assert await db["orders"].count_documents({}) == 0
    assert await db[OUTBOX].count_documents({}) == 0
    assert await db[SEQUENCES].count_documents({}) == 0  # no order number used up


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


async def test_without_token_401_and_without_scope_403(start_service: Any, auth_keys: Any) -> None:
    async with start_service("orders", token=None) as orders:
        await _seed_products(orders)
        _problem(await orders.client.post("/orders", json=ORDER), 401)
        _problem(await orders.client.get("/orders/some-id"), 401)
        expired_key = await orders.client.post(
            "/orders", json=ORDER, headers={"Authorization": "Basic YTpi"}
        )
        _problem(expired_key, 401)
        reader = await orders.client.post(
            "/orders", json=ORDER, headers=_bearer(auth_keys, "orders:read")
        )
        assert _problem(reader, 403)["required_scope"] == "orders:write"
        foreign = await orders.client.get(
            "/orders/some-id", headers=_bearer(auth_keys, "billing:admin")
        )
        _problem(foreign, 403)
        await _nothing_stored(orders)


POSTCODE_LOC: list[str | int] = ["body", "shipping_address", "postcode"]
BAD_ORDERS: list[tuple[str, dict[str, Any], list[str | int]]] = [
    (
        "postcode-4",
        _order(shipping_address__postcode="1011"),
        ["body", "shipping_address", "postcode"],
    ),
    (
        "postcode-abc",
        _order(shipping_address__postcode="1011A"),
        ["body", "shipping_address", "postcode"],
    ),
    ("no-lines", _order(lines=[]), ["body", "lines"]),
    ("locale-not-a-tag", _order(locale="Deutsch!"), ["body", "locale"]),
    (
        "quantity-0",
        _order(lines=[{"sku": "TEE-RED-M", "quantity": 0}]),
        ["body", "lines", 0, "quantity"],
    ),
    (
        "quantity-1000",
        _order(lines=[{"sku": "TEE-RED-M", "quantity": 1000}]),
        ["body", "lines", 0, "quantity"],
    ),
    (
        "quantity-fraction",
        _order(lines=[{"sku": "TEE-RED-M", "quantity": "2.5"}]),
        ["body", "lines", 0, "quantity"],
    ),
    (
        "client-sets-price",
        _order(lines=[{"sku": "TEE-RED-M", "quantity": 1, "price": "0.01"}]),
        ["body", "lines", 0, "price"],
    ),
    ("email", _order(customer__email="anna-at-example.de"), ["body", "customer", "email"]),
    ("country", _order(shipping_address__country="de"), ["body", "shipping_address", "country"]),
    ("no-customer", {k: v for k, v in ORDER.items() if k != "customer"}, ["body", "customer"]),
    # rules of the domain, found only once the products are looked up
    (
        "unknown-sku",
        _order(lines=[{"sku": "TEE-RED-M", "quantity": 1}, {"sku": "NOPE", "quantity": 1}]),
        ["body", "lines", 1, "sku"],
    ),
    ("discontinued", _order(lines=[{"sku": "OLD-1", "quantity": 1}]), ["body", "lines", 0, "sku"]),
    (
        "duplicate-sku",
        _order(lines=[{"sku": "TEE-RED-M", "quantity": 1}, {"sku": "TEE-RED-M", "quantity": 2}]),
        ["body", "lines", 1, "sku"],
    ),
]


async def test_bad_orders_are_refused_with_the_field_path(start_service: Any) -> None:
    # One service for all cases: starting the consumers costs about a second each time.
    async with start_service("orders") as orders:
        await _seed_products(orders)
        for case, body, loc in BAD_ORDERS:
            problem = _problem(await orders.client.post("/orders", json=body), 422)
            by_loc = {tuple(e["loc"]): e for e in problem["errors"]}
            assert tuple(loc) in by_loc, (case, problem["errors"])
            pointer = "/" + "/".join(str(p) for p in loc[1:])
            assert by_loc[tuple(loc)]["pointer"] == pointer, case
            await _nothing_stored(orders)


async def test_rejected_orders_use_up_no_number(start_service: Any) -> None:
    async with start_service("orders") as orders:
        await _seed_products(orders)
        for sku in ("NOPE", "OLD-1"):
            bad = _order(lines=[{"sku": sku, "quantity": 1}])
            _problem(await orders.client.post("/orders", json=bad), 422)
        placed = await orders.client.post("/orders", json=ORDER)
        assert placed.status_code == 201, placed.text
        assert placed.json()["number"].endswith("-000001")


async def test_placed_order_is_priced_from_the_read_model(start_service: Any) -> None:
    async with start_service("orders") as orders:
        await _seed_products(orders)
        placed = await orders.client.post("/orders", json=ORDER)
        assert placed.status_code == 201, placed.text
        order = placed.json()
        assert order["status"] == "placed"
        assert re.fullmatch(r"B-20\d\d-000001", order["number"])
        [line] = order["lines"]
        assert (line["unit_price_net"], line["unit_price_gross"], line["line_gross"]) == (
            "19.99",
            "23.79",
            "47.58",
        )
        assert (order["net_total"], order["vat_total"], order["gross_total"]) == (
            "39.98",
            "7.60",
            "47.58",
        )
        read = await orders.client.get(f"/orders/{order['id']}")
        assert read.status_code == 200
        assert read.json()["lines"] == order["lines"]
        [row] = await orders.kit.store.db[OUTBOX].find({}).to_list(None)
        assert (row["type"], row["key"]) == ("OrderPlaced", order["id"])


async def test_the_customers_locale_is_kept_and_published(start_service: Any) -> None:
    """Billing's invoice and support's mails take the language from OrderPlaced.locale."""
    async with start_service("orders") as orders:
        await _seed_products(orders)
        placed = await orders.client.post("/orders", json=_order(locale="en_gb"))
        assert placed.status_code == 201, placed.text
        assert placed.json()["locale"] == "en-GB"
        read = await orders.client.get(f"/orders/{placed.json()['id']}")
        assert read.json()["locale"] == "en-GB"
        [row] = await orders.kit.store.db[OUTBOX].find({"type": "OrderPlaced"}).to_list(None)
        assert json.loads(row["value"])["payload"]["locale"] == "en-GB"


async def test_unknown_order_is_a_404_problem(start_service: Any) -> None:
    async with start_service("orders") as orders:
        body = _problem(await orders.client.get("/orders/0b8c2f9e-nope"), 404)
        assert body["instance"] == "/orders/0b8c2f9e-nope"
        too_long = await orders.client.get("/orders/" + "x" * 65)
        assert _problem(too_long, 422)["errors"][0]["parameter"] == "order_id"


async def test_body_over_the_limit_is_a_413_and_stores_nothing(start_service: Any) -> None:
    # The orders limit is 6 MiB (complaint photos are up to 5 MiB).
    async with start_service("orders") as orders:
        await _seed_products(orders)
        huge = _order(customer__name="A" * (6 * 1024 * 1024 + 1))
        response = await orders.client.post("/orders", json=huge)
        _problem(response, 413)
        await _nothing_stored(orders)


async def test_health_metrics_and_openapi(start_service: Any) -> None:
    async with start_service("orders", token=None) as orders:
        assert (await orders.client.get("/health/live")).json() == {"status": "ok"}
        ready = await orders.client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"mongo": "ok", "kafka": "ok"}

        await orders.client.get("/orders/x")
        metrics = (await orders.client.get("/metrics")).text
        assert "kontor_http_request_duration_seconds" in metrics
        assert 'route="/orders/{order_id}"' in metrics  # by route template, not raw path

        spec = (await orders.client.get("/openapi.json")).json()
        assert {"/orders", "/orders/{order_id}", "/admin/dead-letters"} <= set(spec["paths"])
        post = spec["paths"]["/orders"]["post"]
        ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert spec["components"]["schemas"][ref.rsplit("/", 1)[1]]["examples"] == [ORDER]
        assert PROBLEM in post["responses"]["422"]["content"]
        assert PROBLEM in post["responses"]["413"]["content"]
        quantity = spec["components"]["schemas"]["LineIn"]["properties"]["quantity"]
        assert (quantity["minimum"], quantity["maximum"]) == (1, 999)


async def test_numbers_of_the_first_version_are_continued_not_reused(start_service: Any) -> None:
    # The first version took order numbers from the gap-free counter
    # "order-number:<year>"; after an upgrade the block allocator continues after them.
    async with start_service("orders") as orders:
        await _seed_products(orders)
        first = (await orders.client.post("/orders", json=ORDER)).json()["number"]
        year = first.split("-")[1]
        db = orders.kit.store.db
        await db["sequences"].insert_one({"_id": f"order-number:{year}", "value": 7})
        await db["orders"].insert_one({"_id": "legacy-7", "number": f"B-{year}-000007"})
        await db["sequences"].delete_one({"_id": f"block:order-number:{year}"})
        # what the database of the first version looks like: its migrations never ran
        await db["migrations"].delete_one({"_id": "orders-0001-continue-legacy-numbers"})
    async with start_service("orders") as restarted:
        placed = await restarted.client.post("/orders", json=ORDER)
        assert placed.status_code == 201, placed.text
        assert int(placed.json()["number"].rsplit("-", 1)[1]) > 7


async def test_a_clean_restart_continues_the_order_numbers_without_a_gap(
    start_service: Any,
) -> None:
    # issue 10 point 15: B-2026-000013, restart, B-2026-000051 (the rest of a block of 50)
    async with start_service("orders") as orders:
        await _seed_products(orders)
        numbers = [(await orders.client.post("/orders", json=ORDER)).json()["number"]]
        numbers.append((await orders.client.post("/orders", json=ORDER)).json()["number"])
    async with start_service("orders") as restarted:
        placed = await restarted.client.post("/orders", json=ORDER)
        assert placed.status_code == 201, placed.text
        seq = [int(n.rsplit("-", 1)[1]) for n in [*numbers, placed.json()["number"]]]
        assert seq == [seq[0], seq[0] + 1, seq[0] + 2]
