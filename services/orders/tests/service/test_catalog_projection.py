"""Orders' ``orders.catalog-projection`` subscription with FastStream's in-memory broker.

Catalog events go through the real Subscription and MessageHandler (the kit's
service-test harness) into the real ``catalog_products`` read model (a ``Store`` on
the session's database, one database per test). What the read model holds is read
back the way ``place_order`` reads it (the unit of work's ``products``).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.envelope import Envelope
from kontor_contracts.examples import load_example
from kontor_orders.consumers.catalog import catalog_projection
from kontor_orders.domain.order import PricedProduct
from kontor_orders.store.catalog_products import CATALOG_PRODUCTS, MongoCatalogProducts
from kontor_servicekit.service_testing import InMemoryService, in_memory_service

pytestmark = pytest.mark.service

SKU = "KB-1042"


@pytest.fixture
async def orders(infra: Any, namespace: str) -> AsyncIterator[InMemoryService]:
    async with in_memory_service(
        "orders",
        [catalog_projection()],
        mongo_url=infra.mongo_url,
        namespace=namespace,
        max_attempts=2,
    ) as service:
        yield service


async def priced_products(orders: InMemoryService, skus: list[str]) -> dict[str, PricedProduct]:
    """The products as ``place_order`` reads them: through its unit of work."""
    return await orders.store.transaction(lambda tx: MongoCatalogProducts(tx).priced(skus))


async def stored_product(orders: InMemoryService) -> dict[str, Any]:
    doc = await orders.store.db[CATALOG_PRODUCTS].find_one({"_id": SKU})
    assert doc is not None
    return doc


def _created() -> Envelope:
    envelope = load_example("ProductCreated")
    assert envelope.aggregate_id == SKU
    return envelope


def _price_changed(new_net: str, *, at: datetime, rate: str = "0.07") -> Envelope:
    """The golden ProductPriceChanged, moved to the created product and time ``at``."""
    example = load_example("ProductPriceChanged")
    payload = {
        **example.payload,
        "sku": SKU,
        "old_price_net": "17.66",
        "new_price_net": new_net,
        "vat_class": "reduced" if rate == "0.07" else "standard",
        "vat_rate": rate,
    }
    return example.model_copy(
        update={
            "id": uuid.uuid4(),
            "aggregate_id": SKU,
            "occurred_at": at,
            "payload": payload,
        }
    )


async def test_product_created_then_price_changed(orders: InMemoryService) -> None:
    created = _created()
    await orders.publish_envelope(created)
    first = await stored_product(orders)
    assert first["price_net"] == Decimal("17.66")
    assert first["vat_rate"] == Decimal("0.07")
    assert first["name"] == "Espressobohnen Classico 1 kg"
    assert first["discontinued"] is False
    assert first["as_of"] == created.occurred_at

    changed = _price_changed("16.80", at=created.occurred_at + timedelta(days=1))
    await orders.publish_envelope(changed)
    product = await stored_product(orders)
    assert product["price_net"] == Decimal("16.80")
    assert product["name"] == "Espressobohnen Classico 1 kg"  # untouched fields stay
    assert product["as_of"] == changed.occurred_at

    priced = (await priced_products(orders, [SKU, "UNKNOWN"]))[SKU]
    assert (priced.price_net, priced.vat_rate, priced.currency) == (
        Decimal("16.80"),
        Decimal("0.07"),
        "EUR",
    )
    assert [o[1:] for o in orders.metrics.outcomes] == [
        ("ProductCreated", "handled"),
        ("ProductPriceChanged", "handled"),
    ]
    assert orders.dead_letters.parked == []


async def test_an_older_price_arriving_late_does_not_overwrite_a_newer_one(
    orders: InMemoryService,
) -> None:
    created = _created()
    t0 = created.occurred_at
    newer = _price_changed("15.00", at=t0 + timedelta(days=2))
    older = _price_changed("16.80", at=t0 + timedelta(days=1))
    await orders.publish_envelope(created)
    await orders.publish_envelope(newer)
    await orders.publish_envelope(older)

    product = await stored_product(orders)
    assert product["price_net"] == Decimal("15.00")
    assert product["as_of"] == newer.occurred_at
    # the late event was handled (and recorded in the inbox), it just changed nothing
    assert [o[2] for o in orders.metrics.outcomes] == ["handled"] * 3


async def test_a_late_product_created_does_not_reset_a_changed_price(
    orders: InMemoryService,
) -> None:
    created = _created()
    changed = _price_changed("21.00", at=created.occurred_at + timedelta(hours=1), rate="0.19")
    await orders.publish_envelope(changed)  # e.g. a replay read the partitions in another order
    await orders.publish_envelope(created)

    product = await stored_product(orders)
    assert (product["price_net"], product["vat_rate"]) == (Decimal("21.00"), Decimal("0.19"))


async def test_a_price_change_before_the_product_is_known_is_kept(orders: InMemoryService) -> None:
    changed = _price_changed("16.80", at=_created().occurred_at + timedelta(days=1))
    await orders.publish_envelope(changed)
    product = await stored_product(orders)
    assert product["price_net"] == Decimal("16.80")
    # the price alone (no name) is enough to price an order; the SKU stands in for the name
    assert (await priced_products(orders, [SKU]))[SKU].name == SKU


async def test_redelivered_price_change_is_skipped(orders: InMemoryService) -> None:
    created = _created()
    changed = _price_changed("16.80", at=created.occurred_at + timedelta(days=1))
    for envelope in (created, changed, changed):
        await orders.publish_envelope(envelope)
    assert [o[2] for o in orders.metrics.outcomes] == ["handled", "handled", "duplicate"]
    assert (await stored_product(orders))["price_net"] == Decimal("16.80")


async def test_discontinued_product_is_marked_and_a_later_order_would_refuse_it(
    orders: InMemoryService,
) -> None:
    created = _created()
    discontinued = load_example("ProductDiscontinued")
    discontinued = discontinued.model_copy(
        update={
            "aggregate_id": SKU,
            "occurred_at": created.occurred_at + timedelta(days=3),
            "payload": {**discontinued.payload, "sku": SKU},
        }
    )
    await orders.publish_envelope(created)
    await orders.publish_envelope(discontinued)
    assert (await stored_product(orders))["discontinued"] is True
    assert (await priced_products(orders, [SKU]))[SKU].discontinued is True


async def test_a_catalog_event_with_a_bad_payload_is_dead_lettered(orders: InMemoryService) -> None:
    created = _created()
    broken = created.model_copy(update={"payload": {**created.payload, "price_net": 17.66}})
    await orders.publish_envelope(broken)  # a float amount breaks the contract
    [parked] = orders.dead_letters.parked
    assert parked.topic == f"{orders.prefix}orders.catalog-projection.dlt"
    assert parked.value == broken.to_bytes()
    assert await orders.store.db[CATALOG_PRODUCTS].count_documents({}) == 0


async def test_an_older_event_from_the_same_millisecond_does_not_overwrite(
    orders: InMemoryService,
) -> None:
    created = _created()
    second = created.occurred_at.replace(microsecond=0) + timedelta(days=1)
    # e.g. a PATCH that changes the price twice in one transaction: microseconds apart
    newer = _price_changed("15.00", at=second + timedelta(microseconds=900))
    older = _price_changed("16.80", at=second + timedelta(microseconds=500))
    await orders.publish_envelope(created)
    await orders.publish_envelope(newer)
    await orders.publish_envelope(older)

    assert (await stored_product(orders))["price_net"] == Decimal("15.00")
