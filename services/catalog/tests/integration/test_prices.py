"""Price changes over HTTP: history, §11 PAngV reference price, base price, events."""

from __future__ import annotations

from typing import Any

import pytest
from kontor_contracts.envelope import Envelope
from kontor_contracts.samples import PRODUCT
from kontor_servicekit.store import OUTBOX

pytestmark = pytest.mark.integration


async def _events(catalog: Any, type_: str) -> list[dict[str, Any]]:
    rows = await catalog.kit.store.db[OUTBOX].find({"type": type_}).sort("seq", 1).to_list()
    return [Envelope.from_bytes(row["value"].encode()).payload for row in rows]


async def test_price_change_is_kept_announced_and_struck_through(start_service: Any) -> None:
    async with start_service("catalog") as catalog:
        created = await catalog.client.post("/products", json=PRODUCT)
        assert created.status_code == 201
        price = created.json()["price"]
        assert (price["gross"], price["lowest_30_days"], price["strike_through"]) == (
            "23.79",
            None,
            None,
        )

        reduced = await catalog.client.put("/products/TEE-RED-M/price", json={"net": "16.80"})
        assert reduced.status_code == 200, reduced.text
        price = reduced.json()["price"]
        assert (price["net"], price["gross"]) == ("16.80", "19.99")
        assert price["lowest_30_days"] == "23.79"
        assert price["strike_through"] == "23.79"

        # the same price again: nothing changes, nothing is announced
        same = await catalog.client.put("/products/TEE-RED-M/price", json={"net": "16.80"})
        assert same.status_code == 200
        assert len(await _events(catalog, "ProductPriceChanged")) == 1

        # up again: no reduction, so no strike-through; the 30-day lowest is now 19.99
        raised = await catalog.client.put(
            "/products/TEE-RED-M/price", json={"net": "21.00", "vat_class": "reduced"}
        )
        price = raised.json()["price"]
        assert (price["gross"], price["vat_rate"], raised.json()["vat_class"]) == (
            "22.47",
            "0.07",
            "reduced",
        )
        assert price["lowest_30_days"] == "19.99"
        assert price["strike_through"] is None
        assert (await catalog.client.get("/products/TEE-RED-M")).json()["price"] == price

        events = await _events(catalog, "ProductPriceChanged")
        assert [
            (e["old_price_net"], e["new_price_net"], e["price_gross"], e["vat_class"])
            for e in events
        ] == [("19.99", "16.80", "19.99", "standard"), ("16.80", "21.00", "22.47", "reduced")]
        assert events[0]["old_price_gross"] == "23.79"
        assert await catalog.kit.store.db["price_history"].count_documents({}) == 3


async def test_price_refusals_change_nothing(start_service: Any) -> None:
    async with start_service("catalog") as catalog:
        await catalog.client.post("/products", json=PRODUCT)
        unknown = await catalog.client.put("/products/NOPE/price", json={"net": "1.00"})
        assert unknown.status_code == 404
        for body, loc in (
            ({"net": 16.8}, ["body", "net"]),
            ({"net": "-1"}, ["body", "net"]),
            ({"net": "1", "vat_class": "luxury"}, ["body", "vat_class"]),
            ({"net": "1", "currency": "USD"}, ["body", "currency"]),
            # net or gross, a decimal string each, as the OpenAPI says (never null)
            ({"net": None, "gross": "20.00"}, ["body", "net"]),
            ({"net": "16.80", "gross": "19.99"}, ["body"]),
            ({"currency": "EUR"}, ["body"]),
        ):
            refused = await catalog.client.put("/products/TEE-RED-M/price", json=body)
            assert refused.status_code == 422, body
            assert refused.json()["errors"][0]["loc"] == loc
        assert await _events(catalog, "ProductPriceChanged") == []
        assert (await catalog.client.get("/products/TEE-RED-M")).json()["price"]["net"] == "19.99"


async def test_base_price_for_goods_sold_by_measure(start_service: Any) -> None:
    async with start_service("catalog") as catalog:
        coffee = {
            **PRODUCT,
            "sku": "COFFEE-250",
            "name": "Kaffee, 250 g",
            "price": {"net": "6.99", "currency": "EUR"},
            "vat_class": "reduced",
            "content": {"quantity": "250", "unit": "g"},
        }
        created = await catalog.client.post("/products", json=coffee)
        assert created.status_code == 201, created.text
        assert created.json()["price"]["gross"] == "7.48"
        assert created.json()["price"]["base_price"] == {"amount": "29.92", "per": "1 kg"}
        assert created.json()["content"] == {"quantity": "250", "unit": "g"}
        read = await catalog.client.get("/products/COFFEE-250")
        assert read.json()["price"]["base_price"] == {"amount": "29.92", "per": "1 kg"}
        assert (await catalog.client.get("/products/TEE-RED-M")).status_code == 404

        bad = await catalog.client.post(
            "/products", json={**coffee, "sku": "X", "content": {"quantity": "0", "unit": "g"}}
        )
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["loc"] == ["body", "content", "quantity"]
        assert await catalog.kit.store.db["products"].count_documents({}) == 1
