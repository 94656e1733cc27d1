"""Billing's container: what its routes and consumers are built with (see ``main.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from kontor_servicekit.clock import Clock
from kontor_servicekit.context import context_dependency

from kontor_billing.application.documents import InvoiceDocuments
from kontor_billing.store.queries import InvoiceQueries


@dataclass
class BillingContext:
    invoices: InvoiceQueries
    clock: Clock
    documents: InvoiceDocuments


Context = Annotated[BillingContext, Depends(context_dependency(BillingContext))]
