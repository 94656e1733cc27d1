"""Issue 9, the data: one set of bounds (ADR 0014) and strict types (ADR 0015) on the catalog.

Before: ``POST /products`` with net ``999999999`` answered 500 *and stored the product*;
from then on every list answered 500. ``"stock": true``, ``"net": 1``, ``" 1.00 "`` and
Arabic-Indic digits were accepted. Each refusal here is followed by a look into the
database: nothing stored, nothing announced.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from kontor_contracts.bounds import MAX_STOCK, MAX_STOCK_MOVE, MAX_UNIT_PRICE
from kontor_contracts.samples import PRODUCT
from kontor_servicekit.store import OUTBOX

pytestmark = pytest.mark.integration


def _product(sku: str = "TEE-RED-M", **fields: Any) -> dict[str, Any]:
    body = copy.deepcopy(PRODUCT)
    body["sku"] = sku
    body.update(fields)
    return body


async def _stored(catalog: Any) -> tuple[int, int]:
    db = catalog.kit.store.db
    return await db["products"].count_documents({}), await db[OUTBOX].count_documents({})


async def test_a_price_above_the_bound_is_refused_and_nothing_is_stored(
    start_service: Any,
) -> None:
    async with start_service("catalog") as catalog:
        refused = await catalog.client.post(
            "/products", json=_product(price={"net": "999999999", "currency": "EUR"})
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["loc"][-2:] == ["price", "net"]
        assert await _stored(catalog) == (0, 0)
        assert (await catalog.client.get("/products")).status_code == 200

        # the highest allowed price goes in and comes out, in every read
        top = f"{MAX_UNIT_PRICE}"
        created = await catalog.client.post(
            "/products",
            json=_product(
                price={"net": top, "currency": "EUR"},
                stock=MAX_STOCK_MOVE,
                content={"quantity": "0.01", "unit": "g"},
            ),
        )
        assert created.status_code == 201, created.text
        assert created.json()["price"]["gross"] == "1190000.00"
        assert created.json()["price"]["base_price"]["amount"] == "119000000000.00"
        listed = await catalog.client.get("/products")
        assert listed.status_code == 200, listed.text
        assert listed.json()["items"][0]["price"]["net"] == top
        assert (await catalog.client.get("/products/TEE-RED-M")).status_code == 200

        above = await catalog.client.put(
            "/products/TEE-RED-M/price", json={"net": "1000000.0001", "currency": "EUR"}
        )
        assert above.status_code == 422, above.text
        assert await _stored(catalog) == (1, 1)
        cut = await catalog.client.put(
            "/products/TEE-RED-M/price", json={"net": "999999.99", "currency": "EUR"}
        )
        assert cut.status_code == 200, cut.text
        assert cut.json()["price"]["lowest_30_days"] == "1190000.00"  # the top price, shown


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("stock", True),
        ("stock", "5"),
        ("stock", "1_000"),
        ("stock", 5.0),
        ("stock", MAX_STOCK_MOVE + 1),
        ("price", {"net": 1, "currency": "EUR"}),
        ("price", {"net": 19.99, "currency": "EUR"}),
        ("price", {"net": " 1.00 ", "currency": "EUR"}),
        ("price", {"net": "١٩.٩٩", "currency": "EUR"}),
        ("price", {"net": "1e3", "currency": "EUR"}),
        ("price", {"net": "1,00", "currency": "EUR"}),
        ("price", {"net": "-1", "currency": "EUR"}),
        ("price", {"net": "1.00001", "currency": "EUR"}),
        ("weight_grams", True),
        ("weight_grams", "250"),
        ("content", {"quantity": 250, "unit": "g"}),
        ("content", {"quantity": "0.001", "unit": "g"}),  # base price beyond the bound
    ],
)
async def test_loose_types_and_values_beyond_the_bounds_are_refused(
    start_service: Any, field: str, value: Any
) -> None:
    async with start_service("catalog") as catalog:
        response = await catalog.client.post("/products", json=_product(**{field: value}))
        assert response.status_code == 422, response.text
        assert await _stored(catalog) == (0, 0)


async def test_stock_is_bounded_and_takes_integers_only(start_service: Any) -> None:
    async with start_service("catalog") as catalog:
        assert (await catalog.client.post("/products", json=_product())).status_code == 201
        db = catalog.kit.store.db
        before = await db[OUTBOX].count_documents({})
        for quantity in (True, "5", 5.0, 0, MAX_STOCK_MOVE + 1):
            loose = await catalog.client.post(
                "/stock/TEE-RED-M/receipts", json={"quantity": quantity}
            )
            assert loose.status_code == 422, (quantity, loose.text)
        # 10 pieces on hand: raise them to 10 below the bound as 99 receipts would
        await db["stock"].update_many({}, {"$inc": {"on_hand": MAX_STOCK - MAX_STOCK_MOVE - 10}})
        fits = await catalog.client.post(
            "/stock/TEE-RED-M/receipts", json={"quantity": MAX_STOCK_MOVE}
        )
        assert fits.status_code == 201, fits.text  # exactly MAX_STOCK on hand
        beyond = await catalog.client.post("/stock/TEE-RED-M/receipts", json={"quantity": 1})
        assert beyond.status_code == 422, beyond.text
        assert "1,000,000,000" in beyond.text
        assert await db[OUTBOX].count_documents({}) == before + 1  # the one that fit


async def test_the_openapi_states_what_is_accepted(start_service: Any) -> None:
    async with start_service("catalog") as catalog:
        schemas = (await catalog.client.get("/openapi.json")).json()["components"]["schemas"]
        net = schemas["PriceIn"]["properties"]["net"]
        assert net["type"] == "string"
        assert net["pattern"] == r"^[0-9]{1,7}(\.[0-9]{1,4})?$"
        stock = schemas["ProductIn"]["properties"]["stock"]
        assert (stock["type"], stock["minimum"], stock["maximum"]) == (
            "integer",
            0,
            MAX_STOCK_MOVE,
        )
        receipt = schemas["ReceiptIn"]["properties"]["quantity"]
        assert (receipt["minimum"], receipt["maximum"]) == (1, MAX_STOCK_MOVE)
