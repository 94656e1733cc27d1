"""Composition root of the catalog service: the one place where its parts are wired."""

from __future__ import annotations

from fastapi import FastAPI
from kontor_servicekit.clock import Clock, utc_now
from kontor_servicekit.context import attach_context
from kontor_servicekit.idempotency import Answers
from kontor_servicekit.runner import run_service
from kontor_servicekit.service import ServiceDefinition, create_service_app
from kontor_servicekit.uow import MongoTransactor

from kontor_catalog.api.categories import router as categories_router
from kontor_catalog.api.csv_io import router as csv_router
from kontor_catalog.api.images import router as images_router
from kontor_catalog.api.products import router as products_router
from kontor_catalog.api.shipping import router as shipping_router
from kontor_catalog.api.stock import router as stock_router
from kontor_catalog.consumers.orders import reservations, restocking
from kontor_catalog.consumers.privacy import privacy_participant
from kontor_catalog.context import CatalogContext
from kontor_catalog.settings import CatalogSettings
from kontor_catalog.store.images import blobs
from kontor_catalog.store.indexes import ensure_indexes
from kontor_catalog.store.migrations import MIGRATIONS
from kontor_catalog.store.queries import (
    CategoryQueries,
    ImageQueries,
    ProductQueries,
    ShippingQueries,
    StockQueries,
)
from kontor_catalog.store.unit_of_work import MongoCatalogUnitOfWork


def definition(settings: CatalogSettings, clock: Clock = utc_now) -> ServiceDefinition:
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
        subscriptions=[reservations(clock), restocking(clock), privacy_participant(clock)],
        indexes=ensure_indexes,
        migrations=MIGRATIONS,
        ensure_topics=settings.kafka_ensure_topics,
    )


def create_app(settings: CatalogSettings | None = None, clock: Clock = utc_now) -> FastAPI:
    app = create_service_app(definition(settings or CatalogSettings(), clock))
    db = app.state.kit.store.db
    attach_context(
        app,
        CatalogContext(
            transactor=MongoTransactor(app.state.kit.store, MongoCatalogUnitOfWork),
            products=ProductQueries(db),
            stock=StockQueries(db),
            categories=CategoryQueries(db),
            images=ImageQueries(db),
            shipping=ShippingQueries(db),
            blobs=blobs(db),
            clock=clock,
            answers=Answers(app.state.kit.store),
        ),
    )
    return app


def run() -> None:
    run_service(create_app, CatalogSettings)
