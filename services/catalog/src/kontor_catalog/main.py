"""Composition root of the catalog service."""

from __future__ import annotations

from fastapi import FastAPI
from kontor_servicekit.runner import run_service
from kontor_servicekit.service import ServiceDefinition, create_service_app

from kontor_catalog.api.categories import router as categories_router
from kontor_catalog.api.csv_io import router as csv_router
from kontor_catalog.api.images import router as images_router
from kontor_catalog.api.products import router as products_router
from kontor_catalog.api.shipping import router as shipping_router
from kontor_catalog.api.stock import router as stock_router
from kontor_catalog.consumers.orders import RESERVATIONS, RESTOCKING
from kontor_catalog.settings import CatalogSettings
from kontor_catalog.store.indexes import ensure_indexes


def definition(settings: CatalogSettings) -> ServiceDefinition:
    return ServiceDefinition(
        settings=settings,
        title="Kontor catalog",
        description="The assortment: products, prices, VAT classes and stock.",
        routers=[
            csv_router,  # before products: /products/export is not a SKU
            products_router,
            stock_router,
            categories_router,
            images_router,
            shipping_router,
        ],
        subscriptions=[RESERVATIONS, RESTOCKING],
        indexes=ensure_indexes,
        ensure_topics=settings.kafka_ensure_topics,
    )


def create_app(settings: CatalogSettings | None = None) -> FastAPI:
    return create_service_app(definition(settings or CatalogSettings()))


def run() -> None:
    run_service(create_app, CatalogSettings)
