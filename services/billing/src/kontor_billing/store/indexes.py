"""Billing's indexes (created at start; nothing else happens here)."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from kontor_billing.store.bank_statements import BANK_TRANSACTIONS
from kontor_billing.store.dunning import DUNNING_NOTICES
from kontor_billing.store.erased_buyers import ERASED_SUBJECTS
from kontor_billing.store.incoming import INCOMING
from kontor_billing.store.invoices import INVOICES, ONE_VALID_INVOICE
from kontor_billing.store.ledger import AUDIT, ORDERS
from kontor_billing.store.payouts import PAYOUT_ITEMS
from kontor_billing.store.quotes import ensure_quote_indexes
from kontor_billing.store.receivables import PAYMENTS, RECEIVABLES


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    await db[INVOICES].create_index("number", unique=True, name="number_unique")
    await db[INVOICES].create_index("order_id", name="by_order")
    # One *valid* invoice per order: a second OrderPlaced for the same order (a replay
    # from another producer instance) cannot bill twice, even past the inbox; a reissue
    # after a cancellation is the next generation, and two racing reissues cannot both
    # win (ADR 0025; migration 0025 drops the old one_invoice_per_order).
    await db[INVOICES].create_index(
        [("order_id", 1), ("generation", 1)],
        unique=True,
        name=ONE_VALID_INVOICE,
        partialFilterExpression={"kind": "invoice"},
    )
    # One cancellation per invoice, one correction per refund (return or complaint).
    await db[INVOICES].create_index(
        "original_number",
        unique=True,
        name="one_cancellation_per_invoice",
        partialFilterExpression={"kind": "cancellation"},
    )
    await db[INVOICES].create_index(
        "return_id",
        unique=True,
        name="one_correction_per_refund",
        partialFilterExpression={"kind": "correction"},
    )
    await db[INVOICES].create_index("original_number", name="by_original")
    await db[INVOICES].create_index([("kind", 1), ("number", -1)], name="by_kind_number")
    await db[INVOICES].create_index("customer_email", name="by_customer_email")
    await db[AUDIT].create_index([("chain", 1), ("seq", 1)], unique=True, name="chain_seq")
    await db[ORDERS].create_index("waiting", name="waiting", sparse=True)
    # Incoming invoices (issue 12): one record per file, the duplicate checks per
    # supplier, the lists by status and received time, the due list.
    await db[INCOMING].create_index("sha256", unique=True, name="one_record_per_file")
    await db[INCOMING].create_index("supplier_key", name="by_supplier")
    await db[INCOMING].create_index([("status", 1), ("received_at", -1)], name="by_status")
    await db[INCOMING].create_index("received_at", name="by_received")
    # payouts (issue 12): one item per refunded document / paid supplier invoice, each
    # EndToEndId (= its number) once, the sweeper's and runs' reads
    await db[PAYOUT_ITEMS].create_index("number", unique=True, name="number_unique")
    await db[PAYOUT_ITEMS].create_index(
        [("kind", 1), ("source_id", 1)], unique=True, name="one_payout_per_source"
    )
    await db[PAYOUT_ITEMS].create_index([("status", 1), ("route", 1)], name="by_status")
    await db[PAYOUT_ITEMS].create_index("order_id", name="by_order", sparse=True)
    # the receivables ledger: one per invoice (_id; a reissued invoice after a Storno is a
    # second one for the order, ADR 0025), open items by due date
    await db[RECEIVABLES].create_index(
        [("order_id", 1), ("cancelled_by", 1), ("opened_at", -1)], name="receivables_by_order"
    )
    await db[RECEIVABLES].create_index(
        [("settled", 1), ("disputed_at", 1), ("due_date", 1)], name="dunning_candidates"
    )
    await db[RECEIVABLES].create_index([("status", 1), ("due_date", 1)], name="by_status_due")
    await db[PAYMENTS].create_index([("invoice_number", 1), ("received_at", 1)], name="by_invoice")
    await db[PAYMENTS].create_index([("order_id", 1), ("received_at", 1)], name="by_order")
    # the few payments held for an order billing does not know yet (ADR 0148)
    await db[PAYMENTS].create_index(
        [("received_at", 1)],
        name="held",
        partialFilterExpression={"held": {"$type": "string"}},
    )
    await db[DUNNING_NOTICES].create_index([("invoice_number", 1), ("level", 1)], name="by_invoice")
    # bank statements (ADR 0030): the queue by status, the payer's earlier payments
    await db[BANK_TRANSACTIONS].create_index(
        [("status", 1), ("booking_date", -1)], name="bank_by_status_date"
    )
    await db[BANK_TRANSACTIONS].create_index(
        [("counterparty_iban", 1), ("status", 1)], name="bank_by_payer_iban"
    )
    await db[RECEIVABLES].create_index("order_number", name="receivable_by_order_number")
    await db[RECEIVABLES].create_index(
        [("settled", 1), ("open_amount", 1)], name="receivable_open_by_amount"
    )
    # an erased person's payers (ADR 0114): is this unmatched credit's payer theirs?
    await db[ERASED_SUBJECTS].create_index("payer_keys", name="by_payer_key")
    await ensure_quote_indexes(db)
