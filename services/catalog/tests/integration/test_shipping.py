"""Shipping methods over HTTP: CRUD, refusals with field paths, quotes, the snapshots emitted."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from kontor_catalog.api.shipping import EXAMPLE, VALUE_EXAMPLE
from kontor_contracts.envelope import Envelope
from kontor_servicekit.store import OUTBOX

pytestmark = pytest.mark.integration


async def _changes(catalog: Any) -> list[Envelope]:
    rows = (
        await catalog.kit.store.db[OUTBOX]
        .find({"type": "ShippingMethodChanged"})
        .sort("seq", 1)
        .to_list()
    )
    return [Envelope.from_bytes(row["value"].encode()) for row in rows]


async def test_shipping_methods_crud_and_snapshots(start_service: Any) -> None:
    async with start_service("catalog") as catalog:
        created = await catalog.client.post("/shipping-methods", json=EXAMPLE)
        assert created.status_code == 201, created.text
        assert created.json()["id"] == "standard"
        assert created.json()["rates"][0] == {
            "zone_id": "de",
            "max_weight_grams": 2000,
            "max_value": None,
            "price_net": "4.12",
        }
        assert (
            await catalog.client.post("/shipping-methods", json=VALUE_EXAMPLE)
        ).status_code == 201
        again = await catalog.client.post("/shipping-methods", json=EXAMPLE)
        assert again.status_code == 409
        listed = (await catalog.client.get("/shipping-methods")).json()
        assert [m["id"] for m in listed] == ["express", "standard"]

        cheaper: dict[str, Any] = copy.deepcopy({k: v for k, v in EXAMPLE.items() if k != "id"})
        cheaper["rates"][0]["price_net"] = "3.99"
        replaced = await catalog.client.put("/shipping-methods/standard", json=cheaper)
        assert replaced.status_code == 200, replaced.text
        assert replaced.json()["rates"][0]["price_net"] == "3.99"
        same = await catalog.client.put("/shipping-methods/standard", json=cheaper)
        assert same.status_code == 200

        quote = await catalog.client.get(
            "/shipping-methods/standard/quote",
            params={"country": "DE", "weight_grams": 1500, "goods_value": "20.00"},
        )
        assert quote.json() == {
            "method_id": "standard",
            "available": True,
            "price_net": "3.99",
            "price_gross": "4.75",
            "currency": "EUR",
        }
        free = await catalog.client.get(
            "/shipping-methods/standard/quote", params={"country": "DE", "goods_value": "50"}
        )
        assert free.json()["price_net"] == "0.00"
        abroad = await catalog.client.get(
            "/shipping-methods/standard/quote", params={"country": "CH"}
        )
        assert abroad.json()["available"] is False

        withdrawn = await catalog.client.delete("/shipping-methods/standard")
        assert withdrawn.status_code == 200
        assert withdrawn.json()["active"] is False
        assert (await catalog.client.delete("/shipping-methods/standard")).status_code == 200
        assert (await catalog.client.get("/shipping-methods/standard")).json()["active"] is False

        changes = await _changes(catalog)
        assert [(c.aggregate_id, c.payload["active"]) for c in changes] == [
            ("standard", True),
            ("express", True),
            ("standard", True),
            ("standard", False),
        ]
        snapshot = changes[2].payload
        assert snapshot["method_id"] == "standard"
        assert snapshot["rates"][0]["price_net"] == "3.99"
        assert snapshot["zones"][1]["countries"] == ["AT", "BE", "FR", "NL"]
        assert (snapshot["free_from"], snapshot["vat_rate"], snapshot["basis"]) == (
            "50.00",
            "0.19",
            "weight",
        )


async def test_shipping_refusals_change_nothing(start_service: Any) -> None:
    async with start_service("catalog") as catalog:

        def broken(**changes: Any) -> dict[str, Any]:
            body = copy.deepcopy(EXAMPLE)
            body.update(changes)
            return body

        for body, loc in (
            (
                broken(
                    zones=[
                        {"zone_id": "de", "countries": ["DE"]},
                        {"zone_id": "eu-1", "countries": ["DE"]},
                    ]
                ),
                ["body", "zones", 1, "countries"],
            ),
            (
                broken(rates=[{"zone_id": "xx", "price_net": "1"}]),
                ["body", "rates", 0, "zone_id"],
            ),
            (
                broken(rates=[{"zone_id": "de", "price_net": 4.12}]),
                ["body", "rates", 0, "price_net"],
            ),
            (
                broken(zones=[{"zone_id": "de", "countries": ["de"]}]),
                ["body", "zones", 0, "countries", 0],
            ),
            (broken(free_from="-1"), ["body", "free_from"]),
            (broken(basis="volume"), ["body", "basis"]),
        ):
            refused = await catalog.client.post("/shipping-methods", json=body)
            assert refused.status_code == 422, body
            assert refused.json()["errors"][0]["loc"] == loc, refused.json()
        missing = await catalog.client.put(
            "/shipping-methods/nope", json={k: v for k, v in EXAMPLE.items() if k != "id"}
        )
        assert missing.status_code == 404
        assert (await catalog.client.delete("/shipping-methods/nope")).status_code == 404
        assert (
            await catalog.client.get("/shipping-methods/nope/quote", params={"country": "DE"})
        ).status_code == 404
        assert await catalog.kit.store.db["shipping_methods"].count_documents({}) == 0
        assert await _changes(catalog) == []
