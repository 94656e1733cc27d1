"""Support's read models of orders and billing, and the tickets their events open.

Each handler runs in the consumer's inbox transaction (``handler(event, uow, envelope,
*, clock)``). Amounts are kept as strings: the read model shows them, never adds them.
A ``ComplaintFiled`` and a ``PaymentOverdue`` at the last dunning level open a ticket
(or update the one that event's subject already has: ``source`` is its key).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from kontor_contracts.envelope import Envelope
from kontor_contracts.events.billing import (
    CreditNoteIssued,
    InvoiceIssued,
    PaymentOverdue,
    PaymentReceived,
    PaymentRefunded,
)
from kontor_contracts.events.common import Customer
from kontor_contracts.events.orders import (
    ComplaintFiled,
    OrderCancelled,
    OrderConfirmed,
    OrderDelivered,
    OrderPlaced,
    OrderShipped,
    ReturnCompleted,
    ReturnReceived,
    ReturnRequested,
)
from kontor_servicekit.clock import Clock
from kontor_servicekit.uow import Transactor

from kontor_support.application.tickets import new_ticket, store_event_note
from kontor_support.application.unit_of_work import SupportUnitOfWork
from kontor_support.domain.threading import normalise_email, normalise_phone, person_name


def _when(value: datetime | None, envelope: Envelope) -> datetime:
    return value or envelope.occurred_at


async def _remember(uow: SupportUnitOfWork, customer: Customer | None, at: datetime) -> None:
    email = normalise_email(customer.email) if customer else None
    if customer is None or email is None:
        return
    await uow.customers.remember(
        email,
        name=person_name(customer.name),
        phone=normalise_phone(customer.phone),
        customer_id=customer.customer_id,
        at=at,
    )


# --- orders ------------------------------------------------------------------------


async def on_order_placed(
    event: OrderPlaced, uow: SupportUnitOfWork, envelope: Envelope, *, clock: Clock
) -> None:
    await _remember(uow, event.customer, event.placed_at)
    await uow.order_context.set(
        event.order_id,
        {
            "order_id": event.order_id,
            "order_number": event.order_number,
            "email": normalise_email(event.customer.email),
            "customer_name": person_name(event.customer.name),
            "status": "placed",
            "placed_at": event.placed_at,
            "gross_total": str(event.gross_total),
            "currency": event.currency,
            "locale": event.locale,  # the customer's language (ADR 0122)
            "lines": [
                {"line_no": n, "sku": line.sku, "quantity": line.quantity}
                for n, line in enumerate(event.lines, start=1)
            ],
        },
        at=envelope.occurred_at,
    )


async def on_order_confirmed(
    event: OrderConfirmed, uow: SupportUnitOfWork, envelope: Envelope, *, clock: Clock
) -> None:
    await uow.order_context.set(event.order_id, {"status": "confirmed"}, at=envelope.occurred_at)


async def on_order_cancelled(
    event: OrderCancelled, uow: SupportUnitOfWork, envelope: Envelope, *, clock: Clock
) -> None:
    await uow.order_context.set(
        event.order_id,
        {"status": "cancelled", "cancel_reason": event.reason},
        at=envelope.occurred_at,
    )


async def on_order_shipped(
    event: OrderShipped, uow: SupportUnitOfWork, envelope: Envelope, *, clock: Clock
) -> None:
    await uow.order_context.add(
        event.order_id,
        "shipments",
        {
            "shipment_id": event.shipment_id,
            "carrier": event.carrier,
            "tracking_number": event.tracking_number,
            "tracking_url": event.tracking_url,
            "shipped_at": _when(event.shipped_at, envelope),
            "complete": event.complete,
            "delivered_at": None,
        },
        at=envelope.occurred_at,
    )
    await uow.order_context.set(
        event.order_id,
        {"status": "shipped" if event.complete else "partly_shipped"},
        at=envelope.occurred_at,
    )


async def on_order_delivered(
    event: OrderDelivered, uow: SupportUnitOfWork, envelope: Envelope, *, clock: Clock
) -> None:
    if event.shipment_id:
        await uow.order_context.update_item(
            event.order_id,
            "shipments",
            "shipment_id",
            event.shipment_id,
            {"delivered_at": event.delivered_at},
            at=envelope.occurred_at,
        )
    await uow.order_context.set(
        event.order_id,
        {"status": "delivered", "delivered_at": event.delivered_at},
        at=envelope.occurred_at,
    )


async def on_return_requested(
    event: ReturnRequested, uow: SupportUnitOfWork, envelope: Envelope, *, clock: Clock
) -> None:
    await uow.order_context.add(
        event.order_id,
        "returns",
        {
            "return_id": event.return_id,
            "status": "requested",
            "requested_at": event.requested_at,
            "withdrawal": event.withdrawal,
            "lines": [{"sku": line.sku, "quantity": line.quantity} for line in event.lines],
        },
        at=envelope.occurred_at,
    )


async def on_return_received(
    event: ReturnReceived, uow: SupportUnitOfWork, envelope: Envelope, *, clock: Clock
) -> None:
    await uow.order_context.update_item(
        event.order_id,
        "returns",
        "return_id",
        event.return_id,
        {"status": "received", "received_at": _when(event.received_at, envelope)},
        at=envelope.occurred_at,
    )


async def on_return_completed(
    event: ReturnCompleted, uow: SupportUnitOfWork, envelope: Envelope, *, clock: Clock
) -> None:
    await uow.order_context.update_item(
        event.order_id,
        "returns",
        "return_id",
        event.return_id,
        {
            "status": "completed",
            "completed_at": _when(event.completed_at, envelope),
            "refund_amount": str(event.refund_amount),
        },
        at=envelope.occurred_at,
    )


async def _ticket_from_event(
    uow: SupportUnitOfWork,
    *,
    source: str,
    order_id: str,
    customer: Customer | None,
    subject: str,
    body: str,
    category: str,
    priority: str,
    at: datetime,
) -> None:
    """Open the ticket of ``source``, or add the event's note to the one it has."""
    order = await uow.order_context.get(order_id) or {}
    ticket = await uow.tickets.by_source(source)
    created = ticket is None
    if ticket is None:
        email = normalise_email(customer.email) if customer else order.get("email")
        ticket = await new_ticket(
            uow,
            at,
            subject=subject,
            channel="web",
            actor="system",
            priority=priority,
            customer_email=email,
            customer_name=person_name(customer.name) if customer else order.get("customer_name"),
            category=category,
            source=source,
            order_id=order_id,
        )
        ticket.waiting_since = at  # the customer (or the money) waits for us
        if order.get("order_number"):
            ticket.link(order_numbers=[order["order_number"]], at=at)
    elif ticket.is_open or ticket.status == "solved":
        ticket.customer_wrote(at, actor="system")
    await store_event_note(uow, ticket, created=created, body=body, at=at)


async def on_complaint_filed(
    event: ComplaintFiled, uow: SupportUnitOfWork, envelope: Envelope, *, clock: Clock
) -> None:
    at = envelope.occurred_at
    await _remember(uow, event.customer, at)
    await uow.order_context.add(
        event.order_id,
        "complaints",
        {
            "complaint_id": event.complaint_id,
            "sku": event.sku,
            "kind": event.kind,
            "desired_remedy": event.desired_remedy,
            "filed_at": at,
        },
        at=envelope.occurred_at,
    )
    await _ticket_from_event(
        uow,
        source=f"ComplaintFiled:{event.complaint_id}",
        order_id=event.order_id,
        customer=event.customer,
        subject=f"Reklamation {event.sku}",
        body=event.description,
        category="complaint",
        priority="high",
        at=at,
    )


# --- billing -----------------------------------------------------------------------


async def on_invoice_issued(
    event: InvoiceIssued, uow: SupportUnitOfWork, envelope: Envelope, *, clock: Clock
) -> None:
    await _remember(uow, event.customer, envelope.occurred_at)
    await uow.order_context.add(
        event.order_id,
        "invoices",
        {
            "invoice_id": event.invoice_id,
            "number": event.number,
            "issue_date": event.issue_date.isoformat(),
            "due_date": event.due_date.isoformat(),
            "gross_total": str(event.gross_total),
            "currency": event.currency,
        },
        at=envelope.occurred_at,
    )
    values: dict[str, Any] = {"email": normalise_email(event.customer.email)}
    if event.order_number:
        values["order_number"] = event.order_number
    await uow.order_context.set(event.order_id, values, at=envelope.occurred_at)


async def on_credit_note_issued(
    event: CreditNoteIssued, uow: SupportUnitOfWork, envelope: Envelope, *, clock: Clock
) -> None:
    await uow.order_context.add(
        event.order_id,
        "credit_notes",
        {
            "credit_note_id": event.credit_note_id,
            "number": event.number,
            "invoice_id": event.invoice_id,
            "gross_total": str(event.gross_total),
            "currency": event.currency,
            "reason": event.reason,
            "return_id": event.return_id,
        },
        at=envelope.occurred_at,
    )


async def on_payment_received(
    event: PaymentReceived, uow: SupportUnitOfWork, envelope: Envelope, *, clock: Clock
) -> None:
    await uow.order_context.add(
        event.order_id,
        "payments",
        {
            "payment_id": event.payment_id,
            "amount": str(event.amount),
            "currency": event.currency,
            "method": event.method,
            "received_at": event.received_at,
            "invoice_number": event.invoice_number,
        },
        at=envelope.occurred_at,
    )


async def on_payment_refunded(
    event: PaymentRefunded, uow: SupportUnitOfWork, envelope: Envelope, *, clock: Clock
) -> None:
    await uow.order_context.add(
        event.order_id,
        "refunds",
        {
            "payment_id": event.payment_id,
            "amount": str(event.amount),
            "currency": event.currency,
            "method": event.method,
            "refunded_at": event.refunded_at,
        },
        at=envelope.occurred_at,
    )


async def on_payment_overdue(
    event: PaymentOverdue,
    uow: SupportUnitOfWork,
    envelope: Envelope,
    *,
    clock: Clock,
    last_dunning_level: int = 3,
) -> None:
    at = envelope.occurred_at
    await _remember(uow, event.customer, at)
    level = event.dunning_level or 0
    await uow.order_context.add(
        event.order_id,
        "dunning",
        {
            "invoice_number": event.invoice_number,
            "level": level,
            "notice_number": event.notice_number,
            "amount_due": str(event.amount_due),
            "currency": event.currency,
            "days_overdue": event.days_overdue,
            "at": at,
        },
        at=envelope.occurred_at,
    )
    await uow.order_context.set(event.order_id, {"dunning_level": level}, at=envelope.occurred_at)
    if level < last_dunning_level:
        return
    await _ticket_from_event(
        uow,
        source=f"PaymentOverdue:{event.invoice_id}",
        order_id=event.order_id,
        customer=event.customer,
        subject=f"Zahlung überfällig: {event.invoice_number or event.invoice_id}",
        body=f"{event.amount_due} {event.currency} seit {event.days_overdue} Tagen überfällig, "
        f"Mahnstufe {level} ({event.notice_number or 'ohne Nummer'}).",
        category="payment",
        priority="high",
        at=at,
    )


# --- time alone --------------------------------------------------------------------


async def open_undelivered_tickets(
    transactor: Transactor[SupportUnitOfWork],
    due: Callable[[datetime], Awaitable[list[str]]],
    *,
    clock: Clock,
    after: timedelta,
) -> int:
    """A ticket for each order shipped ``after`` ago and still not delivered (the
    parcel is probably lost: the agent asks the carrier before the customer asks us).
    ``due(shipped_before)`` names the orders; each is re-checked in its own unit of work
    and marked, so several replicas may sweep at once. Answers how many were opened."""
    now = clock()
    opened = 0
    for order_id in await due(now - after):

        async def work(uow: SupportUnitOfWork, order_id: str = order_id) -> bool:
            order = await uow.order_context.get(order_id)
            if order is None or order.get("status") != "shipped" or order.get("undelivered"):
                return False
            shipped = [s["shipped_at"] for s in order.get("shipments") or () if s.get("shipped_at")]
            if not shipped or min(shipped) > now - after:
                return False
            tracking = ", ".join(
                f"{s.get('carrier')} {s.get('tracking_number')}"
                for s in order.get("shipments") or ()
                if s.get("tracking_number")
            )
            days = (now - min(shipped)).days
            await _ticket_from_event(
                uow,
                source=f"NotDelivered:{order_id}",
                order_id=order_id,
                customer=None,
                subject=f"Nicht zugestellt: {order.get('order_number') or order_id}",
                body=f"Versandt vor {days} Tagen, keine Zustellung gemeldet. "
                f"Sendung: {tracking or 'ohne Sendungsnummer'}. Beim Versender nachforschen.",
                category="delivery",
                priority="high",
                at=now,
            )
            await uow.order_context.set(order_id, {"undelivered": True}, at=now)
            return True

        opened += await transactor.run(work)
    return opened
