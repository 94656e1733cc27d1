"""Subscriptions on orders' and billing's topics: support's context read models, and the
tickets that complaints and the last dunning level open."""

from __future__ import annotations

from functools import partial

from kontor_contracts.events.billing import (
    CreditNoteIssued,
    InvoiceIssued,
    PaymentOverdue,
    PaymentReceived,
    PaymentRefunded,
)
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
from kontor_servicekit.consumer import Subscription

from kontor_support.application import context
from kontor_support.store.unit_of_work import MongoSupportUnitOfWork


def context_from_orders(clock: Clock) -> Subscription:
    return Subscription(
        purpose="order-context",
        description="Keeps each customer's orders, shipments with tracking, returns and "
        "complaints for the tickets' context; a complaint opens a ticket",
        handlers={
            OrderPlaced: partial(context.on_order_placed, clock=clock),
            OrderConfirmed: partial(context.on_order_confirmed, clock=clock),
            OrderCancelled: partial(context.on_order_cancelled, clock=clock),
            OrderShipped: partial(context.on_order_shipped, clock=clock),
            OrderDelivered: partial(context.on_order_delivered, clock=clock),
            ReturnRequested: partial(context.on_return_requested, clock=clock),
            ReturnReceived: partial(context.on_return_received, clock=clock),
            ReturnCompleted: partial(context.on_return_completed, clock=clock),
            ComplaintFiled: partial(context.on_complaint_filed, clock=clock),
        },
        unit_of_work=MongoSupportUnitOfWork,
        unseal=True,  # the customer's name and e-mail for the tickets (ADR 0036)
    )


def context_from_billing(clock: Clock, *, last_dunning_level: int) -> Subscription:
    return Subscription(
        purpose="billing-context",
        description="Keeps each order's invoices, credit notes, payments, refunds and "
        "dunning level; the last dunning level opens a ticket",
        handlers={
            InvoiceIssued: partial(context.on_invoice_issued, clock=clock),
            CreditNoteIssued: partial(context.on_credit_note_issued, clock=clock),
            PaymentReceived: partial(context.on_payment_received, clock=clock),
            PaymentRefunded: partial(context.on_payment_refunded, clock=clock),
            PaymentOverdue: partial(
                context.on_payment_overdue, clock=clock, last_dunning_level=last_dunning_level
            ),
        },
        unit_of_work=MongoSupportUnitOfWork,
        unseal=True,  # the customer's name and e-mail for the tickets (ADR 0036)
    )
