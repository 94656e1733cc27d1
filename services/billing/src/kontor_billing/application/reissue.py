"""Storno + new invoice: ``POST /invoices/{number}/reissue`` (ADR 0025)."""

from __future__ import annotations

from dataclasses import replace

from kontor_servicekit.clock import Clock
from kontor_servicekit.domain_errors import Conflict, IllegalTransition

from kontor_billing.application.invoicing import (
    DEFAULT_POLICY,
    BillingPolicy,
    _an_invoice,
    _cancellation_of,
    _checked_and_numbered,
    _seller,
    _store,
    publish,
)
from kontor_billing.application.unit_of_work import BillingUnitOfWork
from kontor_billing.domain.invoice import Invoice, build_invoice
from kontor_billing.domain.reissue import BuyerCorrection, reissue_note
from kontor_billing.domain.seller import seller_missing_reason


async def reissue_invoice(
    uow: BillingUnitOfWork,
    number: str,
    correction: BuyerCorrection,
    *,
    clock: Clock,
    policy: BillingPolicy = DEFAULT_POLICY,
) -> Invoice:
    """A new invoice for the order of cancelled invoice ``number``: the order's lines as
    invoiced, the buyer as corrected, the next number of the invoice range, the next
    generation. Refused unless ``number`` is the order's latest invoice and cancelled."""
    invoice = await _an_invoice(uow, number, "reissue")
    cancellation = await _cancellation_of(uow, number)
    if cancellation is None:
        raise IllegalTransition(f"invoice {number}", "reissue", "issued (cancel it first)")
    latest = await uow.invoices.invoice_of(invoice.order_id)
    if latest is not None and latest.number != number:
        raise Conflict(f"invoice {number} was reissued already as {latest.number}")
    order = await uow.orders.get(invoice.order_id)
    if order is None or order.placed is None:
        raise Conflict(f"billing holds no placed order {invoice.order_id} to invoice again")
    if order.cancelled or order.rejected:
        state = "cancelled" if order.cancelled else "rejected"
        raise IllegalTransition(f"order {order.order_id}", "invoice again", state)
    seller = await _seller(uow, policy)
    missing = seller_missing_reason(seller)
    if missing is not None or seller is None:
        raise Conflict(f"no invoice can be issued: {missing}")
    corrected = replace(
        order, placed=replace(order.placed, buyer=correction.applied_to(invoice.buyer))
    )
    issued_at = clock()

    def make(document_id: str, new_number: str) -> Invoice:
        new = build_invoice(
            corrected,
            invoice_id=document_id,
            number=new_number,
            seller=seller,
            issued_at=issued_at,
            small_business=policy.small_business,
        )
        new.generation = invoice.generation + 1
        new.notes.append(reissue_note(number, cancellation.number))
        return new

    reissued = await _checked_and_numbered(uow, "invoice", issued_at, policy, make)
    await _store(uow, reissued, at=issued_at)
    order.invoice_number = reissued.number
    await uow.orders.save(order)
    publish(uow, reissued)
    return reissued
