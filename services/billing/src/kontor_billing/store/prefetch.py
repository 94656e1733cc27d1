"""What the invoicing handlers of one shared transaction will read, read ahead (ADR 0150).

A batch of order events (ADR 0110) used to read, per event, the order, whether it has
an invoice, the buyer's language and days to pay, and its unapplied payments: five
round trips each, on the one consumer group that numbers invoices one after another.
Here the same reads are one query per collection for the whole batch, remembered in
the transaction (``Transaction.remember``), where the repositories find them. Nothing
is written, and a handler reads for itself whatever is not remembered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kontor_contracts.envelope import Envelope
from kontor_contracts.events.orders import OrderPlaced

from kontor_billing.store.unit_of_work import MongoBillingUnitOfWork


async def prefetch_invoicing(
    items: Sequence[tuple[Any, Envelope]], uow: MongoBillingUnitOfWork
) -> None:
    order_ids = [str(event.order_id) for event, _ in items if hasattr(event, "order_id")]
    if not order_ids:
        return
    orders = await uow.orders.prefetch(order_ids)
    await uow.invoices.prefetch_for_orders(order_ids)
    await uow.payments.prefetch_unapplied(order_ids)
    emails = {order.placed.buyer.email for order in orders if order.placed is not None}
    emails |= {event.customer.email for event, _ in items if isinstance(event, OrderPlaced)}
    await uow.buyer_languages.prefetch(emails)
    await uow.buyer_terms.prefetch(emails)
