"""Keeping the catalog read model: catalog events -> product facts."""

from __future__ import annotations

from kontor_contracts.envelope import Envelope
from kontor_contracts.events.catalog import (
    ProductCreated,
    ProductDiscontinued,
    ProductPriceChanged,
    ProductUpdated,
    ShippingMethodChanged,
)
from kontor_servicekit.store import Transaction

from kontor_orders.store.catalog_products import apply_product_fact
from kontor_orders.store.shipping_methods import apply_shipping_method


async def project_product_created(event: ProductCreated, tx: Transaction, env: Envelope) -> None:
    await apply_product_fact(
        tx,
        event.sku,
        {
            "name": event.name,
            "price_net": event.price_net,
            "vat_rate": event.vat_rate,
            "vat_class": event.vat_class,
            "currency": event.currency,
            "discontinued": False,
            "weight_grams": event.weight_grams,
        },
        env.occurred_at,
    )


async def project_product_updated(event: ProductUpdated, tx: Transaction, env: Envelope) -> None:
    fields: dict[str, object] = {}
    if "name" in event.changed_fields and event.name:
        fields["name"] = event.name
    if "weight_grams" in event.changed_fields:
        fields["weight_grams"] = event.weight_grams  # shipping by weight
    if fields:
        await apply_product_fact(tx, event.sku, fields, env.occurred_at)


async def project_price_changed(event: ProductPriceChanged, tx: Transaction, env: Envelope) -> None:
    await apply_product_fact(
        tx,
        event.sku,
        {
            "price_net": event.new_price_net,
            "vat_rate": event.vat_rate,
            "vat_class": event.vat_class,
            "currency": event.currency,
        },
        env.occurred_at,
    )


async def project_discontinued(event: ProductDiscontinued, tx: Transaction, env: Envelope) -> None:
    await apply_product_fact(tx, event.sku, {"discontinued": True}, env.occurred_at)


async def project_shipping_method_changed(
    event: ShippingMethodChanged, tx: Transaction, env: Envelope
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
    await apply_shipping_method(tx, event.method_id, state, env.occurred_at)
