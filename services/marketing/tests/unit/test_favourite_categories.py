"""Favourite categories (issue 15): the categories a person bought most pieces of, from
the catalogue's categories (marketing's own read model of catalog.product.v1) and the
lines of their kept orders; a rule can select by the favourite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from kontor_contracts.events.catalog import ProductUpdated
from kontor_contracts.events.orders import OrderCancelled
from kontor_contracts.samples import order_placed_envelope
from kontor_marketing.application.profiles import (
    create_segment,
    on_order_cancelled,
    on_order_placed,
)
from kontor_marketing.consumers.catalog import on_product_updated
from kontor_marketing.store.memory import InMemoryMarketingUnitOfWork
from kontor_servicekit.fakes import FakeTransactor, envelope_of

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 2, 10, tzinfo=UTC)


async def categorised(
    transactor: FakeTransactor[InMemoryMarketingUnitOfWork], sku: str, category: str, at: datetime
) -> None:
    event = ProductUpdated(sku=sku, changed_fields=["category"], category=category)
    await transactor.deliver(on_product_updated, event, envelope_of(event, occurred_at=at))


async def test_the_favourite_categories_follow_the_pieces_of_kept_orders() -> None:
    transactor = FakeTransactor(InMemoryMarketingUnitOfWork)
    await categorised(transactor, "TEE-RED-M", "Shirts", NOW)
    await categorised(transactor, "BOOK-1", "Bücher", NOW)
    await categorised(transactor, "BOOK-1", "Books", NOW - timedelta(days=1))  # older: ignored
    first = order_placed_envelope(number=1)  # 2 x TEE-RED-M, 1 x BOOK-1
    await transactor.deliver(on_order_placed, first.payload_model(), first)
    segment = await create_segment(
        transactor,
        "Shirt people",
        {"all": [{"field": "favourite_category", "op": "eq", "value": "Shirts"}]},
        clock=lambda: NOW,
    )
    profile = await transactor.run(lambda uow: uow.profiles.get("anna@example.de"))
    assert profile is not None
    assert profile.favourite_categories() == ["Shirts", "Bücher"]
    assert segment.id in profile.segments

    cancelled = OrderCancelled(order_id=first.payload["order_id"], reason="customer_request")
    await transactor.deliver(on_order_cancelled, cancelled)
    profile = await transactor.run(lambda uow: uow.profiles.get("anna@example.de"))
    assert profile is not None and profile.favourite_categories() == []
    assert segment.id not in profile.segments
