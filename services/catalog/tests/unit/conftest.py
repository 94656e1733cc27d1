"""The use-case unit tests' database and clock: the catalog in memory, time standing still."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from kontor_catalog.application.products import CreateProduct, create_product
from kontor_catalog.domain.product_view import ProductView
from kontor_catalog.store.memory import InMemoryCatalogUnitOfWork
from kontor_servicekit.clock import FakeClock
from kontor_servicekit.fakes import FakeTransactor

Catalog = FakeTransactor[InMemoryCatalogUnitOfWork]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def catalog() -> Catalog:
    return FakeTransactor(InMemoryCatalogUnitOfWork)


def new_product(sku: str = "TEE-RED-M", **changes: Any) -> CreateProduct:
    values: dict[str, Any] = {
        "sku": sku,
        "name": "T-Shirt rot, M",
        "price_net": Decimal("19.99"),
        "currency": "EUR",
        "vat_class": "standard",
        "stock": 10,
    }
    values.update(changes)
    return CreateProduct(**values)


@pytest.fixture
def add_product(catalog: Catalog, clock: FakeClock) -> Callable[..., Awaitable[ProductView]]:
    """``await add_product("SKU", stock=3, ...)``: a product created through the use case."""

    async def add(sku: str = "TEE-RED-M", **changes: Any) -> ProductView:
        return await create_product(catalog, new_product(sku, **changes), clock=clock)

    return add


@pytest.fixture
def command() -> Callable[..., CreateProduct]:
    return new_product
