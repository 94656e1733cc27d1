"""Composition root of the orders service."""

from __future__ import annotations

from fastapi import FastAPI
from kontor_servicekit.clock import utc_now
from kontor_servicekit.numbers import NumberBlocks
from kontor_servicekit.runner import run_service
from kontor_servicekit.service import ServiceDefinition, create_service_app

from kontor_orders.api.order_life import router as order_life_router
from kontor_orders.api.orders import router as orders_router
from kontor_orders.consumers.catalog import CATALOG_PROJECTION
from kontor_orders.consumers.order_life import PAYMENTS, RESERVATIONS
from kontor_orders.settings import OrdersSettings
from kontor_orders.store.orders import ensure_indexes


def definition(settings: OrdersSettings) -> ServiceDefinition:
    return ServiceDefinition(
        settings=settings,
        title="Kontor orders",
        description="Orders from placement to delivery, returns and complaints.",
        routers=[orders_router, order_life_router],
        subscriptions=[CATALOG_PROJECTION, RESERVATIONS, PAYMENTS],
        indexes=ensure_indexes,
        ensure_topics=settings.kafka_ensure_topics,
    )


def create_app(settings: OrdersSettings | None = None) -> FastAPI:
    app = create_service_app(definition(settings or OrdersSettings()))
    app.state.order_numbers = NumberBlocks(app.state.kit.store)
    # "now" of every use case: tests move time by replacing it
    app.state.clock = utc_now
    return app


def run() -> None:
    run_service(create_app, OrdersSettings)
