"""Subscription ``billing.invoicing``: invoices from orders' events.

The placed order is kept; the invoice follows its confirmation (or first shipment),
a cancellation after it gets a cancellation document, a refund a correction.
"""

from __future__ import annotations

from functools import partial

from kontor_contracts.events.orders import (
    OrderCancelled,
    OrderConfirmed,
    OrderPlaced,
    OrderRejected,
    OrderShipped,
    ReturnCompleted,
)
from kontor_servicekit.clock import Clock
from kontor_servicekit.consumer import Subscription

from kontor_billing.application.invoicing import (
    BillingPolicy,
    on_order_cancelled,
    on_order_confirmed,
    on_order_placed,
    on_order_rejected,
    on_order_shipped,
    on_return_completed,
)
from kontor_billing.store.prefetch import prefetch_invoicing
from kontor_billing.store.unit_of_work import MongoBillingUnitOfWork


def invoicing(clock: Clock, policy: BillingPolicy) -> Subscription:
    return Subscription(
        purpose="invoicing",
        description="Invoices confirmed orders; cancels them on cancellation, corrects "
        "them on refunds",
        handlers={
            OrderPlaced: partial(on_order_placed, clock=clock, policy=policy),
            OrderConfirmed: partial(on_order_confirmed, clock=clock, policy=policy),
            OrderShipped: partial(on_order_shipped, clock=clock, policy=policy),
            OrderRejected: partial(on_order_rejected, clock=clock, policy=policy),
            OrderCancelled: partial(on_order_cancelled, clock=clock, policy=policy),
            ReturnCompleted: partial(on_return_completed, clock=clock, policy=policy),
        },
        unit_of_work=MongoBillingUnitOfWork,
        unseal=True,  # the invoice names the buyer (ADR 0036)
        prefetch=prefetch_invoicing,  # one read per collection for a batch (ADR 0150)
    )
