"""Billing's use cases: the invoice of a confirmed (or shipped) order, its cancellation
(Storno), its corrections for refunds, and the seller's master data.

Every document is numbered in the same unit of work that stores it (an aborted unit
gives the number back, so each range stays gap-free) and lands on the audit chain of
its number range in that unit too.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from kontor_contracts.envelope import Envelope
from kontor_contracts.events import common
from kontor_contracts.events.billing import (
    CreditNoteIssued,
    InvoiceCancelled,
    InvoiceIssued,
    VatBreakdown,
)
from kontor_contracts.events.billing import InvoiceLine as InvoiceLineEvent
from kontor_contracts.events.orders import (
    OrderCancelled,
    OrderConfirmed,
    OrderPlaced,
    OrderRejected,
    OrderShipped,
    ReturnCompleted,
    ShippingCharge,
    ShippingVatPart,
)
from kontor_servicekit.clock import Clock
from kontor_servicekit.domain_errors import Conflict, IllegalTransition, NotFound

from kontor_billing.application.buyer_language import with_buyer_language
from kontor_billing.application.document_check import (
    DocumentCheck,
    provisional_number,
    refusal,
    refused,
    waiting_reason,
)
from kontor_billing.application.payments import release_held_payments
from kontor_billing.application.receivables import on_document_issued
from kontor_billing.application.unit_of_work import BillingUnitOfWork
from kontor_billing.domain.audit import next_entry
from kontor_billing.domain.events import (
    CorrectionWasIssued,
    InvoiceWasCancelled,
    InvoiceWasIssued,
)
from kontor_billing.domain.invoice import (
    Invoice,
    Kind,
    Refunded,
    build_invoice,
    document_number,
    number_range,
    numbering_year,
    refund_lines,
)
from kontor_billing.domain.order import (
    BilledOrder,
    Buyer,
    InvoiceOn,
    OrderedLine,
    PlacedOrder,
    language_of,
)
from kontor_billing.domain.seller import EXAMPLE_SELLER, Seller, seller_missing_reason

#: How many waiting invoices one PUT /seller issues (the rest on the next event or PUT).
WAITING_BATCH = 500


@dataclass(frozen=True)
class BillingPolicy:
    """The merchant's choices (settings) the use cases follow."""

    invoice_on: InvoiceOn = "confirmed"
    example_seller: bool = True
    """No seller PUT yet: issue with the example seller, marked sample (``make run``)."""
    small_business: bool = False
    """§19 UStG: no VAT shown, the note instead."""
    invoice_prefix: str = "RE-"
    cancellation_prefix: str = "ST-"
    correction_prefix: str = "KR-"
    check_documents: DocumentCheck | None = None
    """The e-invoice rules a document must pass before its number is taken (ADR 0025);
    None: not checked (unit tests of other rules)."""

    def prefix(self, kind: Kind) -> str:
        return {
            "invoice": self.invoice_prefix,
            "cancellation": self.cancellation_prefix,
            "correction": self.correction_prefix,
        }[kind]


DEFAULT_POLICY = BillingPolicy()


# ------------------------------------------------------------------ the read model


def placed_order(event: OrderPlaced) -> PlacedOrder:
    """What billing keeps of an OrderPlaced to invoice it later."""
    address = event.billing_address or event.shipping_address
    lines = [
        OrderedLine(
            line_no=line.line_no,
            sku=line.sku,
            description=line.name,
            quantity=line.quantity,
            unit_price_net=line.unit_price_net,
            unit_price_gross=line.unit_price_gross,
            vat_rate=line.vat_rate,
            net=line.line_net,
            vat=line.line_vat,
        )
        for line in event.lines
    ]
    shipping_lines: list[OrderedLine] = []
    if event.shipping is not None:
        # shipping follows the VAT of the goods: one line per rate it was split over
        shipping = event.shipping
        parts: list[ShippingVatPart | ShippingCharge] = [*(shipping.parts or [])] or [shipping]
        for part in parts:
            label = f"Versand ({shipping.method})"
            if len(parts) > 1:
                label += f", Anteil {(part.vat_rate * 100).normalize():f} %"
            shipping_lines.append(
                OrderedLine(
                    line_no=len(lines) + len(shipping_lines) + 1,
                    sku=None,
                    description=label,
                    quantity=1,
                    unit_price_net=part.net,
                    unit_price_gross=part.gross,
                    vat_rate=part.vat_rate,
                    net=part.net,
                    vat=part.vat,
                )
            )
    return PlacedOrder(
        order_number=event.order_number,
        buyer=Buyer(
            name=address.name,
            company=address.company,
            email=event.customer.email,
            street=address.street,
            postcode=address.postcode,
            city=address.city,
            country=address.country,
            vat_id=event.buyer_vat_id,
            buyer_reference=getattr(event, "buyer_reference", None),
            language=language_of(event.locale),
        ),
        currency=event.currency,
        lines=lines,
        shipping=shipping_lines,
        placed_at=event.placed_at,
        exemption_note=event.vat_exemption.reason if event.vat_exemption else None,
        discount_gross=event.discount_gross,
        coupon_codes=tuple(event.coupon_codes),
        destination_country=event.shipping_address.country,
        vat_country=event.vat_country,
        payment_method=event.payment_method,
    )


async def _order(uow: BillingUnitOfWork, order_id: str) -> BilledOrder:
    return await uow.orders.get(order_id) or BilledOrder(order_id=order_id)


async def on_order_placed(
    event: OrderPlaced,
    uow: BillingUnitOfWork,
    env: Envelope,
    *,
    clock: Clock,
    policy: BillingPolicy = DEFAULT_POLICY,
) -> None:
    """Keep the placed order, release the payments a provider reported before it came
    (ADR 0148); invoice it if its confirmation came first."""
    order = await _order(uow, event.order_id)
    if order.placed is None:
        order.placed = placed_order(event)
    if order.payments_held:  # flagged on the order's document: no read on the usual path
        await release_held_payments(uow, order)
    await _invoice_if_due(uow, order, clock=clock, policy=policy)


async def on_order_confirmed(
    event: OrderConfirmed,
    uow: BillingUnitOfWork,
    env: Envelope,
    *,
    clock: Clock,
    policy: BillingPolicy = DEFAULT_POLICY,
) -> None:
    order = await _order(uow, event.order_id)
    if order.confirmed_at is None:
        order.confirmed_at = event.confirmed_at or env.occurred_at
    await _invoice_if_due(uow, order, clock=clock, policy=policy)


async def on_order_shipped(
    event: OrderShipped,
    uow: BillingUnitOfWork,
    env: Envelope,
    *,
    clock: Clock,
    policy: BillingPolicy = DEFAULT_POLICY,
) -> None:
    order = await _order(uow, event.order_id)
    if order.shipped_at is None:
        order.shipped_at = event.shipped_at or env.occurred_at
    await _invoice_if_due(uow, order, clock=clock, policy=policy)


async def on_order_rejected(
    event: OrderRejected,
    uow: BillingUnitOfWork,
    env: Envelope,
    *,
    clock: Clock,
    policy: BillingPolicy = DEFAULT_POLICY,
) -> None:
    """A rejected order is never invoiced."""
    order = await _order(uow, event.order_id)
    order.rejected = True
    order.waiting = None
    await uow.orders.save(order)


async def on_order_cancelled(
    event: OrderCancelled,
    uow: BillingUnitOfWork,
    env: Envelope,
    *,
    clock: Clock,
    policy: BillingPolicy = DEFAULT_POLICY,
) -> None:
    """Before its invoice: never invoiced. After: the invoice is cancelled (Storno)."""
    order = await _order(uow, event.order_id)
    order.cancelled = True
    order.waiting = None
    await uow.orders.save(order)
    invoice = await uow.invoices.invoice_of(event.order_id)
    if invoice is None or await _cancellation_of(uow, invoice.number) is not None:
        return
    await _cancel(uow, invoice, f"Auftrag storniert ({event.reason})", clock=clock, policy=policy)


async def on_return_completed(
    event: ReturnCompleted,
    uow: BillingUnitOfWork,
    env: Envelope,
    *,
    clock: Clock,
    policy: BillingPolicy = DEFAULT_POLICY,
) -> None:
    """A refund (of a return or a complaint) gets its correction (Rechnungskorrektur)."""
    if event.refund_amount <= 0:
        return
    invoice = await uow.invoices.invoice_of(event.order_id)
    if invoice is None:
        return  # nothing invoiced, nothing to correct
    referring = await uow.invoices.referring_to(invoice.number)
    if any(d.kind == "correction" and d.return_id == event.return_id for d in referring):
        return
    lines = refund_lines(
        invoice,
        Refunded(
            lines=[(line.line_no, line.quantity) for line in event.lines],
            includes_shipping=event.includes_shipping,
            amount_gross=event.refund_amount,
        ),
    )
    issued_at = clock()
    seller = await _seller(uow, policy) or invoice.seller or EXAMPLE_SELLER
    correction = await _checked_and_numbered(
        uow,
        "correction",
        issued_at,
        policy,
        lambda doc_id, number: invoice.correction(
            correction_id=doc_id,
            number=number,
            issued_at=issued_at,
            lines=lines,
            reason=f"Erstattung {event.return_id}",
            return_id=event.return_id,
            seller=seller,
        ),
    )
    await _store(uow, correction, at=issued_at)
    await _chain(
        uow,
        invoice.number,
        "corrected",
        await uow.invoices.sha256_of(invoice.number),
        at=issued_at,
        detail=correction.number,
    )
    publish(uow, correction)


# ------------------------------------------------------------------ issuing


async def _seller(uow: BillingUnitOfWork, policy: BillingPolicy) -> Seller | None:
    seller = await uow.seller.current()
    if seller is None and policy.example_seller:
        return EXAMPLE_SELLER
    return seller


async def _next_number(
    uow: BillingUnitOfWork, kind: Kind, issued_at: datetime, policy: BillingPolicy
) -> str:
    year = numbering_year(issued_at)
    return document_number(policy.prefix(kind), year, await uow.next_sequence(f"{kind}:{year}"))


async def _chain(
    uow: BillingUnitOfWork,
    number: str,
    action: str,
    sha256: str,
    *,
    at: datetime,
    detail: str | None = None,
) -> None:
    chain = number_range(number)
    last = await uow.audit.last(chain)
    await uow.audit.append(
        next_entry(
            last,
            chain=chain,
            seq=last.seq + 1 if last else 1,
            number=number,
            action=action,
            document_sha256=sha256,
            at=at,
            detail=detail,
        )
    )


async def _store(
    uow: BillingUnitOfWork, document: Invoice, *, at: datetime, order: BilledOrder | None = None
) -> None:
    sha256 = await uow.invoices.add(document)
    await _chain(uow, document.number, "issued", sha256, at=at)
    await on_document_issued(uow, document, at=at, order=order)


async def _invoice_if_due(
    uow: BillingUnitOfWork, order: BilledOrder, *, clock: Clock, policy: BillingPolicy
) -> Invoice | None:
    """Issue the order's invoice when it is due and the seller's data allows it.

    The number is taken in the same unit of work that stores the invoice, so an
    aborted unit gives it back and the year's numbers stay gap-free.
    """
    if not order.due(policy.invoice_on) or await uow.invoices.for_order_exists(order.order_id):
        await uow.orders.save(order)
        return None
    seller = await _seller(uow, policy)
    reason = seller_missing_reason(seller)
    if reason is not None or seller is None:
        order.waiting = reason
        await uow.orders.save(order)
        return None
    issued_at = clock()
    order = await with_buyer_language(uow, order)
    rule_ids = await _broken_rules(order, seller, issued_at, policy)
    if rule_ids:  # no number is taken: the order waits until the data is fixed
        order.waiting = waiting_reason(rule_ids)
        order.rule_ids = rule_ids
        await uow.orders.save(order)
        return None
    invoice = build_invoice(
        order,
        invoice_id=str(uuid.uuid4()),
        number=await _next_number(uow, "invoice", issued_at, policy),
        seller=seller,
        issued_at=issued_at,
        small_business=policy.small_business,
    )
    await _store(uow, invoice, at=issued_at, order=order)
    order.invoice_number = invoice.number
    order.waiting = None
    order.rule_ids = []
    await uow.orders.save(order)
    publish(uow, invoice)
    return invoice


async def _broken_rules(
    order: BilledOrder, seller: Seller, issued_at: datetime, policy: BillingPolicy
) -> list[str]:
    """The rules the order's invoice would break, checked on a draft with a provisional
    number (ADR 0025)."""
    if policy.check_documents is None:
        return []
    draft = build_invoice(
        order,
        invoice_id="draft",
        number=provisional_number(policy.invoice_prefix, issued_at),
        seller=seller,
        issued_at=issued_at,
        small_business=policy.small_business,
    )
    return await refused(policy.check_documents, draft)


async def _checked_and_numbered(
    uow: BillingUnitOfWork,
    kind: Kind,
    issued_at: datetime,
    policy: BillingPolicy,
    make: Callable[[str, str], Invoice],
) -> Invoice:
    """``make(id, number)``'s document: first as a draft with a provisional number against
    the e-invoice rules, then numbered. A refused one takes no number (ADR 0025); in a
    consumer it is dead-lettered with the rule ids and replayed once the data is fixed."""
    draft = make("draft", provisional_number(policy.prefix(kind), issued_at))
    rule_ids = await refused(policy.check_documents, draft)
    if rule_ids:
        raise refusal(kind, rule_ids)
    return make(str(uuid.uuid4()), await _next_number(uow, kind, issued_at, policy))


async def _cancellation_of(uow: BillingUnitOfWork, number: str) -> Invoice | None:
    referring = await uow.invoices.referring_to(number)
    return next((d for d in referring if d.kind == "cancellation"), None)


async def _cancel(
    uow: BillingUnitOfWork, invoice: Invoice, reason: str, *, clock: Clock, policy: BillingPolicy
) -> Invoice:
    issued_at = clock()
    seller = await _seller(uow, policy) or invoice.seller or EXAMPLE_SELLER
    cancellation = await _checked_and_numbered(
        uow,
        "cancellation",
        issued_at,
        policy,
        lambda doc_id, number: invoice.cancellation(
            cancellation_id=doc_id,
            number=number,
            issued_at=issued_at,
            reason=reason,
            seller=seller,
        ),
    )
    await _store(uow, cancellation, at=issued_at)
    await _chain(
        uow,
        invoice.number,
        "cancelled",
        await uow.invoices.sha256_of(invoice.number),
        at=issued_at,
        detail=cancellation.number,
    )
    publish(uow, cancellation)
    return cancellation


async def _an_invoice(uow: BillingUnitOfWork, number: str, action: str) -> Invoice:
    """Invoice ``number`` (not a cancellation or correction), for ``action`` on it."""
    invoice = await uow.invoices.by_number(number)
    if invoice is None:
        raise NotFound("invoice", number)
    if invoice.kind != "invoice":
        raise IllegalTransition(f"{invoice.kind} {number}", action, "a document of its own")
    return invoice


async def cancel_invoice(
    uow: BillingUnitOfWork,
    number: str,
    reason: str | None,
    *,
    clock: Clock,
    policy: BillingPolicy = DEFAULT_POLICY,
) -> Invoice:
    """The merchant cancels invoice ``number``: its cancellation document (Storno)."""
    invoice = await _an_invoice(uow, number, "cancel")
    done = await _cancellation_of(uow, number)
    if done is not None:
        raise Conflict(f"invoice {number} is already cancelled by {done.number}")
    return await _cancel(uow, invoice, reason or "Storno", clock=clock, policy=policy)


async def update_seller(
    uow: BillingUnitOfWork, seller: Seller, *, clock: Clock, policy: BillingPolicy = DEFAULT_POLICY
) -> list[Invoice]:
    """Store the merchant's data (for documents issued from now on) and issue the
    invoices that waited for it. Returns those invoices."""
    await uow.seller.save(replace(seller, sample=False))
    issued = []
    for order in await uow.orders.waiting(WAITING_BATCH):
        invoice = await _invoice_if_due(uow, order, clock=clock, policy=policy)
        if invoice is not None:
            issued.append(invoice)
    return issued


# ------------------------------------------------------------------ contract events


def _vat_rows(invoice: Invoice) -> list[VatBreakdown]:
    return [
        VatBreakdown(
            vat_rate=row.vat_rate,
            net=abs(row.net),
            vat=abs(row.vat),
            gross=abs(row.gross),
            category=row.category,
        )
        for row in invoice.vat_breakdown
    ]


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
        delivery_date=invoice.supply_date,
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
        vat_breakdown=_vat_rows(invoice),
        net_total=invoice.net_total,
        vat_total=invoice.vat_total,
        gross_total=invoice.gross_total,
        buyer_vat_id=invoice.buyer_vat_id,
    )


def publish(uow: BillingUnitOfWork, document: Invoice) -> None:
    """Emit the contract events of what ``document`` recorded."""
    for recorded in document.pull_events():
        if isinstance(recorded, InvoiceWasIssued):
            uow.emit(invoice_issued(document), aggregate_id=document.id)
        elif isinstance(recorded, InvoiceWasCancelled):
            assert document.original_number is not None
            uow.emit(
                InvoiceCancelled(
                    invoice_id=recorded.invoice_id,
                    number=document.original_number,
                    reason=document.reason or "Storno",
                    cancellation_number=document.number,
                    order_id=document.order_id,
                    cancelled_at=document.issued_at,
                ),
                aggregate_id=recorded.invoice_id,
            )
        elif isinstance(recorded, CorrectionWasIssued):
            assert document.original_id is not None
            uow.emit(
                CreditNoteIssued(
                    credit_note_id=document.id,
                    number=document.number,
                    invoice_id=document.original_id,
                    order_id=document.order_id,
                    currency=document.currency,
                    net_total=-document.net_total,
                    vat_total=-document.vat_total,
                    gross_total=-document.gross_total,
                    reason=document.reason or "Erstattung",
                    return_id=document.return_id,
                    vat_breakdown=_vat_rows(document),
                    issue_date=document.issue_date,
                ),
                aggregate_id=document.original_id,
            )
