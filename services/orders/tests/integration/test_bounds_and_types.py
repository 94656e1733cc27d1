"""Issue 9, the data: one set of bounds (ADR 0014) and strict types (ADR 0015) on orders.

Before: ``POST /orders`` with 200 pieces at net 5,000,000 answered 500, yet the order was
stored, confirmed and invoiced, and every list of orders answered 500 from then on.
``"quantity": true`` ordered one piece, ``"1_000"`` a thousand.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.bounds import MAX_LINES, MAX_QUANTITY, MAX_UNIT_PRICE
from kontor_contracts.samples import ORDER
from kontor_servicekit.store import OUTBOX

pytestmark = pytest.mark.integration


def _product(sku: str, net: Decimal) -> dict[str, Any]:
    return {
        "_id": sku,
        "name": f"Artikel {sku}",
        "price_net": net,
        "vat_rate": Decimal("0.19"),
        "vat_class": "standard",
        "currency": "EUR",
        "discontinued": False,
        "as_of": datetime.now(UTC),
    }


def _order(lines: list[dict[str, Any]]) -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(ORDER)
    body["lines"] = lines
    return body


async def _stored(orders: Any) -> tuple[int, int]:
    db = orders.kit.store.db
    return await db["orders"].count_documents({}), await db[OUTBOX].count_documents({})


async def test_a_price_beyond_the_bound_is_refused_before_anything_is_stored(
    start_service: Any,
) -> None:
    async with start_service("orders") as orders:
        # a price a catalog announced before the bounds existed
        await orders.kit.store.db["catalog_products"].insert_one(
            _product("HUGE", Decimal("5000000"))
        )
        response = await orders.client.post(
            "/orders", json=_order([{"sku": "HUGE", "quantity": 200}])
        )
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["loc"][-3:] == ["lines", 0, "sku"]
        assert await _stored(orders) == (0, 0)
        for path in ("/orders", "/orders/to-ship"):
            assert (await orders.client.get(path)).status_code == 200


async def test_the_largest_order_the_bounds_allow_goes_in_and_comes_out(
    start_service: Any,
) -> None:
    async with start_service("orders") as orders:
        skus = [f"TOP-{n:03d}" for n in range(MAX_LINES)]
        await orders.kit.store.db["catalog_products"].insert_many(
            [_product(sku, MAX_UNIT_PRICE) for sku in skus]
        )
        placed = await orders.client.post(
            "/orders",
            json=_order([{"sku": sku, "quantity": MAX_QUANTITY} for sku in skus]),
        )
        assert placed.status_code == 201, placed.text
        # 200 lines x 999 pieces x 1,190,000.00 gross
        assert placed.json()["gross_total"] == "237762000000.00"
        order_id = placed.json()["id"]
        for path in (f"/orders/{order_id}", "/orders", "/orders/to-ship"):
            read = await orders.client.get(path)
            assert read.status_code == 200, (path, read.text)
        too_many = await orders.client.post(
            "/orders",
            json=_order([{"sku": sku, "quantity": 1} for sku in [*skus, "TOP-000"]]),
        )
        assert too_many.status_code == 422, too_many.text
        assert await _stored(orders) == (1, 1)


@pytest.mark.parametrize("quantity", [True, "1", "1_000", " 1 ", 1.0, 0, MAX_QUANTITY + 1])
async def test_a_quantity_is_a_json_integer_in_bounds(start_service: Any, quantity: Any) -> None:
    async with start_service("orders") as orders:
        await orders.kit.store.db["catalog_products"].insert_one(
            _product("TEE-RED-M", Decimal("19.99"))
        )
        response = await orders.client.post(
            "/orders", json=_order([{"sku": "TEE-RED-M", "quantity": quantity}])
        )
        assert response.status_code == 422, response.text
        assert await _stored(orders) == (0, 0)
