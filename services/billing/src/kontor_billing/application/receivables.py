"""The receivables ledger follows the documents: an invoice opens its receivable, a
correction reduces it, a cancellation closes it (all in the unit of work that issues
the document), and a customer's dispute stops its dunning.
"""

from __future__ import annotations

from datetime import datetime

from kontor_servicekit.domain_errors import NotFound

from kontor_billing.application.unit_of_work import BillingUnitOfWork
from kontor_billing.domain.invoice import Invoice
from kontor_billing.domain.order import BilledOrder
from kontor_billing.domain.receivables import Receivable


def receivable_of_invoice(invoice: Invoice, *, payment_method: str | None) -> Receivable:
    return Receivable.open(
        invoice_number=invoice.number,
        invoice_id=invoice.id,
        order_id=invoice.order_id,
        order_number=invoice.order_number,
        customer_email=invoice.buyer.email,
        customer_name=invoice.buyer.name,
        company=invoice.buyer.company,
        currency=invoice.currency,
        gross_total=invoice.gross_total,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        opened_at=invoice.issued_at,
        payment_method=payment_method,
    )


async def on_document_issued(
    uow: BillingUnitOfWork, document: Invoice, *, at: datetime, order: BilledOrder | None = None
) -> None:
    """Keep the ledger in step with a document just stored in this unit of work.

    ``order``: the invoice's order when the caller holds it already (one read less on
    the path of every order)."""
    if document.kind == "invoice":
        if order is None or order.order_id != document.order_id:
            order = await uow.orders.get(document.order_id)
        method = order.placed.payment_method if order and order.placed else None
        opened = receivable_of_invoice(document, payment_method=method)
        # payments that arrived before the invoice (a prepayment) are applied now;
        # their PaymentReceived went out when they were booked
        early = await uow.payments.unapplied_of_order(document.order_id)
        for payment in early:
            opened.apply(payment, at)
            await uow.payments.save(payment)
        opened.pull_events()
        await uow.receivables.add(opened)
        return
    if document.original_number is None:
        return
    receivable = await uow.receivables.get(document.original_number)
    if receivable is None:
        return  # an invoice issued before the ledger existed (migration 0300 opens those)
    if document.kind == "cancellation":
        receivable.cancel(document.number, at)
    elif document.kind == "correction":
        receivable.credit(document.number, document.gross_total, at)
    receivable.pull_events()
    await uow.receivables.save(receivable)


async def dispute_receivable(
    uow: BillingUnitOfWork, invoice_number: str, reason: str, *, now: datetime
) -> Receivable:
    """The customer disputes the invoice: no further dunning notice goes out."""
    receivable = await uow.receivables.get(invoice_number)
    if receivable is None:
        raise NotFound("receivable", invoice_number)
    receivable.dispute(reason, now)
    await uow.receivables.save(receivable)
    return receivable
