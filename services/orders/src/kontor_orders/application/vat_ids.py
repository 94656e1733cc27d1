"""A merchant confirms a buyer's VAT id by hand (the VIES check is an online service).

At placement the VAT id's format and check digits are checked offline and its VIES
confirmation is recorded as pending (``Order.vat_id_check``); the merchant looks it
up in VIES (qualified confirmation, §18e UStG) and records the result here.
"""

from __future__ import annotations

from kontor_servicekit.clock import Clock
from kontor_servicekit.uow import Transactor

from kontor_orders.application.order_life import load_order
from kontor_orders.application.unit_of_work import OrdersUnitOfWork
from kontor_orders.domain.order import Order


async def confirm_vat_id(
    transactor: Transactor[OrdersUnitOfWork],
    order_id: str,
    *,
    confirmed_by: str,
    reference: str | None,
    clock: Clock,
) -> Order:
    """Record the VIES confirmation on the order's timeline; again: no change."""
    now = clock()

    async def work(uow: OrdersUnitOfWork) -> Order:
        order = await load_order(uow, order_id)
        before = order.vat_id_check
        order.confirm_vat_id(by=confirmed_by, reference=reference, now=now)
        if order.vat_id_check != before:
            await uow.orders.save(order)
        return order

    return await transactor.run(work)
