"""Subscription ``marketing.catalog``: the category of each article (favourite categories)."""

from __future__ import annotations

from typing import Any

from kontor_contracts.envelope import Envelope
from kontor_contracts.events.catalog import ProductCreated, ProductUpdated
from kontor_servicekit.consumer import Subscription

from kontor_marketing.store.catalog import CATALOG_CATEGORIES
from kontor_marketing.store.unit_of_work import MongoMarketingUnitOfWork


async def on_product_created(event: ProductCreated, uow: Any, env: Envelope) -> None:
    await uow.catalog.set(event.sku, event.category, env.occurred_at)


async def on_product_updated(event: ProductUpdated, uow: Any, env: Envelope) -> None:
    if "category" in event.changed_fields:
        await uow.catalog.set(event.sku, event.category, env.occurred_at)


def catalog_categories() -> Subscription:
    return Subscription(
        purpose="catalog",
        description="The category of each article, for the profiles' favourite categories",
        projection=(CATALOG_CATEGORIES,),
        handlers={ProductCreated: on_product_created, ProductUpdated: on_product_updated},
        unit_of_work=MongoMarketingUnitOfWork,
    )
