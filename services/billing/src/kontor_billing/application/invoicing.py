"""Issuing the invoice of a placed order."""

from __future__ import annotations

import uuid

from kontor_contracts.envelope import Envelope
from kontor_contracts.events import common
from kontor_contracts.events.billing import InvoiceIssued, VatBreakdown
from kontor_contracts.events.billing import InvoiceLine as InvoiceLineEvent
from kontor_contracts.events.orders import OrderPlaced, ShippingCharge, ShippingVatPart
from kontor_servicekit.clock import Clock

from kontor_billing.application.unit_of_work import BillingUnitOfWork
from kontor_billing.domain.events import InvoiceWasIssued
from kontor_billing.domain.invoice import (
    Invoice,
    InvoiceLine,
    Party,
    invoice_number,
    numbering_year,
)


def invoice_issued(invoice: Invoice) -> InvoiceIssued:
    buyer = invoice.buyer
    return InvoiceIssued(
        invoice_id=invoice.id,
        number=invoice.number,
        order_id=invoice.order_id,
        order_number=invoice.order_number,
        customer=common.Customer(email=buyer.email, name=buyer.name),
        billing_address=common.Address(
            name=buyer.name,
            company=buyer.company,
            street=buyer.street,
            postcode=buyer.postcode,
            city=buyer.city,
            country=buyer.country,
        ),
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        currency=invoice.currency,
        lines=[
            InvoiceLineEvent(
                line_no=line.line_no,
                sku=line.sku,
                description=line.description,
                quantity=line.quantity,
                unit_price_net=line.unit_price_net,
                vat_rate=line.vat_rate,
                net=line.net,
                vat=line.vat,
                gross=line.gross,
            )
            for line in invoice.lines
        ],
        vat_breakdown=[
            VatBreakdown(
                vat_rate=row.vat_rate,
                net=row.net,
                vat=row.vat,
                gross=row.gross,
                category="S" if row.vat_rate > 0 else "Z",
            )
            for row in invoice.vat_breakdown
        ],
        net_total=invoice.net_total,
        vat_total=invoice.vat_total,
        gross_total=invoice.gross_total,
        buyer_vat_id=invoice.buyer_vat_id,
    )


async def on_order_placed(
    event: OrderPlaced, uow: BillingUnitOfWork, env: Envelope, *, clock: Clock
) -> None:
    """Issue the order's invoice with the next number of the year, and announce it.

    The number is taken in the same unit of work that stores the invoice, so an
    aborted unit gives it back and the year's numbers stay gap-free.
    """
    if await uow.invoices.for_order_exists(event.order_id):
        return
    issued_at = clock()
    year = numbering_year(issued_at)
    number = invoice_number(year, await uow.next_sequence(f"invoice:{year}"))
    address = event.billing_address or event.shipping_address
    lines = [
        InvoiceLine(
            line_no=line.line_no,
            sku=line.sku,
            description=line.name,
            quantity=line.quantity,
            unit_price_net=line.unit_price_net,
            vat_rate=line.vat_rate,
            net=line.line_net,
            vat=line.line_vat,
        )
        for line in event.lines
    ]
    if event.shipping is not None:
        # shipping follows the VAT of the goods: one line per rate it was split over
        shipping = event.shipping
        parts: list[ShippingVatPart | ShippingCharge] = [*(shipping.parts or [])] or [shipping]
        for part in parts:
            label = f"Versand ({shipping.method})"
            if len(parts) > 1:
                label += f", Anteil {(part.vat_rate * 100).normalize():f} %"
            lines.append(
                InvoiceLine(
                    line_no=len(lines) + 1,
                    sku=None,
                    description=label,
                    quantity=1,
                    unit_price_net=part.net,
                    vat_rate=part.vat_rate,
                    net=part.net,
                    vat=part.vat,
                )
            )
    invoice = Invoice.issue(
        invoice_id=str(uuid.uuid4()),
        number=number,
        order_id=event.order_id,
        order_number=event.order_number,
        buyer=Party(
            name=address.name,
            company=address.company,
            email=event.customer.email,
            street=address.street,
            postcode=address.postcode,
            city=address.city,
            country=address.country,
        ),
        currency=event.currency,
        lines=lines,
        issued_at=issued_at,
        buyer_vat_id=event.buyer_vat_id,
    )
    await uow.invoices.add(invoice)
    publish(uow, invoice)


def publish(uow: BillingUnitOfWork, invoice: Invoice) -> None:
    """Emit the contract events of what ``invoice`` recorded."""
    for recorded in invoice.pull_events():
        if isinstance(recorded, InvoiceWasIssued):
            uow.emit(invoice_issued(invoice), aggregate_id=invoice.id)
