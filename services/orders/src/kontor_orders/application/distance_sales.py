"""Taking a rejected or cancelled order off the year's distance sales (ADR 0026): it was
never supplied, so it does not count toward the One-Stop-Shop threshold."""

from __future__ import annotations

from kontor_servicekit.clock import BERLIN

from kontor_orders.application.unit_of_work import OrdersUnitOfWork
from kontor_orders.domain.order import Order


async def take_back_distance_sale(uow: OrdersUnitOfWork, order: Order) -> None:
    """Before saving ``order``: if it was counted and is closed now, subtract it from the
    total of the year it was placed in (in the same transaction)."""
    net = order.take_back_distance_sale()
    if net is not None:
        await uow.distance_sales.add(order.placed_at.astimezone(BERLIN).year, -net)
