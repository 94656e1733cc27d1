"""The catalog read models over the in-memory unit of work: catalog events become the
products and shipping methods orders are priced from; the newest event wins."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.envelope import Envelope
from kontor_contracts.events.catalog import (
    ProductCreated,
    ProductDiscontinued,
    ProductPriceChanged,
    ProductUpdated,
    ShippingMethodChanged,
)
from kontor_contracts.examples import load_example
from kontor_orders.application.carts import create_cart, set_cart_line
from kontor_orders.application.catalog_projection import (
    project_discontinued,
    project_price_changed,
    project_product_created,
    project_product_updated,
    project_shipping_method_changed,
)
from kontor_orders.domain.order import OrderError, PricedProduct
from kontor_orders.domain.shipping import ShippingMethod
from kontor_servicekit.fakes import envelope_of

pytestmark = pytest.mark.unit

SKU = "KB-1042"  # the golden ProductCreated


async def priced(world: Any, sku: str = SKU) -> PricedProduct | None:
    found = await world.transactor.run(lambda uow: uow.products.priced([sku]))
    product: PricedProduct | None = found.get(sku)
    return product


async def methods(world: Any, method_id: str) -> tuple[ShippingMethod | None, ...]:
    found: tuple[ShippingMethod | None, ...] = await world.transactor.run(
        lambda uow: uow.shipping_methods.with_standard(method_id)
    )
    return found


async def created(world: Any) -> Envelope:
    envelope = load_example("ProductCreated")
    await world.deliver(project_product_created, envelope.payload_model(), envelope)
    return envelope


async def test_a_created_product_can_be_ordered(world: Any) -> None:
    envelope = await created(world)
    product = await priced(world)
    assert product is not None
    assert (product.name, product.currency, product.discontinued) == (
        "Espressobohnen Classico 1 kg",
        "EUR",
        False,
    )
    assert product.price_net == Decimal(envelope.payload["price_net"])
    order = await world.place(lines=[(SKU, 1)])
    assert order.lines[0].name == "Espressobohnen Classico 1 kg"


async def test_the_newest_price_wins_whatever_order_events_arrive_in(world: Any) -> None:
    envelope = await created(world)
    at = envelope.occurred_at

    def changed(net: str) -> ProductPriceChanged:
        golden = load_example("ProductPriceChanged").payload_model()
        assert isinstance(golden, ProductPriceChanged)
        return golden.model_copy(update={"sku": SKU, "new_price_net": Decimal(net)})

    newer, older = changed("16.80"), changed("15.00")
    await world.deliver(
        project_price_changed, newer, envelope_of(newer, occurred_at=at + timedelta(days=2))
    )
    await world.deliver(
        project_price_changed, older, envelope_of(older, occurred_at=at + timedelta(days=1))
    )
    product = await priced(world)
    assert product is not None and product.price_net == Decimal("16.80")
    assert product.name == "Espressobohnen Classico 1 kg"  # untouched facts stay


async def test_updates_rename_and_weigh_and_discontinuing_stops_orders(world: Any) -> None:
    envelope = await created(world)
    at = envelope.occurred_at
    update = ProductUpdated(
        sku=SKU, changed_fields=["name", "weight_grams"], name="Bohnen", weight_grams=1000
    )
    await world.deliver(
        project_product_updated, update, envelope_of(update, occurred_at=at + timedelta(hours=1))
    )
    product = await priced(world)
    assert product is not None and (product.name, product.weight_grams) == ("Bohnen", 1000)
    gone = ProductDiscontinued(sku=SKU)
    await world.deliver(
        project_discontinued, gone, envelope_of(gone, occurred_at=at + timedelta(hours=2))
    )
    product = await priced(world)
    assert product is not None and product.discontinued is True


async def test_a_shipping_method_is_replaced_by_its_newest_state(world: Any) -> None:
    envelope = load_example("ShippingMethodChanged")
    event = envelope.payload_model()
    assert isinstance(event, ShippingMethodChanged)
    await world.deliver(project_shipping_method_changed, event, envelope)
    stale = event.model_copy(update={"name": "alt", "active": False})
    await world.deliver(
        project_shipping_method_changed,
        stale,
        envelope_of(stale, occurred_at=envelope.occurred_at - timedelta(days=1)),
    )
    method, _ = await methods(world, event.method_id)
    assert method is not None
    assert (method.name, method.active, method.vat_rate) == (event.name, True, event.vat_rate)
    assert [z for z in method.zones] == [z.zone_id for z in event.zones]


def parent_of_golden() -> ProductCreated:
    """KB-1000, the parent of the golden ProductCreated (KB-1042 is its variant)."""
    payload = load_example("ProductCreated").payload
    fields = {"sku": "KB-1000", "gtin": None, "parent_sku": None, "variant_attributes": None}
    return ProductCreated.model_validate({**payload, **fields})


async def test_a_product_with_variants_cannot_be_ordered_or_put_in_a_cart(world: Any) -> None:
    # issue 10 point 14: the parent of variants ("the T-shirt") could be ordered
    parent_event = parent_of_golden()
    await world.deliver(project_product_created, parent_event, envelope_of(parent_event))
    alone = await priced(world, "KB-1000")
    assert alone is not None and not alone.has_variants  # no variant known yet
    await created(world)  # KB-1042, a variant of KB-1000
    parent, variant = await priced(world, "KB-1000"), await priced(world)
    assert parent is not None and parent.has_variants
    assert variant is not None and not variant.has_variants
    with pytest.raises(OrderError, match="has variants") as ordered:
        await world.place(lines=[("KB-1000", 1)])
    assert ordered.value.field == ("lines", 0, "sku")
    cart = await create_cart(world.transactor, customer_email=None, clock=world.clock)
    with pytest.raises(OrderError, match="has variants"):
        await set_cart_line(world.transactor, cart.id, "KB-1000", 1, world.clock)
    placed = await world.place(lines=[(SKU, 1)])
    assert placed.lines[0].sku == SKU


async def test_a_variant_learnt_before_its_parent_still_marks_it(world: Any) -> None:
    await created(world)  # the variant first (a replay, another partition)
    assert await priced(world, "KB-1000") is None  # nothing priced is known of it yet
    parent_event = parent_of_golden()
    await world.deliver(project_product_created, parent_event, envelope_of(parent_event))
    parent = await priced(world, "KB-1000")
    assert parent is not None and parent.has_variants
