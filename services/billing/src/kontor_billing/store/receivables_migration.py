"""Migration ``0300-payments``: a receivable for every invoice issued before the ledger
existed (issue 12), with its corrections credited and its cancellation applied, so the
open items and dunning see them too. Idempotent: an invoice that has its receivable is
left alone (a failed run runs again)."""

from __future__ import annotations

from kontor_servicekit.clock import utc_now
from kontor_servicekit.store import Store

from kontor_billing.application.receivables import receivable_of_invoice
from kontor_billing.store.invoices import INVOICES, from_document
from kontor_billing.store.ledger import ORDERS
from kontor_billing.store.receivables import RECEIVABLES, receivable_document


async def open_missing_receivables(store: Store) -> None:
    db = store.db
    have = set(await db[RECEIVABLES].distinct("_id"))
    now = utc_now()
    async for doc in db[INVOICES].find({"kind": "invoice"}).sort("number", 1):
        if doc["number"] in have:
            continue
        invoice = from_document(doc)
        order = await db[ORDERS].find_one({"_id": invoice.order_id}, {"placed.payment_method": 1})
        method = ((order or {}).get("placed") or {}).get("payment_method")
        receivable = receivable_of_invoice(invoice, payment_method=method)
        async for ref in db[INVOICES].find({"original_number": invoice.number}).sort("number", 1):
            referring = from_document(ref)
            if referring.kind == "cancellation":
                receivable.cancel(referring.number, now)
            elif referring.kind == "correction":
                receivable.credit(referring.number, referring.gross_total, now)
        receivable.pull_events()
        await db[RECEIVABLES].replace_one(
            {"_id": receivable.invoice_number}, receivable_document(receivable), upsert=True
        )
