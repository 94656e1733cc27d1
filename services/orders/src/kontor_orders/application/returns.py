"""Returns: the customer's two-step withdrawal (Widerruf), merchant returns, and the
receipt that settles a return (ReturnReceived, then ReturnCompleted with the refund)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from kontor_servicekit.clock import Clock
from kontor_servicekit.uow import Transactor

from kontor_orders.application.contract_events import (
    publish_order,
    publish_return,
    publish_withdrawal,
)
from kontor_orders.application.distance_sales import take_back_distance_sale
from kontor_orders.application.order_life import load_order
from kontor_orders.application.unit_of_work import OrdersUnitOfWork
from kontor_orders.domain.order import Order
from kontor_orders.domain.returns import (
    Inspected,
    Requested,
    Return,
    UnknownReturn,
    UnknownWithdrawal,
    Withdrawal,
    identified,
    require_note_for_override,
)


async def start_withdrawal(
    transactor: Transactor[OrdersUnitOfWork],
    *,
    order_number: str,
    email: str,
    lines: Requested | None,
    clock: Clock,
) -> Withdrawal:
    """Step 1: identify the order, choose the lines; nothing is declared yet."""
    now = clock()
    withdrawal_id = str(uuid.uuid4())

    async def work(uow: OrdersUnitOfWork) -> Withdrawal:
        order = identified(await uow.orders.by_number(order_number), order_number, email)
        withdrawal = Withdrawal.start(
            withdrawal_id=withdrawal_id, order=order, lines=lines, now=now
        )
        await uow.withdrawals.add(withdrawal)  # the order is not changed
        return withdrawal

    return await transactor.run(work)


async def confirm_withdrawal(
    transactor: Transactor[OrdersUnitOfWork],
    withdrawal_id: str,
    clock: Clock,
    *,
    language: str = "de",
) -> Return:
    """Step 2: the declaration. Received now; the period is checked against now.

    An order not shipped yet is cancelled (OrderCancelled: the catalog releases its
    reservation) and what was paid is refunded (ReturnCompleted).

    A second confirmation of the same withdrawal (a second click, a reload) answers the
    return of the first, with its time of receipt, and changes and publishes nothing.
    """
    now = clock()
    return_id = str(uuid.uuid4())

    async def work(uow: OrdersUnitOfWork) -> Return:
        withdrawal = await uow.withdrawals.get(withdrawal_id)
        if withdrawal is None:
            raise UnknownWithdrawal(withdrawal_id)
        if withdrawal.return_id is not None and (
            declared := await uow.returns.get(withdrawal.return_id)
        ):
            return declared
        withdrawal.declare(return_id, now)
        order = await load_order(uow, withdrawal.order_id)
        r = Return.of_withdrawal(return_id=return_id, order=order, withdrawal=withdrawal, now=now)
        await take_back_distance_sale(uow, order)
        await uow.orders.save(order)
        await uow.returns.add(r)
        await uow.withdrawals.save(withdrawal)
        publish_order(uow, order)
        publish_return(uow, r, currency=order.currency)
        publish_withdrawal(uow, withdrawal, r, order, language=language)
        return r

    return await transactor.run(work)


@dataclass(frozen=True)
class RequestReturn:
    order_id: str
    lines: Requested
    kind: str  # withdrawal | goodwill | complaint
    note: str | None = None
    override_deadline: bool = False


async def request_return(
    transactor: Transactor[OrdersUnitOfWork], command: RequestReturn, clock: Clock
) -> Return:
    """A return the merchant records (by phone, letter, complaint or goodwill).

    A withdrawal after the period is refused (DeadlinePassed) unless the merchant
    overrides it, which needs a note saying why.
    """
    require_note_for_override(command.override_deadline, command.note)
    now = clock()
    return_id = str(uuid.uuid4())

    async def work(uow: OrdersUnitOfWork) -> Return:
        order = await load_order(uow, command.order_id)
        r = Return.take_back(
            return_id=return_id,
            order=order,
            lines=command.lines,
            kind=command.kind,
            note=command.note,
            override_deadline=command.override_deadline,
            now=now,
        )
        await uow.orders.save(order)
        await uow.returns.add(r)
        publish_return(uow, r, currency=order.currency)
        return r

    return await transactor.run(work)


async def _settle(
    transactor: Transactor[OrdersUnitOfWork],
    return_id: str,
    change: Callable[[Return, Order], object],
) -> Return:
    async def work(uow: OrdersUnitOfWork) -> Return:
        r = await uow.returns.get(return_id)
        if r is None:
            raise UnknownReturn(return_id)
        order = await load_order(uow, r.order_id)
        change(r, order)
        await uow.orders.save(order)
        await uow.returns.save(r)
        publish_return(uow, r, currency=order.currency)
        return r

    return await transactor.run(work)


async def receive_return(
    transactor: Transactor[OrdersUnitOfWork],
    return_id: str,
    inspected: Inspected,
    clock: Clock,
) -> Return:
    """Goods arrived and were inspected: ReturnReceived (the catalog restocks); once
    every announced piece is in, the refund is decided at once: ReturnCompleted
    (billing issues the credit note). A partial receipt leaves the return open."""
    now = clock()
    return await _settle(transactor, return_id, lambda r, order: r.settle(order, inspected, now))


async def close_return(
    transactor: Transactor[OrdersUnitOfWork], return_id: str, reason: str, clock: Clock
) -> Return:
    """The merchant closes a return before every piece arrived: the rest is no longer
    expected, and the refund for what arrived is decided (ReturnCompleted)."""
    now = clock()
    return await _settle(transactor, return_id, lambda r, order: r.close(order, reason, now))
