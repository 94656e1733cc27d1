"""The shop's set-up waits until the orders service knows every product, not just one.

Found in a clean-clone CI under load: orders had applied the T-shirt's
``ProductCreated`` but not yet the mug's, the set-up's probe order (a T-shirt)
was accepted, and the first two mug orders were refused with 422, so the
durability test counted 38 accepted orders of 40 before anything was stopped.
"""

from __future__ import annotations

import json

import httpx
import pytest
from kontor_local.soak import PLENTY, SCARCE, Shop

pytestmark = pytest.mark.unit


class Orders:
    """An orders service that learns the mug only after a few requests."""

    def __init__(self, mug_known_after: int) -> None:
        self.requests = 0
        self.mug_known_after = mug_known_after
        self.orders: list[str] = []

    def knows(self, sku: str) -> bool:
        return sku == PLENTY or self.requests > self.mug_known_after

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        path = request.url.path
        if request.method == "POST" and path == "/carts":
            return httpx.Response(201, json={"id": "cart-1"})
        if request.method == "PUT" and path.startswith("/carts/cart-1/lines/"):
            sku = path.rsplit("/", 1)[1]
            return httpx.Response(200 if self.knows(sku) else 422, json={})
        if request.method == "GET" and path == "/orders":
            return httpx.Response(200, json={"items": []})
        if request.method == "POST" and path == "/orders":
            sku = json.loads(request.content)["lines"][0]["sku"]
            if not self.knows(sku):
                return httpx.Response(422, json={"title": f"unknown article {sku}"})
            self.orders.append(sku)
            return httpx.Response(201, json={"id": f"o-{len(self.orders)}"})
        return httpx.Response(404)


def catalog(request: httpx.Request) -> httpx.Response:
    if request.method == "POST" and request.url.path == "/products":
        return httpx.Response(201, json={})
    return httpx.Response(200, json={"on_hand": 40, "reserved": 0, "available": 40})


async def test_set_up_returns_only_when_every_product_can_be_ordered() -> None:
    orders = Orders(mug_known_after=6)
    shop = Shop({"orders": "http://orders", "catalog": "http://catalog"}, "token")
    shop._clients = {
        "orders": httpx.AsyncClient(
            base_url="http://orders", transport=httpx.MockTransport(orders)
        ),
        "catalog": httpx.AsyncClient(
            base_url="http://catalog", transport=httpx.MockTransport(catalog)
        ),
    }
    shop.life = _no_life  # type: ignore[method-assign]
    try:
        await shop.set_up()
        assert orders.knows(SCARCE), "set-up returned while the mug was unknown"
        assert orders.orders == [PLENTY]  # one probe order, nothing else booked
        assert await shop.place_one(5) == "o-2"  # index 5 is a mug order
    finally:
        await shop.close()


async def _no_life(order_id: str, index: int) -> None:
    return None
