"""Keeping the catalog read models: catalog events -> product facts and shipping methods.

The newest event wins in both read models: an older event arriving late changes nothing.
"""

from __future__ import annotations

from kontor_contracts.envelope import Envelope
from kontor_contracts.events.catalog import (
    ProductCreated,
    ProductDiscontinued,
    ProductPriceChanged,
    ProductUpdated,
    ShippingMethodChanged,
)

from kontor_orders.application.unit_of_work import OrdersUnitOfWork


def _categories(every: list[str] | None, first: str | None) -> list[str]:
    """The product's categories: all of them, or (an event from before the catalog told
    them all) the one ``category`` it named; empty: none."""
    if every is not None:
        return list(every)
    return [] if first is None else [first]


async def project_product_created(
    event: ProductCreated, uow: OrdersUnitOfWork, env: Envelope
) -> None:
    await uow.products.apply(
        event.sku,
        {
            "name": event.name,
            "price_net": event.price_net,
            "price_gross": event.price_gross,
            "vat_rate": event.vat_rate,
            "vat_class": event.vat_class,
            "currency": event.currency,
            "discontinued": False,
            "weight_grams": event.weight_grams,
            # what coupon restrictions ask for (ADR 0117)
            "categories": _categories(event.categories, event.category),
            "parent_sku": event.parent_sku,
        },
        env.occurred_at,
    )
    if event.parent_sku is not None:
        await uow.products.mark_parent(event.parent_sku)


async def project_product_updated(
    event: ProductUpdated, uow: OrdersUnitOfWork, env: Envelope
) -> None:
    fields: dict[str, object] = {}
    if "name" in event.changed_fields and event.name:
        fields["name"] = event.name
    if "weight_grams" in event.changed_fields:
        fields["weight_grams"] = event.weight_grams  # shipping by weight
    if "categories" in event.changed_fields or "category" in event.changed_fields:
        fields["categories"] = _categories(event.categories, event.category)  # coupons
    if fields:
        await uow.products.apply(event.sku, fields, env.occurred_at)


async def project_price_changed(
    event: ProductPriceChanged, uow: OrdersUnitOfWork, env: Envelope
) -> None:
    await uow.products.apply(
        event.sku,
        {
            "price_net": event.new_price_net,
            "price_gross": event.price_gross,
            "vat_rate": event.vat_rate,
            "vat_class": event.vat_class,
            "currency": event.currency,
        },
        env.occurred_at,
    )


async def project_discontinued(
    event: ProductDiscontinued, uow: OrdersUnitOfWork, env: Envelope
) -> None:
    await uow.products.apply(event.sku, {"discontinued": True}, env.occurred_at)


async def project_shipping_method_changed(
    event: ShippingMethodChanged, uow: OrdersUnitOfWork, env: Envelope
) -> None:
    """The event is the method's whole state: replace what we knew."""
    state = event.model_dump(
        mode="python",
        include={
            "name",
            "carrier",
            "basis",
            "zones",
            "rates",
            "free_from",
            "currency",
            "vat_rate",
            "active",
        },
    )
    await uow.shipping_methods.replace(event.method_id, state, env.occurred_at)
