"""Prepayment orders not paid in time: cancelled by a sweeper, so their reserved stock
goes back (``orders_prepayment_days``; issue 10 point 14).

An order paid by prepayment (Vorkasse) holds its stock from confirmation on. If no
payment comes within the days set, the order is cancelled with the reason
``prepayment_not_received`` by ``system``: OrderCancelled, on which the catalog
releases the reservation (StockReleased, reason ``expired``). The customer is told by
the cancellation on the order's timeline (support's mail, once it sends mail).
"""

from __future__ import annotations

from datetime import timedelta

from kontor_servicekit.clock import Clock
from kontor_servicekit.uow import Transactor

from kontor_orders.application.contract_events import publish_order
from kontor_orders.application.distance_sales import take_back_distance_sale
from kontor_orders.application.order_life import load_order
from kontor_orders.application.unit_of_work import OrdersUnitOfWork


async def cancel_unpaid_prepayments(
    transactor: Transactor[OrdersUnitOfWork], *, days: int, clock: Clock
) -> int:
    """Cancel the prepayment orders unpaid ``days`` after placement; how many were.

    Each order in its own unit of work, re-checked inside it: a payment booked
    meanwhile wins (the write conflict retries and finds the order paid).
    """
    now = clock()
    due = await transactor.run(
        lambda uow: uow.orders.awaiting_prepayment(now - timedelta(days=days))
    )
    cancelled = 0
    for order_id in due:

        async def work(uow: OrdersUnitOfWork, order_id: str = order_id) -> bool:
            order = await load_order(uow, order_id)
            order.expire_prepayment(now, days)
            if not order.recorded_events:
                return False
            await take_back_distance_sale(uow, order)
            await uow.orders.save(order)
            publish_order(uow, order)
            return True

        cancelled += await transactor.run(work)
    return cancelled
