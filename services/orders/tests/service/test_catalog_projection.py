"""Orders' ``orders.catalog-projection`` subscription with FastStream's in-memory broker.

Catalog events go through the real Subscription and MessageHandler into the real
``catalog_products`` read model (a ``Store`` on the session's database, one database
per test). What the read model holds is read back the way ``place_order`` reads it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from kontor_contracts.envelope import Envelope
from kontor_contracts.examples import load_example
from kontor_contracts.wire import to_headers
from kontor_orders.consumers.catalog import CATALOG_PROJECTION
from kontor_orders.store.catalog_products import CATALOG_PRODUCTS, priced_products
from kontor_servicekit.consumer import ConsumerRuntime, register_subscriptions
from kontor_servicekit.store import Store, create_client

pytestmark = pytest.mark.service

SKU = "KB-1042"


@dataclass
class DeadLetterRecorder:
    parked: list[tuple[str, bytes | None]] = field(default_factory=list)

    async def send_and_wait(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        self.parked.append((topic, value))


@dataclass
class MetricsRecorder:
    outcomes: list[tuple[str, str]] = field(default_factory=list)

    def handled(self, group: str, event_type: str, outcome: str) -> None:
        self.outcomes.append((event_type, outcome))

    def dead_lettered(self, group: str, topic: str) -> None:
        pass


@dataclass
class Orders:
    broker: KafkaBroker
    store: Store
    dead_letters: DeadLetterRecorder
    metrics: MetricsRecorder
    prefix: str

    async def publish(self, envelope: Envelope) -> None:
        await self.broker.publish(
            envelope.to_bytes(),
            topic=f"{self.prefix}catalog.product.v1",
            key=envelope.aggregate_id.encode(),
            headers={name: value.decode() for name, value in to_headers(envelope)},
        )

    async def product(self) -> dict[str, Any]:
        doc = await self.store.db[CATALOG_PRODUCTS].find_one({"_id": SKU})
        assert doc is not None
        return doc


@pytest.fixture
async def orders(infra: Any, namespace: str) -> AsyncIterator[Orders]:
    client = create_client(infra.mongo_url, app_name="kontor-orders-service-tests")
    store = Store(client, f"{namespace}_orders", producer="orders")
    await store.ensure_indexes()
    recorder, metrics = DeadLetterRecorder(), MetricsRecorder()
    runtime = ConsumerRuntime(
        service="orders",
        store=store,
        producer=recorder,
        metrics=metrics,
        topic_prefix=f"{namespace}.",
        max_attempts=2,
        retry_backoff_s=0.001,
    )
    broker = KafkaBroker("127.0.0.1:9")  # never contacted: TestKafkaBroker patches it
    register_subscriptions(
        broker, runtime, [CATALOG_PROJECTION], session_timeout_ms=2000, heartbeat_interval_ms=500
    )
    try:
        async with TestKafkaBroker(broker) as in_memory:
            yield Orders(in_memory, store, recorder, metrics, f"{namespace}.")
    finally:
        await client.drop_database(store.db.name)
        await client.close()


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


async def test_product_created_then_price_changed(orders: Orders) -> None:
    created = _created()
    await orders.publish(created)
    first = await orders.product()
    assert first["price_net"] == Decimal("17.66")
    assert first["vat_rate"] == Decimal("0.07")
    assert first["name"] == "Espressobohnen Classico 1 kg"
    assert first["discontinued"] is False
    assert first["as_of"] == created.occurred_at

    changed = _price_changed("16.80", at=created.occurred_at + timedelta(days=1))
    await orders.publish(changed)
    product = await orders.product()
    assert product["price_net"] == Decimal("16.80")
    assert product["name"] == "Espressobohnen Classico 1 kg"  # untouched fields stay
    assert product["as_of"] == changed.occurred_at

    priced = (await priced_products(orders.store.db, [SKU, "UNKNOWN"]))[SKU]
    assert (priced.price_net, priced.vat_rate, priced.currency) == (
        Decimal("16.80"),
        Decimal("0.07"),
        "EUR",
    )
    assert orders.metrics.outcomes == [
        ("ProductCreated", "handled"),
        ("ProductPriceChanged", "handled"),
    ]
    assert orders.dead_letters.parked == []


async def test_an_older_price_arriving_late_does_not_overwrite_a_newer_one(
    orders: Orders,
) -> None:
    created = _created()
    t0 = created.occurred_at
    newer = _price_changed("15.00", at=t0 + timedelta(days=2))
    older = _price_changed("16.80", at=t0 + timedelta(days=1))
    await orders.publish(created)
    await orders.publish(newer)
    await orders.publish(older)

    product = await orders.product()
    assert product["price_net"] == Decimal("15.00")
    assert product["as_of"] == newer.occurred_at
    # the late event was handled (and recorded in the inbox), it just changed nothing
    assert [o for _, o in orders.metrics.outcomes] == ["handled"] * 3


async def test_a_late_product_created_does_not_reset_a_changed_price(orders: Orders) -> None:
    created = _created()
    changed = _price_changed("21.00", at=created.occurred_at + timedelta(hours=1), rate="0.19")
    await orders.publish(changed)  # e.g. a replay read the partitions in another order
    await orders.publish(created)

    product = await orders.product()
    assert (product["price_net"], product["vat_rate"]) == (Decimal("21.00"), Decimal("0.19"))


async def test_a_price_change_before_the_product_is_known_is_kept(orders: Orders) -> None:
    changed = _price_changed("16.80", at=_created().occurred_at + timedelta(days=1))
    await orders.publish(changed)
    product = await orders.product()
    assert product["price_net"] == Decimal("16.80")
    # the price alone (no name) is enough to price an order; the SKU stands in for the name
    assert (await priced_products(orders.store.db, [SKU]))[SKU].name == SKU


async def test_redelivered_price_change_is_skipped(orders: Orders) -> None:
    created = _created()
    changed = _price_changed("16.80", at=created.occurred_at + timedelta(days=1))
    for envelope in (created, changed, changed):
        await orders.publish(envelope)
    assert [o for _, o in orders.metrics.outcomes] == ["handled", "handled", "duplicate"]
    assert (await orders.product())["price_net"] == Decimal("16.80")


async def test_discontinued_product_is_marked_and_a_later_order_would_refuse_it(
    orders: Orders,
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
    await orders.publish(created)
    await orders.publish(discontinued)
    assert (await orders.product())["discontinued"] is True
    assert (await priced_products(orders.store.db, [SKU]))[SKU].discontinued is True


async def test_a_catalog_event_with_a_bad_payload_is_dead_lettered(orders: Orders) -> None:
    created = _created()
    broken = created.model_copy(update={"payload": {**created.payload, "price_net": 17.66}})
    await orders.publish(broken)  # a float amount breaks the contract
    [(topic, value)] = orders.dead_letters.parked
    assert topic == f"{orders.prefix}orders.catalog-projection.dlt"
    assert value == broken.to_bytes()
    assert await orders.store.db[CATALOG_PRODUCTS].count_documents({}) == 0


async def test_an_older_event_from_the_same_millisecond_does_not_overwrite(
    orders: Orders,
) -> None:
    created = _created()
    second = created.occurred_at.replace(microsecond=0) + timedelta(days=1)
    # e.g. a PATCH that changes the price twice in one transaction: microseconds apart
    newer = _price_changed("15.00", at=second + timedelta(microseconds=900))
    older = _price_changed("16.80", at=second + timedelta(microseconds=500))
    await orders.publish(created)
    await orders.publish(newer)
    await orders.publish(older)

    assert (await orders.product())["price_net"] == Decimal("15.00")
