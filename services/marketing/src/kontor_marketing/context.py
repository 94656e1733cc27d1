"""Marketing's container: what its routes are built with (see ``main.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from kontor_servicekit.clock import Clock
from kontor_servicekit.context import context_dependency
from kontor_servicekit.uow import Transactor

from kontor_marketing.application.unit_of_work import MarketingUnitOfWork
from kontor_marketing.store.queries import MarketingQueries


@dataclass
class MarketingContext:
    transactor: Transactor[MarketingUnitOfWork]
    queries: MarketingQueries
    clock: Clock


Context = Annotated[MarketingContext, Depends(context_dependency(MarketingContext))]
