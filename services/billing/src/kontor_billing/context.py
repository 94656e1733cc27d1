"""Billing's container: what its routes and consumers are built with (see ``main.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from kontor_servicekit.clock import Clock
from kontor_servicekit.context import context_dependency
from kontor_servicekit.idempotency import Answers
from kontor_servicekit.uow import Transactor

from kontor_billing.application.documents import InvoiceDocuments
from kontor_billing.application.invoicing import BillingPolicy
from kontor_billing.application.quote_documents import QuoteDocuments
from kontor_billing.application.quotes import QuotePolicy
from kontor_billing.application.unit_of_work import BillingUnitOfWork
from kontor_billing.store.queries import InvoiceQueries, SellerQueries
from kontor_billing.store.quotes import QuoteQueries


@dataclass
class BillingContext:
    invoices: InvoiceQueries
    clock: Clock
    documents: InvoiceDocuments
    transactor: Transactor[BillingUnitOfWork]
    sellers: SellerQueries
    policy: BillingPolicy
    answers: Answers
    quotes: QuoteQueries
    quote_policy: QuotePolicy
    quote_documents: QuoteDocuments


Context = Annotated[BillingContext, Depends(context_dependency(BillingContext))]
