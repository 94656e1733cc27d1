"""Billing's container: what its routes and consumers are built with (see ``main.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from kontor_servicekit.clock import Clock
from kontor_servicekit.context import context_dependency
from kontor_servicekit.uow import Transactor

from kontor_billing.application.documents import InvoiceDocuments
from kontor_billing.application.invoicing import BillingPolicy
from kontor_billing.application.unit_of_work import BillingUnitOfWork
from kontor_billing.store.buyer_languages import BuyerLanguageQueries
from kontor_billing.store.document_queue import WaitingQueries
from kontor_billing.store.queries import InvoiceQueries, SellerQueries


@dataclass
class BillingContext:
    invoices: InvoiceQueries
    clock: Clock
    documents: InvoiceDocuments
    transactor: Transactor[BillingUnitOfWork]
    sellers: SellerQueries
    policy: BillingPolicy
    waiting: WaitingQueries
    languages: BuyerLanguageQueries


Context = Annotated[BillingContext, Depends(context_dependency(BillingContext))]
