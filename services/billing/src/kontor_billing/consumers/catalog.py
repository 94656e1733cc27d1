"""Subscription ``billing.quote-catalog``: billing's read model of the catalog's products,
which quotes are priced from (the newest event wins)."""

from __future__ import annotations

from kontor_contracts.events.catalog import (
    ProductCreated,
    ProductDiscontinued,
    ProductPriceChanged,
    ProductUpdated,
)
from kontor_servicekit.consumer import Subscription

from kontor_billing.application import quotes as q
from kontor_billing.store.quotes import QUOTE_CATALOG
from kontor_billing.store.unit_of_work import MongoBillingUnitOfWork


def quote_catalog() -> Subscription:
    return Subscription(
        purpose="quote-catalog",
        description="Keeps the products and prices quotes are made from",
        projection=(QUOTE_CATALOG,),
        handlers={
            ProductCreated: q.project_product_created,
            ProductUpdated: q.project_product_updated,
            ProductPriceChanged: q.project_price_changed,
            ProductDiscontinued: q.project_discontinued,
        },
        unit_of_work=MongoBillingUnitOfWork,
    )
