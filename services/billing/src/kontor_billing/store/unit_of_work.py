"""Billing's unit of work over one MongoDB transaction."""

from __future__ import annotations

from kontor_servicekit.store import Transaction
from kontor_servicekit.uow import MongoUnitOfWork

from kontor_billing.store.invoices import MongoInvoiceRepository
from kontor_billing.store.ledger import MongoAuditLog, MongoOrderBook, MongoSellerRepository
from kontor_billing.store.quotes import MongoQuoteCatalog, MongoQuoteRepository


class MongoBillingUnitOfWork(MongoUnitOfWork):
    def __init__(self, tx: Transaction) -> None:
        super().__init__(tx)
        self.invoices = MongoInvoiceRepository(tx)
        self.orders = MongoOrderBook(tx)
        self.seller = MongoSellerRepository(tx)
        self.audit = MongoAuditLog(tx)
        self.quotes = MongoQuoteRepository(tx)
        self.catalog = MongoQuoteCatalog(tx)
