"""Billing's unit of work over one MongoDB transaction."""

from __future__ import annotations

from kontor_servicekit.store import Transaction
from kontor_servicekit.uow import MongoUnitOfWork

from kontor_billing.store.bank_statements import (
    MongoBankStatementRepository,
    MongoBankTransactionRepository,
    MongoOpenItemFinder,
)
from kontor_billing.store.buyer_languages import MongoBuyerLanguages, MongoBuyerTerms
from kontor_billing.store.datev import (
    MongoAccountingSource,
    MongoExportRepository,
    MongoPartyAccounts,
)
from kontor_billing.store.dunning import MongoDunningNotices
from kontor_billing.store.incoming import MongoIncomingInvoiceRepository
from kontor_billing.store.invoices import MongoInvoiceRepository
from kontor_billing.store.ledger import MongoAuditLog, MongoOrderBook, MongoSellerRepository
from kontor_billing.store.payouts import (
    MongoOrderPayments,
    MongoPayableSource,
    MongoPaymentRunRepository,
    MongoPayoutRepository,
)
from kontor_billing.store.quotes import MongoQuoteCatalog, MongoQuoteRepository
from kontor_billing.store.receivables import (
    MongoPaymentRepository,
    MongoReceivableRepository,
    MongoStripeEventLog,
)
from kontor_billing.store.retention import MongoRetainedDocuments


class MongoBillingUnitOfWork(MongoUnitOfWork):
    def __init__(self, tx: Transaction) -> None:
        super().__init__(tx)
        self.invoices = MongoInvoiceRepository(tx)
        self.orders = MongoOrderBook(tx)
        self.seller = MongoSellerRepository(tx)
        self.audit = MongoAuditLog(tx)
        self.retained = MongoRetainedDocuments(tx)
        self.incoming = MongoIncomingInvoiceRepository(tx)
        self.payouts = MongoPayoutRepository(tx)
        self.payment_runs = MongoPaymentRunRepository(tx)
        self.payables = MongoPayableSource(tx)
        self.order_payments = MongoOrderPayments(tx)
        self.accounting = MongoAccountingSource(tx)
        self.datev_exports = MongoExportRepository(tx)
        self.party_accounts = MongoPartyAccounts(tx)
        self.receivables = MongoReceivableRepository(tx)
        self.payments = MongoPaymentRepository(tx)
        self.stripe_events = MongoStripeEventLog(tx)
        self.dunning = MongoDunningNotices(tx)
        self.bank_statements = MongoBankStatementRepository(tx)
        self.bank_transactions = MongoBankTransactionRepository(tx)
        self.open_items = MongoOpenItemFinder(tx)
        self.quotes = MongoQuoteRepository(tx)
        self.catalog = MongoQuoteCatalog(tx)
        self.buyer_languages = MongoBuyerLanguages(tx)
        self.buyer_terms = MongoBuyerTerms(tx)
