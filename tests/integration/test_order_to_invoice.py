"""The first slice end to end on the real broker and database.

catalog ``POST /products`` -> ProductCreated -> orders' read model ->
``POST /orders`` -> OrderPlaced -> billing issues the invoice -> ``GET /invoices``.
"""

from __future__ import annotations

from typing import Any

import pytest
from kontor_contracts.samples import ORDER, PRODUCT
from kontor_servicekit.testing import consume_all, eventually, topic_of, wait_for_assignment

pytestmark = pytest.mark.integration


async def test_product_order_invoice_chain(start_service: Any, infra: Any, namespace: str) -> None:
    async with (
        start_service("catalog") as catalog,
        start_service("orders") as orders,
        start_service("billing") as billing,
    ):
        await wait_for_assignment(orders)
        await wait_for_assignment(billing)

        created = await catalog.client.post("/products", json=PRODUCT)
        assert created.status_code == 201, created.text
        assert created.json()["price"] == {
            "net": "19.99",
            "gross": "23.79",
            "entered": "net",  # the price was entered net (issue 10 point 1)
            "currency": "EUR",
            "vat_rate": "0.19",
            # a new product: no earlier price to strike through, not sold by measure
            "lowest_30_days": None,
            "strike_through": None,
            "base_price": None,
        }
        duplicate = await catalog.client.post("/products", json=PRODUCT)
        assert duplicate.status_code == 409
        assert duplicate.headers["content-type"] == "application/problem+json"

        async def order_accepted() -> Any:
            response = await orders.client.post("/orders", json=ORDER)
            return response if response.status_code == 201 else None

        # The product reaches the orders read model through Kafka, not by a call.
        placed = await eventually(order_accepted, timeout=30, interval=0.2)
        order = placed.json()
        assert order["status"] == "placed"
        assert order["gross_total"] == "47.58"
        assert (await orders.client.get(f"/orders/{order['id']}")).json()["id"] == order["id"]

        async def invoices() -> list[dict[str, Any]]:
            response = await billing.client.get("/invoices", params={"order_id": order["id"]})
            assert response.status_code == 200
            return response.json()["items"]  # type: ignore[no-any-return]

        [invoice] = await eventually(invoices, timeout=30)
        assert invoice["order_id"] == order["id"]
        assert invoice["number"].startswith("RE-")
        assert invoice["number"].endswith("-000001")
        assert (invoice["net_total"], invoice["vat_total"], invoice["gross_total"]) == (
            "39.98",
            "7.60",
            "47.58",
        )
        assert invoice["currency"] == "EUR"

        # Unknown SKUs and bad quantities never reach the database.
        unknown = await orders.client.post(
            "/orders", json={**ORDER, "lines": [{"sku": "NOPE", "quantity": 1}]}
        )
        assert unknown.status_code == 422
        assert unknown.json()["errors"][0]["loc"] == ["body", "lines", 0, "sku"]
        zero = await orders.client.post(
            "/orders", json={**ORDER, "lines": [{"sku": "TEE-RED-M", "quantity": 0}]}
        )
        assert zero.status_code == 422
        assert zero.json()["errors"][0]["loc"] == ["body", "lines", 0, "quantity"]
        assert await orders.kit.store.db["orders"].count_documents({}) == 1

        # InvoiceIssued was published for subscribers of billing.
        [record] = await consume_all(
            infra.kafka_bootstrap, topic_of(namespace, "InvoiceIssued"), expected=1
        )
        assert record.key.decode() == invoice["id"]
        headers = dict(record.headers)
        assert headers["ce_type"].decode().endswith("InvoiceIssued.v1")
        assert b"traceparent" in dict(record.headers) or "traceparent" in headers
