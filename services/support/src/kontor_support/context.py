"""Support's container: what its routes are built with (see ``main.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from kontor_servicekit.clock import Clock
from kontor_servicekit.context import context_dependency
from kontor_servicekit.uow import Transactor

from kontor_support.application.unit_of_work import SupportUnitOfWork
from kontor_support.store.queries import SupportQueries


@dataclass
class SupportContext:
    transactor: Transactor[SupportUnitOfWork]
    queries: SupportQueries
    clock: Clock


Context = Annotated[SupportContext, Depends(context_dependency(SupportContext))]
