"""Keeping the catalog read model: catalog events -> product facts."""

from __future__ import annotations

from kontor_contracts.envelope import Envelope
from kontor_contracts.events.catalog import (
    ProductCreated,
    ProductDiscontinued,
    ProductPriceChanged,
    ProductUpdated,
)
from kontor_servicekit.store import Transaction

from kontor_orders.store.catalog_products import apply_product_fact


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
        },
        env.occurred_at,
    )


async def project_product_updated(event: ProductUpdated, tx: Transaction, env: Envelope) -> None:
    if "name" in event.changed_fields and event.name:
        await apply_product_fact(tx, event.sku, {"name": event.name}, env.occurred_at)


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
