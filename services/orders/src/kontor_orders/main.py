"""Composition root of the orders service."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from kontor_servicekit.clock import utc_now
from kontor_servicekit.numbers import NumberBlocks
from kontor_servicekit.ratelimit import RateLimiter
from kontor_servicekit.runner import run_service
from kontor_servicekit.service import Kit, ServiceDefinition, create_service_app
from pymongo.asynchronous.database import AsyncDatabase

from kontor_orders.api.carts import router as carts_router
from kontor_orders.api.complaints import router as complaints_router
from kontor_orders.api.order_life import router as order_life_router
from kontor_orders.api.orders import router as orders_router
from kontor_orders.api.returns import router as returns_router
from kontor_orders.api.views import router as views_router
from kontor_orders.application.carts import AbandonmentSweeper
from kontor_orders.consumers.catalog import CATALOG_PROJECTION, SHIPPING_PROJECTION
from kontor_orders.consumers.order_life import PAYMENTS, RESERVATIONS
from kontor_orders.settings import OrdersSettings
from kontor_orders.store.carts import ensure_cart_indexes
from kontor_orders.store.complaints import ensure_complaint_indexes
from kontor_orders.store.orders import ensure_indexes as ensure_order_indexes
from kontor_orders.store.returns import ensure_return_indexes


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    await ensure_order_indexes(db)
    await ensure_cart_indexes(db)
    await ensure_return_indexes(db)
    await ensure_complaint_indexes(db)


def definition(settings: OrdersSettings) -> ServiceDefinition:
    return ServiceDefinition(
        settings=settings,
        title="Kontor orders",
        description="Orders from placement to delivery, returns and complaints.",
        routers=[
            views_router,  # before /orders/{order_id}
            orders_router,
            order_life_router,
            carts_router,
            returns_router,
            complaints_router,
        ],
        subscriptions=[CATALOG_PROJECTION, SHIPPING_PROJECTION, RESERVATIONS, PAYMENTS],
        indexes=ensure_indexes,
        ensure_topics=settings.kafka_ensure_topics,
    )


def create_app(settings: OrdersSettings | None = None) -> FastAPI:
    settings = settings or OrdersSettings()
    service = definition(settings)
    app = create_service_app(service)
    app.state.order_numbers = NumberBlocks(app.state.kit.store)
    # "now" of every use case: tests move time by replacing it
    app.state.clock = utc_now
    app.state.withdrawal_limiter = RateLimiter(settings.withdrawal_rate_limit)
    sweeper = AbandonmentSweeper(
        app.state.kit.store,
        quiet=timedelta(seconds=settings.cart_abandon_after_s),
        interval_s=settings.cart_sweep_interval_s,
        clock=lambda: app.state.clock(),
    )

    async def start_sweeper(kit: Kit) -> None:
        sweeper.start()

    async def continue_legacy_numbers(kit: Kit) -> None:
        # The first version took order numbers from the gap-free counter
        # "order-number:<year>"; the block allocator continues after them.
        legacy = kit.store.db["sequences"].find({"_id": {"$regex": "^order-number:"}})
        async for doc in legacy:
            await app.state.order_numbers.raise_floor(doc["_id"], int(doc["value"]))

    async def stop_sweeper(kit: Kit) -> None:
        await sweeper.stop()

    service.on_started.append(continue_legacy_numbers)
    service.on_started.append(start_sweeper)
    service.on_stopping.append(stop_sweeper)
    return app


def run() -> None:
    run_service(create_app, OrdersSettings)
