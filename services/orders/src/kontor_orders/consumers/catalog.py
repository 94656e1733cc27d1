"""Subscriptions ``orders.catalog-projection`` and ``orders.shipping-projection``: the
read models of the catalog's products and shipping methods."""

from __future__ import annotations

from kontor_contracts.events.catalog import (
    ProductCreated,
    ProductDiscontinued,
    ProductPriceChanged,
    ProductUpdated,
    ShippingMethodChanged,
)
from kontor_servicekit.consumer import Subscription

from kontor_orders.application import catalog_projection as p
from kontor_orders.store.catalog_products import CATALOG_PRODUCTS
from kontor_orders.store.shipping_methods import SHIPPING_METHODS
from kontor_orders.store.unit_of_work import MongoOrdersUnitOfWork


def catalog_projection() -> Subscription:
    return Subscription(
        purpose="catalog-projection",
        description="Keeps the products the order service prices orders from",
        projection=(CATALOG_PRODUCTS,),
        handlers={
            ProductCreated: p.project_product_created,
            ProductUpdated: p.project_product_updated,
            ProductPriceChanged: p.project_price_changed,
            ProductDiscontinued: p.project_discontinued,
        },
        unit_of_work=MongoOrdersUnitOfWork,
    )


def shipping_projection() -> Subscription:
    return Subscription(
        purpose="shipping-projection",
        description="Keeps the shipping methods the order service prices shipping from",
        projection=(SHIPPING_METHODS,),
        handlers={ShippingMethodChanged: p.project_shipping_method_changed},
        unit_of_work=MongoOrdersUnitOfWork,
    )
