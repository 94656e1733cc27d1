"""Product advice on the real broker and database (issue 14): catalog's events fill
support's product read model and "blau M" finds the blue shirt in size M in one query,
with its stock as StockAdjusted left it; a discontinued one is shown last."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.envelope import Envelope
from kontor_contracts.events.catalog import ProductCreated, ProductDiscontinued, StockAdjusted
from kontor_servicekit.testing import as_message, eventually, produce, topic_of

pytestmark = pytest.mark.integration


def created(sku: str, name: str, stock: int, **attributes: str) -> ProductCreated:
    return ProductCreated(
        sku=sku,
        name=name,
        description="Kapuzenpulli aus Bio-Baumwolle",
        price_net=Decimal("33.61"),
        price_gross=Decimal("39.99"),
        currency="EUR",
        vat_class="standard",
        vat_rate=Decimal("0.19"),
        stock=stock,
        category="Pullover",
        parent_sku="HOODIE",
        variant_attributes=attributes,
    )


async def test_an_agent_finds_the_variant_in_one_query_with_its_stock(
    start_service: Any, infra: Any, namespace: str
) -> None:
    events: list[Any] = [
        created("HOODIE-BLUE-M", "Hoodie Blau M", 3, color="Blau", size="M"),
        created("HOODIE-BLUE-L", "Hoodie Blau L", 0, color="Blau", size="L"),
        created("HOODIE-RED-M", "Hoodie Rot M", 5, color="Rot", size="M"),
        StockAdjusted(
            sku="HOODIE-BLUE-L",
            warehouse="main",
            delta=4,
            on_hand=4,
            reason="goods_receipt",
            available=4,
        ),
        ProductDiscontinued(sku="HOODIE-RED-M"),
    ]
    async with start_service("support") as support:
        for event in events:
            envelope = Envelope.wrap(event, producer="catalog", aggregate_id=event.sku)
            await produce(
                infra.kafka_bootstrap, topic_of(namespace, envelope.type), [as_message(envelope)]
            )

        async def search(q: str, **params: Any) -> dict[str, Any]:
            answer = await support.client.get("/products", params={"q": q, **params})
            assert answer.status_code == 200, answer.text
            found: dict[str, Any] = answer.json()
            return found

        async def settled() -> bool:
            everything = await search("hoodie")
            stocks = {p["sku"]: (p["stock"], p["discontinued"]) for p in everything["items"]}
            return stocks.get("HOODIE-BLUE-L") == (4, False) and stocks.get("HOODIE-RED-M") == (
                5,
                True,
            )

        await eventually(settled, timeout=30)
        blue_m = await search("Haben Sie den in blau, Größe M?")
        assert blue_m["words"] == ["blau", "m"]
        assert [p["sku"] for p in blue_m["items"]] == ["HOODIE-BLUE-M"]
        direct = await search("blau M")
        assert [p["sku"] for p in direct["items"]] == ["HOODIE-BLUE-M"]
        [product] = direct["items"]
        assert (product["stock"], product["price_gross"]) == (3, "39.99")
        assert product["attributes"] == {"color": "Blau", "size": "M"}
        sized = await search("size:m")
        assert [p["sku"] for p in sized["items"]] == ["HOODIE-BLUE-M", "HOODIE-RED-M"]
        large = await search("baumwolle size:L", in_stock="true")
        assert [p["sku"] for p in large["items"]] == ["HOODIE-BLUE-L"]
        assert (await search("grün"))["total"] == 0
        bad = await support.client.get("/products", params={"in_stock": "yes"})
        assert bad.status_code == 422
