"""Billing's container: what its routes and consumers are built with (see ``main.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from kontor_servicekit.blobs import BlobStore
from kontor_servicekit.clock import Clock
from kontor_servicekit.context import context_dependency
from kontor_servicekit.idempotency import Answers
from kontor_servicekit.uow import Transactor

from kontor_billing.application.bank_statements import PayoutLookup, StatementFiles
from kontor_billing.application.datev import AccountingUnitOfWork, DatevPolicy
from kontor_billing.application.documents import InvoiceDocuments
from kontor_billing.application.dunning import DunningDocuments
from kontor_billing.application.incoming import IncomingPolicy
from kontor_billing.application.invoicing import BillingPolicy
from kontor_billing.application.quote_documents import QuoteDocuments
from kontor_billing.application.quotes import QuotePolicy
from kontor_billing.application.stripe_webhooks import StripeWebhookSettings
from kontor_billing.application.unit_of_work import BillingUnitOfWork
from kontor_billing.store.bank_queries import BankQueries
from kontor_billing.store.buyer_languages import BuyerChoiceQueries
from kontor_billing.store.datev import OpenItemQueries
from kontor_billing.store.document_queue import WaitingQueries
from kontor_billing.store.erased_buyers import ErasedBuyers
from kontor_billing.store.incoming_queries import IncomingQueries
from kontor_billing.store.oss import OssQueries
from kontor_billing.store.payouts import PayoutQueries
from kontor_billing.store.queries import InvoiceQueries, SellerQueries
from kontor_billing.store.quotes import QuoteQueries
from kontor_billing.store.receivables_queries import DunningQueries, ReceivableQueries
from kontor_billing.store.retention import RetentionQueries


@dataclass
class BillingContext:
    invoices: InvoiceQueries
    clock: Clock
    documents: InvoiceDocuments
    transactor: Transactor[BillingUnitOfWork]
    sellers: SellerQueries
    policy: BillingPolicy
    oss: OssQueries
    retention: RetentionQueries
    receivables: ReceivableQueries
    answers: Answers
    stripe: StripeWebhookSettings
    dunning: DunningQueries
    dunning_documents: DunningDocuments
    payout_queries: PayoutQueries
    payout_transactor: Transactor[AccountingUnitOfWork]
    datev: DatevPolicy
    open_items: OpenItemQueries
    bank: BankQueries
    bank_files: StatementFiles
    payouts: PayoutLookup
    quotes: QuoteQueries
    quote_policy: QuotePolicy
    quote_documents: QuoteDocuments
    waiting: WaitingQueries
    languages: BuyerChoiceQueries[str]
    terms: BuyerChoiceQueries[int]
    erased: ErasedBuyers
    incoming: IncomingContext | None = None  # issue 12; None in apps built without it


Context = Annotated[BillingContext, Depends(context_dependency(BillingContext))]


@dataclass
class IncomingContext:
    """What the incoming-invoice routes are built with (issue 12)."""

    queries: IncomingQueries
    files: BlobStore  # the files as received (GridFS bucket ``incoming_invoice_files``)
    policy: IncomingPolicy
