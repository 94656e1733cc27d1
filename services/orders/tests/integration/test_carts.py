"""Carts over HTTP: changes emit CartUpdated, checkout CheckoutStarted, a quiet cart
is abandoned by the service's periodic task, and an order can be placed from a cart."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.samples import ORDER
from kontor_servicekit.store import OUTBOX
from kontor_servicekit.testing import eventually, outbox_events

pytestmark = pytest.mark.integration


async def seed(orders: Any, price: str = "19.99") -> None:
    await orders.kit.store.db["catalog_products"].replace_one(
        {"_id": "TEE-RED-M"},
        {
            "_id": "TEE-RED-M",
            "name": "T-Shirt rot, M",
            "price_net": Decimal(price),
            "vat_rate": Decimal("0.19"),
            "vat_class": "standard",
            "currency": "EUR",
            "discontinued": False,
        },
        upsert=True,
    )


async def events(orders: Any, key: str) -> list[tuple[str, dict[str, Any]]]:
    return await outbox_events(orders, key)  # opened: the rows are sealed (ADR 0036)


async def test_cart_changes_checkout_and_order(start_service: Any) -> None:
    async with start_service("orders") as orders:
        await seed(orders)
        created = await orders.client.post("/carts", json={"customer_email": "anna@example.de"})
        assert created.status_code == 201, created.text
        cart_id = created.json()["id"]
        assert created.json()["status"] == "open"

        put = await orders.client.put(f"/carts/{cart_id}/lines/TEE-RED-M", json={"quantity": 2})
        assert put.status_code == 200, put.text
        assert put.json()["value"] == "47.58"
        assert put.json()["lines"][0]["unit_price_gross"] == "23.79"

        unknown = await orders.client.put(f"/carts/{cart_id}/lines/NOPE", json={"quantity": 1})
        assert unknown.status_code == 422
        assert unknown.json()["errors"][0]["loc"] == ["path", "sku"]
        zero = await orders.client.put(f"/carts/{cart_id}/lines/TEE-RED-M", json={"quantity": 0})
        assert zero.status_code == 422
        missing = await orders.client.delete(f"/carts/{cart_id}/lines/NOPE")
        assert missing.status_code == 404
        assert (await orders.client.get("/carts/nope")).status_code == 404

        checkout = await orders.client.post(f"/carts/{cart_id}/checkout")
        assert checkout.status_code == 200, checkout.text
        assert checkout.json()["status"] == "checkout"
        assert checkout.json()["value"] == "47.58"
        locked_until = datetime.fromisoformat(checkout.json()["prices_locked_until"])
        started = datetime.fromisoformat(checkout.json()["checkout_started_at"])
        assert locked_until - started == timedelta(minutes=30)  # the default setting

        # the price goes up before the order, within the lock: the order charges the
        # prices the customer saw at checkout (issue 10 point 2; it charged 20.99 before)
        await seed(orders, "20.99")
        body = {k: v for k, v in ORDER.items() if k != "lines"}
        placed = await orders.client.post("/orders", json={**body, "cart_id": cart_id})
        assert placed.status_code == 201, placed.text
        assert placed.json()["lines"][0]["quantity"] == 2
        assert placed.json()["lines"][0]["unit_price_net"] == "19.99"
        assert placed.json()["lines"][0]["unit_price_gross"] == "23.79"
        assert placed.json()["gross_total"] == checkout.json()["value"] == "47.58"

        cart = (await orders.client.get(f"/carts/{cart_id}")).json()
        assert cart["status"] == "ordered" and cart["order_id"] == placed.json()["id"]
        again = await orders.client.post("/orders", json={**body, "cart_id": cart_id})
        assert again.status_code == 409 and again.json()["current_state"] == "ordered"
        changed = await orders.client.put(f"/carts/{cart_id}/lines/TEE-RED-M", json={"quantity": 1})
        assert changed.status_code == 409

        both = await orders.client.post(
            "/orders", json={**body, "cart_id": cart_id, "lines": ORDER["lines"]}
        )
        assert both.status_code == 422
        neither = await orders.client.post("/orders", json=body)
        assert neither.status_code == 422
        assert neither.json()["errors"][0]["loc"] == ["body", "lines"]

        emitted = await events(orders, cart_id)
        assert [t for t, _ in emitted] == ["CartUpdated", "CartUpdated", "CheckoutStarted"]
        assert emitted[1][1]["value"] == "47.58"
        assert emitted[1][1]["lines"] == [
            {
                "sku": "TEE-RED-M",
                "quantity": 2,
                "unit_price_gross": "23.79",
                "name": "T-Shirt rot, M",
            }
        ]


async def test_after_the_lock_a_changed_price_refuses_the_order_naming_the_line(
    start_service: Any,
) -> None:
    """Issue 10 point 2: once the lock has run out, a price changed since checkout is
    not charged silently: 409 names the line, nothing is placed, and a new checkout
    shows (and then charges) the new price."""
    async with start_service("orders", checkout_price_lock_s=0.5) as orders:
        await seed(orders)
        cart_id = (await orders.client.post("/carts", json={})).json()["id"]
        await orders.client.put(f"/carts/{cart_id}/lines/TEE-RED-M", json={"quantity": 2})
        checkout = await orders.client.post(f"/carts/{cart_id}/checkout")
        assert checkout.status_code == 200, checkout.text
        locked_until = datetime.fromisoformat(checkout.json()["prices_locked_until"])

        await seed(orders, "20.99")  # 24.98 gross from now on
        await asyncio.sleep(max(0.0, (locked_until - datetime.now(UTC)).total_seconds()) + 0.1)
        body = {k: v for k, v in ORDER.items() if k != "lines"}
        refused = await orders.client.post("/orders", json={**body, "cart_id": cart_id})
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["changed_lines"] == [
            {"sku": "TEE-RED-M", "unit_price_gross_seen": "23.79", "unit_price_gross_now": "24.98"}
        ]
        assert "TEE-RED-M" in refused.json()["detail"]
        assert await orders.kit.store.db["orders"].count_documents({}) == 0
        assert await orders.kit.store.db[OUTBOX].count_documents({"type": "OrderPlaced"}) == 0
        assert (await orders.client.get(f"/carts/{cart_id}")).json()["status"] == "checkout"

        again = await orders.client.post(f"/carts/{cart_id}/checkout")
        assert again.json()["value"] == "49.96"  # 2 x 24.98, the price now shown
        placed = await orders.client.post("/orders", json={**body, "cart_id": cart_id})
        assert placed.status_code == 201, placed.text
        assert placed.json()["gross_total"] == "49.96"


async def test_removing_lines_and_empty_checkout(start_service: Any) -> None:
    async with start_service("orders") as orders:
        await seed(orders)
        cart_id = (await orders.client.post("/carts", json={})).json()["id"]
        empty = await orders.client.post(f"/carts/{cart_id}/checkout")
        assert empty.status_code == 422
        assert empty.json()["errors"][0]["loc"] == ["path", "cart_id"]
        await orders.client.put(f"/carts/{cart_id}/lines/TEE-RED-M", json={"quantity": 1})
        removed = await orders.client.delete(f"/carts/{cart_id}/lines/TEE-RED-M")
        assert removed.status_code == 200
        assert removed.json()["lines"] == [] and removed.json()["value"] == "0.00"
        assert len(await events(orders, cart_id)) == 3


async def test_quiet_cart_after_checkout_is_abandoned(start_service: Any) -> None:
    async with start_service(
        "orders", cart_abandon_after_s=0.5, cart_sweep_interval_s=0.1
    ) as orders:
        await seed(orders)
        quiet = (await orders.client.post("/carts", json={"customer_email": "b@example.de"})).json()
        idle = (await orders.client.post("/carts", json={})).json()  # never checked out
        for cart in (quiet, idle):
            await orders.client.put(f"/carts/{cart['id']}/lines/TEE-RED-M", json={"quantity": 1})
        await orders.client.post(f"/carts/{quiet['id']}/checkout")

        async def abandoned() -> bool:
            body = (await orders.client.get(f"/carts/{quiet['id']}")).json()
            return bool(body["status"] == "abandoned")

        await eventually(abandoned, timeout=10)
        emitted = await events(orders, quiet["id"])
        assert [t for t, _ in emitted].count("CartAbandoned") == 1
        payload = dict(emitted)["CartAbandoned"]
        assert payload["value"] == "23.79" and payload["customer_email"] == "b@example.de"
        rows = await orders.kit.store.db[OUTBOX].find({"key": quiet["id"]}).to_list(None)
        assert rows and all("b@example.de" not in row["value"] for row in rows)  # sealed
        assert (await orders.client.get(f"/carts/{idle['id']}")).json()["status"] == "open"
        # the customer comes back: the cart opens again
        back = await orders.client.put(
            f"/carts/{quiet['id']}/lines/TEE-RED-M", json={"quantity": 3}
        )
        assert back.json()["status"] == "open"
