"""The catalog's container: what its routes are built with (see ``main.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from kontor_servicekit.clock import Clock
from kontor_servicekit.context import context_dependency
from kontor_servicekit.idempotency import Answers
from kontor_servicekit.uow import Transactor

from kontor_catalog.application.images import ImageBlobs
from kontor_catalog.application.unit_of_work import CatalogUnitOfWork
from kontor_catalog.store.queries import (
    CategoryQueries,
    ImageQueries,
    ProductQueries,
    ShippingQueries,
    StockQueries,
)


@dataclass
class CatalogContext:
    transactor: Transactor[CatalogUnitOfWork]
    """Runs the commands, each in one unit of work."""
    products: ProductQueries
    stock: StockQueries
    categories: CategoryQueries
    images: ImageQueries
    shipping: ShippingQueries
    blobs: ImageBlobs
    """Where image bytes go (GridFS)."""
    clock: Clock
    answers: Answers
    """Create routes: the answer built before the commit, and Idempotency-Key."""


Context = Annotated[CatalogContext, Depends(context_dependency(CatalogContext))]
