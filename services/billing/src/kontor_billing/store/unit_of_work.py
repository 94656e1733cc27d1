"""Billing's unit of work over one MongoDB transaction."""

from __future__ import annotations

from kontor_servicekit.store import Transaction
from kontor_servicekit.uow import MongoUnitOfWork

from kontor_billing.store.buyer_languages import MongoBuyerLanguages
from kontor_billing.store.invoices import MongoInvoiceRepository
from kontor_billing.store.ledger import MongoAuditLog, MongoOrderBook, MongoSellerRepository


class MongoBillingUnitOfWork(MongoUnitOfWork):
    def __init__(self, tx: Transaction) -> None:
        super().__init__(tx)
        self.invoices = MongoInvoiceRepository(tx)
        self.orders = MongoOrderBook(tx)
        self.seller = MongoSellerRepository(tx)
        self.audit = MongoAuditLog(tx)
        self.buyer_languages = MongoBuyerLanguages(tx)
